"""The client's address behind trusted proxies: the rightmost `X-Forwarded-For` entry that is
not itself a trusted proxy, and only ever a valid IP address.

Each proxy appends the address it received the connection from, so everything to the left
of the last trusted hop was written by the client and proves nothing. `*` trusts every
peer to be a proxy that appended one hop (a PaaS router whose address is not known in
advance): the client is then the rightmost entry, never the leftmost one, which the client
chooses. An entry that is not an IP address (a hostname, `unknown`, garbage) is never
stored; the peer's own address is kept instead.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from config.errors import ConfigurationError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_HOPS = 32  # entries looked at, from the right


@dataclass(frozen=True)
class TrustedProxies:
    """The peers whose `X-Forwarded-For` is believed: `*`, addresses, or CIDR ranges."""

    everyone: bool
    networks: tuple[IpNetwork, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> TrustedProxies:
        values = [entry.strip() for entry in entries if entry.strip()]
        if "*" in values:
            return cls(True, ())
        try:
            return cls(False, tuple(ipaddress.ip_network(value, strict=False) for value in values))
        except ValueError as exc:
            raise ConfigurationError(f"FORWARDED_ALLOW_IPS: {exc}") from None

    def trusts(self, address: IpAddress) -> bool:
        return self.everyone or any(address in network for network in self.networks)

    def is_proxy(self, address: IpAddress) -> bool:
        """Whether a forwarded hop is a proxy of ours (never true of entries under `*`)."""
        return not self.everyone and self.trusts(address)


def parse_ip(value: str) -> IpAddress | None:
    """An `X-Forwarded-For` entry as an address (`1.2.3.4`, `1.2.3.4:5`, `[::1]:5`, `::1`)."""
    text = value.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: TrustedProxies
) -> str | None:
    """Who the client is, given the connection's peer and its `X-Forwarded-For` value."""
    if peer is None or not forwarded_for:
        return peer
    peer_ip = parse_ip(peer)
    if peer_ip is None or not trusted.trusts(peer_ip):
        return peer
    client: str | None = None
    for hop in reversed(forwarded_for.split(",")[-MAX_HOPS:]):
        address = parse_ip(hop)
        if address is None:
            break  # a proxy of ours wrote something that is no address: believe none of it
        client = str(address)
        if not trusted.is_proxy(address):
            return client
    return client or peer


class ForwardedFor:
    """Sets the scope's client (and scheme) from the headers of a trusted proxy."""

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        self._app = app
        self._trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            forwarded: list[bytes] = []
            proto = None
            for name, value in scope["headers"]:
                if name == b"x-forwarded-for":
                    forwarded.append(value)
                elif name == b"x-forwarded-proto":
                    proto = value
            if forwarded or proto is not None:
                self._rewrite(scope, b",".join(forwarded).decode("latin-1"), proto)
        await self._app(scope, receive, send)

    def _rewrite(self, scope: Scope, forwarded: str, proto: bytes | None) -> None:
        peer = scope.get("client")
        host = peer[0] if peer else None
        peer_ip = parse_ip(host) if host else None
        if peer_ip is None or not self._trusted.trusts(peer_ip):
            return
        if proto in (b"http", b"https"):
            scope["scheme"] = proto.decode()
        client = client_address(host, forwarded, self._trusted)
        if client != host:
            scope["client"] = (client, 0)
