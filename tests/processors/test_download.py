"""Downloads over real HTTP: allow-list, statuses, limits, truncation, atomicity and memory."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from processors.download import (
    DownloadedFile,
    checked_redirect,
    checked_url,
    download_audio,
    parse_allowed_hosts,
    remove_stale_partials,
)
from processors.errors import (
    DisallowedUrl,
    DownloadError,
    DownloadFailed,
    DownloadRefused,
    DownloadTooLarge,
    ProcessingError,
)
from tests.processors import fileserver
from tests.processors.fileserver import FileServer, running_file_server
from tests.services import ROOT, free_port

BODY = os.urandom(300 * 1024 + 7)
MAX_BYTES = 10 * 1024 * 1024
ALLOWED = parse_allowed_hosts(["cdn.example.com", "127.0.0.1:8010", "[::1]:9000"])


@pytest.fixture(scope="module")
def server() -> Iterator[FileServer]:
    with running_file_server() as running:
        yield running


@pytest.fixture(scope="module")
def other_server() -> Iterator[FileServer]:
    """A second server: another port, so another host:port, not on the allow-list."""
    with running_file_server() as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=5) as plain:
        yield plain


@pytest.fixture
def path(request: pytest.FixtureRequest) -> str:
    """A URL path of this test's own on the module's servers."""
    return f"/{request.node.name}/audio.bin"


def fetch(
    client: httpx.Client, server: FileServer, url: str, destination: Path, **kwargs: Any
) -> DownloadedFile:
    return download_audio(
        client,
        url,
        destination,
        allowed_hosts=[server.host],
        max_bytes=kwargs.pop("max_bytes", MAX_BYTES),
        **kwargs,
    )


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


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
        with pytest.raises(ValueError, match="not host or host:port"):
            parse_allowed_hosts([entry])

    def test_a_single_string_is_rejected(self) -> None:
        """A bare string would be a collection of characters; it is refused."""
        with pytest.raises(TypeError):
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


class TestDownloadAudio:
    def test_downloads_the_file(
        self, server: FileServer, client: httpx.Client, path: str, tmp_path: Path
    ) -> None:
        """The file lands at the destination with its size and sha256; nothing else is left."""
        url = server.serve(path, fileserver.normal(BODY))
        destination = tmp_path / "audio" / "job-1.wav"
        result = fetch(client, server, url, destination)
        assert result == DownloadedFile(destination, len(BODY), hashlib.sha256(BODY).hexdigest())
        assert destination.read_bytes() == BODY
        assert leftovers(destination.parent) == ["job-1.wav"]

    def test_downloads_a_body_without_content_length(
        self, server: FileServer, client: httpx.Client, path: str, tmp_path: Path
    ) -> None:
        """A chunked response with no declared length is accepted whole."""
        url = server.serve(path, fileserver.chunked(BODY))
        assert fetch(client, server, url, tmp_path / "a.wav").size == len(BODY)

    def test_replaces_an_existing_file(
        self, server: FileServer, client: httpx.Client, path: str, tmp_path: Path
    ) -> None:
        """A retried download overwrites the earlier file (the effect is idempotent)."""
        destination = tmp_path / "a.wav"
        destination.write_bytes(b"old")
        fetch(client, server, server.serve(path, fileserver.normal(BODY)), destination)
        assert destination.read_bytes() == BODY

    def test_sends_no_credentials(self, server: FileServer, path: str, tmp_path: Path) -> None:
        """An API client's Authorization header and cookies never reach the file host."""
        url = server.serve(path, fileserver.normal(b"x"))
        with httpx.Client(
            headers={"Authorization": "Bearer vk_live_secret"},
            cookies={"session": "secret"},
            trust_env=False,
        ) as api_client:
            fetch(api_client, server, url, tmp_path / "a.wav")
        (seen,) = server.seen(path)
        assert "authorization" not in seen.headers
        assert "cookie" not in seen.headers
        assert seen.headers["accept-encoding"] == "identity"

    @pytest.mark.parametrize("code", [401, 403, 404, 410])
    def test_refusals_ask_for_a_fresh_url(
        self, server: FileServer, client: httpx.Client, path: str, tmp_path: Path, code: int
    ) -> None:
        """An expired or refused URL raises DownloadRefused with the status."""
        url = server.serve(path, fileserver.status(code))
        with pytest.raises(DownloadRefused) as caught:
            fetch(client, server, url, tmp_path / "a.wav")
        assert caught.value.status == code
        assert leftovers(tmp_path) == []

    @pytest.mark.parametrize("code", [500, 502, 503, 429, 204, 304])
    def test_other_statuses_are_retried_later(
        self, server: FileServer, client: httpx.Client, path: str, tmp_path: Path, code: int
    ) -> None:
        """Server errors and anything but 200 raise DownloadFailed; nothing is written."""
        url = server.serve(path, fileserver.status(code))
        with pytest.raises(DownloadFailed) as caught:
            fetch(client, server, url, tmp_path / "a.wav")
        assert caught.value.status == code
        assert leftovers(tmp_path) == []

    def test_connection_refused_fails(self, client: httpx.Client, tmp_path: Path) -> None:
        """Nobody listening raises DownloadFailed."""
        host = f"127.0.0.1:{free_port()}"
        with pytest.raises(DownloadFailed, match="ConnectError"):
            download_audio(
                client,
                f"http://{host}/a.wav",
                tmp_path / "a.wav",
                allowed_hosts=[host],
                max_bytes=MAX_BYTES,
            )

    def test_a_stalled_body_times_out(self, server: FileServer, path: str, tmp_path: Path) -> None:
        """A read time-out mid-body raises DownloadFailed and removes the partial file."""
        url = server.serve(path, fileserver.slow(BODY, chunk_size=1024, delay=2.0))
        with (
            httpx.Client(trust_env=False, timeout=0.2) as impatient,
            pytest.raises(DownloadFailed, match="ReadTimeout"),
        ):
            fetch(impatient, server, url, tmp_path / "a.wav")
        assert leftovers(tmp_path) == []

    def test_truncated_body_fails(
        self, server: FileServer, client: httpx.Client, path: str, tmp_path: Path
    ) -> None:
        """Fewer bytes than declared, then a closed connection, is a truncation."""
        url = server.serve(path, fileserver.truncated(BODY, keep=100_000))
        with pytest.raises(DownloadFailed, match="truncated"):
            fetch(client, server, url, tmp_path / "a.wav")
        assert leftovers(tmp_path) == []

    def test_declared_too_large_is_refused_before_reading(
        self, server: FileServer, client: httpx.Client, path: str, tmp_path: Path
    ) -> None:
        """A Content-Length over the limit raises DownloadTooLarge and creates no file."""
        url = server.serve(path, fileserver.huge_declared(10**12))
        with pytest.raises(DownloadTooLarge, match="declared"):
            fetch(client, server, url, tmp_path / "a.wav")
        assert leftovers(tmp_path) == []

    def test_streamed_too_large_is_cut_off(
        self, server: FileServer, client: httpx.Client, path: str, tmp_path: Path
    ) -> None:
        """An undeclared body is refused once the bytes received pass the limit."""
        url = server.serve(path, fileserver.chunked(BODY))
        with pytest.raises(DownloadTooLarge, match="received more"):
            fetch(client, server, url, tmp_path / "a.wav", max_bytes=len(BODY) - 1)
        assert leftovers(tmp_path) == []

    def test_exactly_the_limit_is_accepted(
        self, server: FileServer, client: httpx.Client, path: str, tmp_path: Path
    ) -> None:
        """max_bytes is inclusive."""
        url = server.serve(path, fileserver.normal(BODY))
        assert fetch(client, server, url, tmp_path / "a.wav", max_bytes=len(BODY)).size == len(BODY)

    def test_disallowed_urls_are_never_requested(
        self, server: FileServer, client: httpx.Client, path: str, tmp_path: Path
    ) -> None:
        """A URL off the allow-list raises DisallowedUrl before any request."""
        url = server.serve(path, fileserver.normal(BODY))
        with pytest.raises(DisallowedUrl):
            download_audio(
                client, url, tmp_path / "a.wav", allowed_hosts=["cdn.example.com"], max_bytes=10
            )
        assert server.seen(path) == []

    def test_redirects_within_the_list_are_followed(
        self, server: FileServer, client: httpx.Client, path: str, tmp_path: Path
    ) -> None:
        """A redirect to an allowed host is followed, credentials still stripped."""
        target = server.serve(path + ".real", fileserver.normal(BODY))
        url = server.serve(path, fileserver.redirect(target, code=307))
        assert fetch(client, server, url, tmp_path / "a.wav").size == len(BODY)
        assert len(server.seen(path + ".real")) == 1

    def test_redirects_off_the_list_are_not_followed(
        self,
        server: FileServer,
        other_server: FileServer,
        client: httpx.Client,
        path: str,
        tmp_path: Path,
    ) -> None:
        """A redirect to another host:port raises DisallowedUrl; that host is never contacted."""
        elsewhere = other_server.serve(path, fileserver.normal(BODY))
        url = server.serve(path, fileserver.redirect(elsewhere))
        with pytest.raises(DisallowedUrl):
            fetch(client, server, url, tmp_path / "a.wav")
        assert other_server.seen(path) == []
        assert leftovers(tmp_path) == []

    def test_redirect_loops_fail(
        self, server: FileServer, client: httpx.Client, path: str, tmp_path: Path
    ) -> None:
        """Endless redirects stop after a few hops with DownloadFailed."""
        url = server.serve(path, fileserver.redirect(path))
        with pytest.raises(DownloadFailed, match="redirects"):
            fetch(client, server, url, tmp_path / "a.wav")
        assert len(server.seen(path)) == 6

    def test_the_destination_appears_only_when_complete(
        self, server: FileServer, client: httpx.Client, path: str, tmp_path: Path
    ) -> None:
        """During a slow download only a dot-named .part file exists; then the whole file."""
        url = server.serve(path, fileserver.slow(BODY, chunk_size=32 * 1024, delay=0.05))
        destination = tmp_path / "a.wav"
        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(fetch, client, server, url, destination)
            deadline = time.monotonic() + 5
            while not any(p.stat().st_size for p in tmp_path.glob(".a.wav.*.part")):
                assert time.monotonic() < deadline, "no partial file appeared"
                time.sleep(0.01)
            assert not destination.exists()
            assert not future.done()
            result = future.result(timeout=10)
        assert destination.read_bytes() == BODY
        assert result.sha256 == hashlib.sha256(BODY).hexdigest()
        assert leftovers(tmp_path) == ["a.wav"]

    def test_a_failed_retry_keeps_the_earlier_file(
        self, server: FileServer, client: httpx.Client, path: str, tmp_path: Path
    ) -> None:
        """A truncated re-download leaves the complete file already there untouched."""
        destination = tmp_path / "a.wav"
        destination.write_bytes(b"complete")
        url = server.serve(path, fileserver.truncated(BODY, keep=1000))
        with pytest.raises(DownloadFailed):
            fetch(client, server, url, destination)
        assert destination.read_bytes() == b"complete"
        assert leftovers(tmp_path) == ["a.wav"]

    def test_every_error_is_a_download_error(self) -> None:
        """Callers may catch DownloadError (or ProcessingError) for all of them."""
        for error in (DisallowedUrl, DownloadRefused, DownloadFailed, DownloadTooLarge):
            assert issubclass(error, DownloadError)
        assert issubclass(DownloadError, ProcessingError)


