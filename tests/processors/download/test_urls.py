"""Which URLs and redirects a download may follow: the allow-list, schemes, credentials."""

from __future__ import annotations

import httpx
import pytest

from processors.download import checked_redirect, checked_url, parse_allowed_hosts
from processors.errors import DisallowedUrl, InvalidAllowedHost
from tests.processors.download.conftest import ALLOWED


class TestParseAllowedHosts:
    def test_hosts_and_ports(self) -> None:
        """Entries become (lowercase host, port or None); IPv6 takes brackets."""
        assert parse_allowed_hosts(["CDN.Example.com", "127.0.0.1:8010", "[::1]:9000"]) == {
            ("cdn.example.com", None),
            ("127.0.0.1", 8010),
            ("::1", 9000),
        }

    def test_an_explicit_default_port_is_kept(self) -> None:
        """`host:443` is an entry for port 443, distinct from bare `host`."""
        assert parse_allowed_hosts(["cdn.example.com:443"]) == {("cdn.example.com", 443)}

    @pytest.mark.parametrize(
        "entry",
        ["", "https://cdn.example.com", "user@cdn.example.com", "cdn.example.com/path", "h:0"],
    )
    def test_malformed_entries_are_rejected(self, entry: str) -> None:
        """Anything but host or host:port is a configuration error."""
        with pytest.raises(InvalidAllowedHost, match="not host or host:port"):
            parse_allowed_hosts([entry])

    def test_a_single_string_is_rejected(self) -> None:
        """A bare string would be a collection of characters; it is refused."""
        with pytest.raises(InvalidAllowedHost):
            parse_allowed_hosts("cdn.example.com")


class TestCheckedUrl:
    @pytest.mark.parametrize(
        "url",
        [
            "https://cdn.example.com/files/a.mp3?expires=1&signature=ab",
            "http://cdn.example.com/a.mp3",
            "https://CDN.EXAMPLE.COM/a.mp3",
            "https://cdn.example.com:443/a.mp3",
            "http://127.0.0.1:8010/a.wav",
            "https://127.0.0.1:8010/a.wav",
            "http://[::1]:9000/a.wav",
        ],
    )
    def test_allowed_urls_pass(self, url: str) -> None:
        """http(s) on an allowed host, case-insensitively, on the matching port."""
        assert checked_url(url, ALLOWED) == httpx.URL(url)

    @pytest.mark.parametrize(
        "url",
        [
            "file:///etc/passwd",
            "ftp://cdn.example.com/a.mp3",
            "gopher://cdn.example.com/",
            "data:audio/wav;base64,UklGRg==",
            "/relative/a.mp3",
            "https:///a.mp3",
        ],
    )
    def test_other_schemes_are_refused(self, url: str) -> None:
        """Only absolute http and https URLs are fetched."""
        with pytest.raises(DisallowedUrl):
            checked_url(url, ALLOWED)

    @pytest.mark.parametrize(
        "url",
        [
            "https://evil.example/a.mp3",
            "https://cdn.example.com.evil.example/a.mp3",
            "https://sub.cdn.example.com/a.mp3",
            "https://example.com/a.mp3",
            "https://cdn.example.com./a.mp3",
            "http://127.0.0.1/a.wav",
            "http://localhost:8010/a.wav",
        ],
    )
    def test_other_hosts_are_refused(self, url: str) -> None:
        """Hosts match exactly: no suffixes, subdomains, trailing dots or aliases."""
        with pytest.raises(DisallowedUrl, match="not on an allowed host"):
            checked_url(url, ALLOWED)

    @pytest.mark.parametrize(
        "url",
        [
            "https://cdn.example.com:8443/a.mp3",
            "http://cdn.example.com:443/a.mp3",
            "http://127.0.0.1:8011/a.wav",
            "http://[::1]/a.wav",
        ],
    )
    def test_ports_must_match(self, url: str) -> None:
        """A bare entry allows only the scheme's default port; host:port only that port."""
        with pytest.raises(DisallowedUrl):
            checked_url(url, ALLOWED)

    @pytest.mark.parametrize(
        "url",
        [
            "http://cdn.example.com@evil.example/a.mp3",
            "http://cdn.example.com:443@evil.example/a.mp3",
            "http://evil.example\\@cdn.example.com/a.mp3",
            "https://user:secret@cdn.example.com/a.mp3",
        ],
    )
    def test_userinfo_is_refused(self, url: str) -> None:
        """Userinfo tricks never reach a host, and no URL may carry credentials."""
        with pytest.raises(DisallowedUrl):
            checked_url(url, ALLOWED)

    def test_the_message_leaves_out_the_signature(self) -> None:
        """Refusals name the URL without its query, which holds the signature."""
        with pytest.raises(DisallowedUrl) as caught:
            checked_url("https://evil.example/a.mp3?signature=s3cr3t", ALLOWED)
        assert "s3cr3t" not in str(caught.value)
        assert "evil.example/a.mp3" in str(caught.value)


class TestCheckedRedirect:
    def test_relative_locations_resolve_against_the_current_url(self) -> None:
        """A relative Location stays on the current host."""
        current = httpx.URL("https://cdn.example.com/a/b.mp3?signature=x")
        assert checked_redirect(current, "/c.mp3", ALLOWED) == httpx.URL(
            "https://cdn.example.com/c.mp3"
        )

    def test_a_redirect_off_the_list_is_refused(self) -> None:
        """A hop to a host that is not allowed is not followed."""
        current = httpx.URL("https://cdn.example.com/a.mp3")
        with pytest.raises(DisallowedUrl):
            checked_redirect(current, "https://evil.example/a.mp3", ALLOWED)

    def test_a_downgrade_to_http_is_refused(self) -> None:
        """https → http would expose the next URL; refused even on an allowed host."""
        current = httpx.URL("https://cdn.example.com/a.mp3")
        with pytest.raises(DisallowedUrl, match="downgrades"):
            checked_redirect(current, "http://cdn.example.com/a.mp3", ALLOWED)
