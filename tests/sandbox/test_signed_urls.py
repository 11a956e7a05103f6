"""Signed download links, as pure objects."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox.clock import SandboxClock
from sandbox.errors import InvalidUrlSignature, UrlExpired
from sandbox.signed_urls import DownloadLinks, UrlSigner

NAME = "7ec4001c-514f-4f93-8c0a-bc14c2eddf1d.wav"


class TestUrlSigner:
    signer = UrlSigner(b"secret")

    def test_accepts_its_own_signature_before_expiry(self) -> None:
        """A link signed for (name, expires) verifies until `expires`."""
        self.signer.verify(NAME, "1000", self.signer.signature(NAME, 1000), now=999.9)

    def test_refuses_at_and_after_expiry(self) -> None:
        """At `expires` the link is dead: 403 url_expired."""
        with pytest.raises(UrlExpired):
            self.signer.verify(NAME, "1000", self.signer.signature(NAME, 1000), now=1000)

    @pytest.mark.parametrize(
        ("name", "expires", "signature"),
        [
            ("other.wav", "1000", None),
            (NAME, "2000", None),
            (NAME, "1000", "0" * 64),
            (NAME, "1000", ""),
            (NAME, None, None),
            (NAME, "-5", None),
        ],
    )
    def test_refuses_any_tampering(
        self, name: str, expires: str | None, signature: str | None
    ) -> None:
        """Changing the name, the expiry or the signature gives 403 invalid_signature."""
        good = self.signer.signature(NAME, 1000)
        with pytest.raises(InvalidUrlSignature):
            self.signer.verify(name, expires, good if signature is None else signature, now=0)

    def test_a_different_secret_signs_differently(self) -> None:
        """Only the sandbox that made a link can verify it."""
        assert UrlSigner(b"other").signature(NAME, 1000) != self.signer.signature(NAME, 1000)


class TestDownloadLinks:
    def _links(self, ttl: float = 600) -> tuple[DownloadLinks, SandboxClock]:
        clock = SandboxClock(wall=lambda: datetime(2025, 1, 1, tzinfo=UTC), monotonic=lambda: 0.0)
        return DownloadLinks("http://127.0.0.1:8010/", UrlSigner(b"s"), clock, ttl), clock

    def test_fresh_links_live_for_the_ttl(self) -> None:
        """A fresh link points at /files/<name> on the sandbox and expires after the TTL."""
        links, clock = self._links()
        url = urlsplit(links.fresh(NAME))
        assert (url.scheme, url.netloc, url.path) == ("http", "127.0.0.1:8010", f"/files/{NAME}")
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        assert int(query["expires"]) == int(clock.now().timestamp()) + 600
        links.verify(NAME, query["expires"], query["signature"])
        clock.advance(599)
        links.verify(NAME, query["expires"], query["signature"])
        clock.advance(1)
        with pytest.raises(UrlExpired):
            links.verify(NAME, query["expires"], query["signature"])

    def test_expired_links_are_signed_but_dead(self) -> None:
        """The expired-URL fault hands out a genuine link whose time is already up."""
        links, _ = self._links()
        query = {k: v[0] for k, v in parse_qs(urlsplit(links.expired(NAME)).query).items()}
        with pytest.raises(UrlExpired):
            links.verify(NAME, query["expires"], query["signature"])