class TestRemoveStalePartials:
    def test_removes_old_partials_only(self, tmp_path: Path) -> None:
        """Old .part files go; fresh ones, finished files and look-alikes stay."""
        old = tmp_path / ".a.wav.0123456789abcdef.part"
        fresh = tmp_path / ".b.wav.fedcba9876543210.part"
        keep = ["a.wav", ".hidden", "x.part", ".a.wav.part", ".c.wav.nothex!!!!!!!!!.part"]
        for name in [old.name, fresh.name, *keep]:
            (tmp_path / name).write_bytes(b"x")
        an_hour_ago = time.time() - 3600
        for name in [old.name, *keep]:
            os.utime(tmp_path / name, (an_hour_ago, an_hour_ago))
        assert remove_stale_partials(tmp_path, older_than_seconds=600) == [old]
        assert leftovers(tmp_path) == sorted([fresh.name, *keep])

    def test_cleans_up_after_a_killed_download(
        self, server: FileServer, path: str, tmp_path: Path
    ) -> None:
        """The .part file a SIGKILLed process leaves behind is recognised and removed."""
        url = server.serve(path, fileserver.slow(BODY, chunk_size=16 * 1024, delay=0.2))
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD_DOWNLOAD, url, str(tmp_path / "a.wav"), server.host],
            cwd=ROOT,
        )
        try:
            deadline = time.monotonic() + 10
            while not list(tmp_path.glob(".a.wav.*.part")):
                assert time.monotonic() < deadline, "the child never started writing"
                time.sleep(0.02)
        finally:
            child.kill()
            child.wait()
        (partial,) = tmp_path.glob(".a.wav.*.part")
        assert remove_stale_partials(tmp_path, older_than_seconds=0) == [partial]
        assert leftovers(tmp_path) == []

    def test_a_missing_directory_has_nothing_to_remove(self, tmp_path: Path) -> None:
        """No directory yet (nothing downloaded) is not an error."""
        assert remove_stale_partials(tmp_path / "absent", older_than_seconds=0) == []


