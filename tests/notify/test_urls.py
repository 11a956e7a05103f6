"""Which notification URLs may be sent to (SSRF rules), checked without the network."""

from __future__ import annotations

import ipaddress

import pytest

from processors.errors import DisallowedNotifyUrl, InvalidAllowedHost
from processors.notify_urls import (
    Resolve,
    allowed_notify_hosts,
    check_notify_url,
    forbidden_address,
    resolve_addresses,
)


def resolver(*addresses: str) -> Resolve:
    """A resolver that answers these addresses for any host."""
    return lambda host, port: list(addresses)


class TestNotifyUrls:
    @pytest.mark.parametrize(
        "url",
        ["ftp://app.example/x", "http://user:pw@app.example/x", "http:///nohost", "not a url"],
    )
    def test_only_plain_http_urls(self, url: str) -> None:
        """Other schemes, credentials in the URL and hostless URLs are refused."""
        with pytest.raises(DisallowedNotifyUrl):
            check_notify_url(url, frozenset(), resolver("203.0.113.5"))

    @pytest.mark.parametrize(
        "address",
        [
            "169.254.169.254",
            "169.254.10.1",
            "fe80::1",
            "fd00:ec2::254",
            "100.100.100.200",
            "0.0.0.0",  # noqa: S104 - an address to refuse, not one bound
            "::ffff:169.254.169.254",
            "224.0.0.1",
        ],
    )
    def test_link_local_and_metadata_addresses_are_refused(self, address: str) -> None:
        """A host resolving to any of these is not sent to."""
        with pytest.raises(DisallowedNotifyUrl, match="link-local or metadata"):
            check_notify_url(
                "https://app.example/hooks", frozenset(), resolver("203.0.113.5", address)
            )

    @pytest.mark.parametrize(
        "address", ["127.0.0.1", "10.1.2.3", "192.168.0.10", "::1", "203.0.113.5"]
    )
    def test_public_private_and_loopback_addresses_are_allowed(self, address: str) -> None:
        """The app often runs beside the service, on loopback or a private network."""
        assert not forbidden_address(ipaddress.ip_address(address))
        check_notify_url("http://app.example:8080/hooks", frozenset(), resolver(address))

    def test_an_allow_list_restricts_hosts_and_lets_a_listed_one_anywhere(self) -> None:
        """With NOTIFY_ALLOWED_HOSTS only listed hosts go, and a listed one may be link-local."""
        allowed = allowed_notify_hosts(["app.example", "metadata.internal:8080"])
        with pytest.raises(DisallowedNotifyUrl, match="NOTIFY_ALLOWED_HOSTS"):
            check_notify_url("https://other.example/x", allowed, resolver("203.0.113.5"))
        check_notify_url("https://app.example/x", allowed, resolver("203.0.113.5"))
        check_notify_url("http://metadata.internal:8080/x", allowed, resolver("169.254.169.254"))

    def test_a_malformed_allow_list_entry_is_refused(self) -> None:
        """The same parsing as DOWNLOAD_ALLOWED_HOSTS."""
        with pytest.raises(InvalidAllowedHost):
            allowed_notify_hosts(["https://app.example/path"])

    def test_ip_literals_resolve_to_themselves(self) -> None:
        """No resolver call is needed for an address written in the URL."""
        assert resolve_addresses("169.254.169.254", 80) == ["169.254.169.254"]
        assert resolve_addresses("[::1]", 80) == ["::1"]
