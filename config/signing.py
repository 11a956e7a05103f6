"""The HMAC primitive of the webhook contract, shared by the receiver and the sandbox."""

import hashlib
import hmac

SIGNATURE_HEADER = "X-Voiceproductionai-Signature"
SIGNATURE_PREFIX = "sha256="


def compute_signature(body: bytes, secret: bytes) -> str:
    """The header value the upstream sends: `sha256=` and the hex HMAC-SHA256 of the raw body."""
    return SIGNATURE_PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def secret_fingerprint(secret: bytes) -> str:
    """A short, non-reversible name for a secret, safe to store and log."""
    return hashlib.sha256(b"voicehook-secret-fingerprint:" + secret).hexdigest()[:12]
