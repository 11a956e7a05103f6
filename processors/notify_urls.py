"""Which notification URLs are sent to: the same rules as downloads, plus address checks.

A URL must be plain `http`/`https` without userinfo. When `NOTIFY_ALLOWED_HOSTS` is set, its
host must be on it (entries as for `DOWNLOAD_ALLOWED_HOSTS`: `host` or `host:port`), and a
listed host may resolve anywhere: listing it is the operator's say-so. Otherwise any host is
allowed whose addresses are none of the link-local, cloud-metadata, unspecified, broadcast or
multicast ones (private and loopback addresses are allowed: the app often runs beside us).
The addresses are those the resolver gives just before the request; a DNS answer that
changes between the check and the connection is not caught.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Collection

import httpx

from processors.download import DEFAULT_PORTS, HostPort, is_allowed, parse_allowed_hosts
from processors.errors import DisallowedNotifyUrl

Resolve = Callable[[str, int], list[str]]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, DigitalOcean, OpenStack
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)


def allowed_notify_hosts(entries: Collection[str]) -> frozenset[HostPort]:
    """NOTIFY_ALLOWED_HOSTS parsed; InvalidAllowedHost if an entry is malformed."""
    return parse_allowed_hosts([entry for entry in entries if entry.strip()])


def parse_notify_url(url: str) -> httpx.URL:
    """`url` parsed if it is plain http(s) with a host and no credentials."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise DisallowedNotifyUrl(f"not a valid URL: {exc}") from exc
    if parsed.scheme not in DEFAULT_PORTS or not parsed.raw_host:
        raise DisallowedNotifyUrl("a notification URL must be http:// or https:// with a host")
    if parsed.userinfo:
        raise DisallowedNotifyUrl("a notification URL must not carry credentials")
    return parsed


def check_notify_url(url: str, allowed: frozenset[HostPort], resolve: Resolve) -> httpx.URL:
    """`url` parsed, if it may be sent to now (see the module docstring)."""
    parsed = parse_notify_url(url)
    if allowed:
        if not is_allowed(parsed, allowed):
            raise DisallowedNotifyUrl(f"{parsed.host} is not on NOTIFY_ALLOWED_HOSTS")
        return parsed
    port = parsed.port or DEFAULT_PORTS[parsed.scheme]
    for text in resolve(parsed.host, port):
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if forbidden_address(address):
            raise DisallowedNotifyUrl(
                f"{parsed.host} resolves to {address}, a link-local or metadata address "
                "(list the host in NOTIFY_ALLOWED_HOSTS to allow it)"
            )
    return parsed


def forbidden_address(address: IpAddress) -> bool:
    """Whether a notification must never go to this address unless its host is listed."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return forbidden_address(address.ipv4_mapped)
    return (
        address in METADATA_ADDRESSES
        or address.is_link_local
        or address.is_unspecified
        or address.is_multicast
        or address == ipaddress.IPv4Address("255.255.255.255")
    )


def resolve_addresses(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (an IP literal: itself)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DisallowedNotifyUrl(f"{host} does not resolve: {exc}") from exc
    return sorted({str(info[4][0]) for info in infos})