# Downloads argv[1] to argv[2], allowing host argv[3]; with argv[4], also verifies the wav
# and prints the sha256 and the peak RSS (VmHWM) in KiB before and after, as JSON.
CHILD_DOWNLOAD = """
import json, sys
from pathlib import Path
import httpx
from processors.audio import verify_audio
from processors.download import download_audio

def peak_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

url, destination, host = sys.argv[1:4]
with httpx.Client(trust_env=False, timeout=30) as client:
    before = peak_kib()
    result = download_audio(
        client, url, Path(destination), allowed_hosts=[host], max_bytes=1 << 30
    )
    if len(sys.argv) > 4:
        facts = verify_audio(Path(destination), "wav", float(sys.argv[4]))
        after = peak_kib()
        print(json.dumps({"before": before, "after": after, "sha256": result.sha256,
                          "size": result.size, "duration": facts.duration_sec}))
"""


class TestDownloadMemory:
    SIZE = 200 * 1024 * 1024 + 44  # a 200 MB wav (header + whole samples)
    LIMIT_KIB = 50 * 1024

    def test_a_200_mb_download_keeps_the_peak_rss_flat(
        self, server: FileServer, path: str, tmp_path: Path
    ) -> None:
        """Downloading and verifying a 200 MB wav raises a process's peak RSS by under 50 MB."""
        url = server.serve(path, fileserver.streamed_wav(self.SIZE))
        seconds = (self.SIZE - 44) / 2 / fileserver.WAV_SAMPLE_RATE
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                CHILD_DOWNLOAD,
                url,
                str(tmp_path / "big.wav"),
                server.host,
                str(seconds),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        expected = hashlib.sha256()
        for chunk in fileserver.wav_chunks(self.SIZE):
            expected.update(chunk)
        assert (report["size"], report["sha256"]) == (self.SIZE, expected.hexdigest())
        assert report["duration"] == pytest.approx(seconds)
        growth = report["after"] - report["before"]
        print(f"peak RSS {report['before']} KiB idle -> {report['after']} KiB (+{growth} KiB)")
        assert growth < self.LIMIT_KIB
