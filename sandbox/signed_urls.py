"""Download links: `/files/<name>?expires=<unix>&signature=<hex>`, valid without an API key."""

from __future__ import annotations

import hmac
import math
from urllib.parse import urlencode

from config.signing import SIGNATURE_PREFIX, compute_signature
from sandbox.clock import Clock
from sandbox.errors import InvalidUrlSignature, UrlExpired

FILES_PREFIX = "/files/"


class UrlSigner:
    """Signs and checks (file name, expiry) pairs with a secret only the sandbox knows."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def signature(self, name: str, expires: int) -> str:
        message = f"{name}\n{expires}".encode()
        return compute_signature(message, self._secret).removeprefix(SIGNATURE_PREFIX)

    def query(self, name: str, expires: int) -> str:
        return urlencode({"expires": expires, "signature": self.signature(name, expires)})

    def verify(self, name: str, expires: str | None, signature: str | None, now: float) -> None:
        """Raise unless the link is untampered and `now` (unix seconds) is before its expiry."""
        if not expires or not signature or not expires.isdigit():
            raise InvalidUrlSignature("the link is missing its expiry or signature")
        if not hmac.compare_digest(self.signature(name, int(expires)), signature):
            raise InvalidUrlSignature("the link's signature does not match")
        if now >= int(expires):
            raise UrlExpired("the link has expired; GET the generation again for a fresh one")


class DownloadLinks:
    """Builds absolute signed links on the sandbox's own host, valid for `ttl` seconds."""

    def __init__(self, base_url: str, signer: UrlSigner, clock: Clock, ttl: float) -> None:
        self._base_url = base_url.rstrip("/")
        self._signer = signer
        self._clock = clock
        self._ttl = ttl

    def verify(self, name: str, expires: str | None, signature: str | None) -> None:
        """Raise 403 `invalid_signature` or `url_expired` unless the link is good right now."""
        self._signer.verify(name, expires, signature, self._clock.now().timestamp())

    def fresh(self, name: str) -> str:
        expires = math.ceil(self._clock.now().timestamp() + self._ttl)
        return self._link(name, expires)

    def expired(self, name: str) -> str:
        """A correctly signed link whose expiry has already passed (the expired-URL fault)."""
        expires = math.floor(self._clock.now().timestamp()) - 1
        return self._link(name, expires)

    def _link(self, name: str, expires: int) -> str:
        return f"{self._base_url}{FILES_PREFIX}{name}?{self._signer.query(name, expires)}"
