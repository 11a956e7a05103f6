"""The signature check, against vectors computed by OpenSSL rather than by our own code."""

from __future__ import annotations

import subprocess

import pytest

from config.signing import compute_signature, secret_fingerprint
from receiver.signature import presented_digest, verify_signature

BODY = (
    b'{"event":"generation.ready","timestamp":"2025-01-01T00:00:00.000Z",'
    b'"data":{"id":"5f0c3b9e-1111-4b4b-9c9c-000000000001"}}'
)


def openssl_hmac(body: bytes, secret: str) -> str:
    """Hex HMAC-SHA256 of `body`, computed by the openssl command line tool."""
    out = subprocess.run(
        ["openssl", "dgst", "-sha256", "-hmac", secret],
        input=body,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return out.strip().rsplit(" ", 1)[-1]


class TestComputeSignature:
    @pytest.mark.parametrize(
        ("body", "secret"),
        [
            (BODY, "whsec_abc"),
            (b"", "k"),
            ('{"event":"voice.cloned","data":{"name":"Zoë"}}'.encode(), "s3cr3t-ü"),
            (bytes(range(256)), "binary-body"),
        ],
    )
    def test_matches_openssl(self, body: bytes, secret: str) -> None:
        """Our header value is `sha256=` plus exactly what OpenSSL computes."""
        assert compute_signature(body, secret.encode()) == "sha256=" + openssl_hmac(body, secret)


class TestVerifySignature:
    def test_accepts_an_openssl_signature(self) -> None:
        """A header made by OpenSSL verifies against the same secret."""
        header = "sha256=" + openssl_hmac(BODY, "whsec_abc")
        assert verify_signature(BODY, header, [b"whsec_abc"]) == 0

    def test_reports_which_secret_matched(self) -> None:
        """During rotation the index says which secret (newest first) verified the body."""
        header = "sha256=" + openssl_hmac(BODY, "old")
        assert verify_signature(BODY, header, [b"new", b"old"]) == 1

    def test_accepts_uppercase_hex(self) -> None:
        """Hex case is not part of the secret; an uppercase digest still verifies."""
        header = "sha256=" + openssl_hmac(BODY, "k").upper()
        assert verify_signature(BODY, header, [b"k"]) == 0

    def test_rejects_one_changed_byte(self) -> None:
        """Changing a single byte of the body breaks the signature."""
        header = "sha256=" + openssl_hmac(BODY, "k")
        tampered = BODY.replace(b"0001", b"0002")
        assert verify_signature(tampered, header, [b"k"]) is None

    def test_rejects_wrong_secret(self) -> None:
        """A body signed with an unknown secret does not verify."""
        header = "sha256=" + openssl_hmac(BODY, "attacker")
        assert verify_signature(BODY, header, [b"new", b"old"]) is None

    @pytest.mark.parametrize(
        "header",
        [
            None,
            "",
            "sha256=",
            "sha256=abc",
            "sha1=" + "a" * 64,
            "sha256=" + "g" * 64,
            "sha256=" + "a" * 65,
            "sha256=" + "a" * 32 + " " + "a" * 31,
            "a" * 64,
        ],
    )
    def test_rejects_malformed_headers(self, header: str | None) -> None:
        """Anything but `sha256=<64 hex>` is refused before any HMAC is computed."""
        assert presented_digest(header) is None
        assert verify_signature(BODY, header, [b"k"]) is None


class TestSecretFingerprint:
    def test_is_stable_and_does_not_contain_the_secret(self) -> None:
        """The stored fingerprint names a secret without revealing it."""
        fingerprint = secret_fingerprint(b"whsec_abc")
        assert fingerprint == secret_fingerprint(b"whsec_abc")
        assert fingerprint != secret_fingerprint(b"whsec_abd")
        assert "whsec" not in fingerprint
        assert len(fingerprint) == 12
