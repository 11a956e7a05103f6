"""Fetching finished audio from a signed download URL into a directory, atomically.

The body streams into a temporary file beside the destination (`.<name>.<random>.part`),
hashed as it arrives; only a complete, fsynced file is renamed onto the destination, so a
reader never sees a partial file. A process killed mid-download leaves the `.part` file
behind; `remove_stale_partials` sweeps those.

Which URLs are fetched. Only `http` and `https` URLs without userinfo, whose host is on the
allow-list, and the same for every redirect hop (at most `MAX_REDIRECTS`; an https → http
downgrade is refused). An allow-list entry is `host`, `host:port`, or `[ipv6]:port`. Hosts
compare case-insensitively and exactly (no suffix or wildcard matching; internationalised
names in their punycode form). An entry *with* a port allows exactly that port, whatever
the scheme; an entry *without* one allows only the scheme's default port (80 for http, 443
for https), so `cdn.example.com` allows `https://cdn.example.com/…` and
`https://cdn.example.com:443/…` but not `https://cdn.example.com:8443/…`.

The request carries no credentials: no auth, and the client's default `Authorization` and
`Cookie` headers are removed, so a client configured for the API can be passed safely.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx

from processors.errors import (
    DisallowedUrl,
    DownloadFailed,
    DownloadRefused,
    DownloadTooLarge,
    InvalidAllowedHost,
)

MAX_REDIRECTS = 5
DEFAULT_PORTS = {"http": 80, "https": 443}
REFUSED_STATUSES = frozenset({401, 403, 404, 410})
STRIPPED_HEADERS = ("authorization", "cookie")
PARTIAL_SUFFIX = ".part"

_PARTIAL_NAME = re.compile(r"^\..+\.[0-9a-f]{16}\.part$")

HostPort = tuple[str, int | None]


@dataclass(frozen=True)
class DownloadedFile:
    """A complete file at `path`: its size in bytes and the sha256 of its content (hex)."""

    path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class Deadline:
    """How long a whole download may take: `base` seconds, plus one second for every
    `min_rate` bytes received so far. A host trickling a byte now and then (each read within
    the client's timeout) is cut off instead of holding a worker thread for hours."""

    base: float = 60.0
    min_rate: float = 128 * 1024

    def allows(self, elapsed: float, received: int) -> bool:
        return elapsed <= self.base + received / self.min_rate


def download_audio(
    client: httpx.Client,
    url: str,
    destination: Path,
    *,
    allowed_hosts: Collection[str],
    max_bytes: int,
    deadline: Deadline | None = None,
    clock: Callable[[], float] = time.monotonic,
    sync_directory: bool = True,
) -> DownloadedFile:
    """Download `url` to `destination` (replacing it atomically), or raise a `DownloadError`.

    The destination's directory is created if missing. The file is fsynced before its
    rename; the rename itself is made durable (an fsync of the directory) unless
    `sync_directory` is False: for a scratch destination that is renamed again, whose
    folder is synced then (a folder's fsync is a journal commit: 4 ms at p50, 28 ms at p90
    on the shared 2-core machine that measured it).

    The client's timeouts apply to each network operation and `deadline` (default
    `Deadline()`) to the whole body, checked at every network read, so a download lasts at
    most the deadline plus one read timeout. Memory use does not grow with the file's size.
    """
    pace = _Pace(deadline or Deadline(), clock)
    allowed = parse_allowed_hosts(allowed_hosts)
    start = checked_url(url, allowed)
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _open(client, start, allowed) as response:
            return _save(response, destination, max_bytes, pace, sync_directory)
    except httpx.HTTPError as exc:
        raise DownloadFailed(f"request to {_describe(start)} failed: {exc!r}") from exc


def parse_allowed_hosts(entries: Collection[str]) -> frozenset[HostPort]:
    """The allow-list as (lowercase host, port or None); InvalidAllowedHost if malformed."""
    if isinstance(entries, str):
        raise InvalidAllowedHost("allowed_hosts must be a collection of hosts, not one string")
    return frozenset(_parse_entry(entry) for entry in entries)


def checked_url(url: str | httpx.URL, allowed: frozenset[HostPort]) -> httpx.URL:
    """`url` parsed, if it is http(s), carries no userinfo, and its host:port is allowed."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise DisallowedUrl(f"not a valid URL: {exc}") from exc
    if parsed.scheme not in DEFAULT_PORTS:
        raise DisallowedUrl(f"only http and https URLs are fetched, not {parsed.scheme!r}")
    if parsed.userinfo:
        raise DisallowedUrl("a download URL must not carry credentials")
    if not is_allowed(parsed, allowed):
        raise DisallowedUrl(f"{_describe(parsed)} is not on an allowed host")
    return parsed


def checked_redirect(current: httpx.URL, location: str, allowed: frozenset[HostPort]) -> httpx.URL:
    """Where a redirect from `current` leads, if it may be followed (no https → http)."""
    try:
        target = current.join(location)
    except httpx.InvalidURL as exc:
        raise DisallowedUrl(f"redirect from {_describe(current)} to an invalid URL") from exc
    if current.scheme == "https" and target.scheme == "http":
        raise DisallowedUrl(f"redirect from {_describe(current)} downgrades https to http")
    return checked_url(target, allowed)


def is_allowed(url: httpx.URL, allowed: frozenset[HostPort]) -> bool:
    """Whether the URL's host and port match an allow-list entry (see the module docstring)."""
    host = url.raw_host.decode("ascii").lower()
    if not host or url.scheme not in DEFAULT_PORTS:
        return False
    default = DEFAULT_PORTS[url.scheme]
    port = default if url.port is None else url.port
    return (host, port) in allowed or (port == default and (host, None) in allowed)


def remove_stale_partials(directory: Path, older_than_seconds: float) -> list[Path]:
    """Delete the `.part` files of killed downloads not written to for `older_than_seconds`.

    A live download rewrites its file continuously, so an age above the longest stall a
    download may survive (the actor's time limit) never removes one in progress.
    """
    cutoff = time.time() - older_than_seconds
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if not _PARTIAL_NAME.match(entry.name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                continue
            os.unlink(entry.path)
        except FileNotFoundError:
            continue  # finished or swept by another process meanwhile
        removed.append(Path(entry.path))
    return removed


def _parse_entry(entry: str) -> HostPort:
    text = entry.strip()
    try:
        # A scheme with no default port keeps an explicit `:80` or `:443` as written.
        parsed = httpx.URL(f"allowed://{text}")
    except httpx.InvalidURL as exc:
        raise InvalidAllowedHost(f"allowed host {entry!r} is not host or host:port") from exc
    if (
        not parsed.raw_host
        or parsed.userinfo
        or parsed.path != "/"
        or parsed.query
        or parsed.fragment
        or (parsed.port is not None and not 0 < parsed.port < 65536)
    ):
        raise InvalidAllowedHost(f"allowed host {entry!r} is not host or host:port")
    return parsed.raw_host.decode("ascii").lower(), parsed.port


@contextlib.contextmanager
def _open(
    client: httpx.Client, url: httpx.URL, allowed: frozenset[HostPort]
) -> Iterator[httpx.Response]:
    """The 200 response for `url`, following only allowed redirects; closed on exit."""
    for _hop in range(MAX_REDIRECTS + 1):
        response = client.send(
            _bare_request(client, url), stream=True, auth=None, follow_redirects=False
        )
        try:
            if response.has_redirect_location:
                url = checked_redirect(url, response.headers["location"], allowed)
                continue
            _check_status(response, url)
            yield response
            return
        finally:
            response.close()
    raise DownloadFailed(f"more than {MAX_REDIRECTS} redirects from {_describe(url)}")


def _bare_request(client: httpx.Client, url: httpx.URL) -> httpx.Request:
    # Stored bytes must be the file itself, so ask for no content coding.
    request = client.build_request("GET", url, headers={"Accept-Encoding": "identity"})
    for name in STRIPPED_HEADERS:
        request.headers.pop(name, None)
    return request


def _check_status(response: httpx.Response, url: httpx.URL) -> None:
    status = response.status_code
    if status == 200:
        return
    message = f"{_describe(url)} answered {status}"
    if status in REFUSED_STATUSES:
        raise DownloadRefused(message, status=status)
    raise DownloadFailed(message, status=status)


def _declared_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise DownloadFailed(f"invalid Content-Length {value!r}") from None


class _Pace:
    """The deadline of one download, from its start."""

    def __init__(self, deadline: Deadline, clock: Callable[[], float]) -> None:
        self._deadline = deadline
        self._clock = clock
        self._started = clock()

    def check(self, received: int) -> None:
        elapsed = self._clock() - self._started
        if not self._deadline.allows(elapsed, received):
            raise DownloadFailed(
                f"too slow: {received} bytes in {elapsed:.0f}s (deadline {self._deadline})"
            )


def _save(
    response: httpx.Response, destination: Path, max_bytes: int, pace: _Pace, sync_directory: bool
) -> DownloadedFile:
    declared = _declared_length(response)
    if declared is not None and declared > max_bytes:
        raise DownloadTooLarge(f"declared {declared} bytes, limit {max_bytes}")
    partial, out = _create_partial(destination)
    try:
        with out:
            size, sha256 = _stream_into(out, response, declared, max_bytes, pace)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, destination)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if sync_directory:
        _fsync_directory(destination.parent)
    return DownloadedFile(path=destination, size=size, sha256=sha256)


def _stream_into(
    out: BinaryIO, response: httpx.Response, declared: int | None, max_bytes: int, pace: _Pace
) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    try:
        # Chunks as each network read brings them (not re-chunked, which would wait for a
        # full chunk), so the deadline is checked at every read.
        for chunk in response.iter_bytes():
            size += len(chunk)
            pace.check(size)
            if size > max_bytes:
                raise DownloadTooLarge(f"received more than the limit of {max_bytes} bytes")
            digest.update(chunk)
            out.write(chunk)
    except httpx.HTTPError as exc:
        received = response.num_bytes_downloaded
        of = "" if declared is None else f" of {declared}"
        if isinstance(exc, httpx.RemoteProtocolError) and declared is not None:
            # How h11 reports a connection closed before the declared length arrived.
            raise DownloadFailed(f"truncated: received {received}{of} bytes") from exc
        raise DownloadFailed(f"interrupted after {received}{of} bytes: {exc!r}") from exc
    # Compare what came over the wire (before any content decoding) with what was declared.
    received = response.num_bytes_downloaded
    if declared is not None and received != declared:
        raise DownloadFailed(f"truncated: received {received} of {declared} bytes")
    return size, digest.hexdigest()


def _create_partial(destination: Path) -> tuple[Path, BinaryIO]:
    while True:
        partial = destination.with_name(
            f".{destination.name}.{secrets.token_hex(8)}{PARTIAL_SUFFIX}"
        )
        try:
            return partial, partial.open("xb")
        except FileExistsError:
            continue


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _describe(url: httpx.URL) -> str:
    """The URL without userinfo, query or fragment: a signed URL's signature stays out of logs."""
    return str(url.copy_with(query=None, fragment=None, username=None, password=None))
