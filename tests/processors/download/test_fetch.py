"""Downloads over real HTTP: statuses, limits, truncation, redirects and atomicity."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from processors.download import DownloadedFile, download_audio
from processors.errors import (
    DisallowedUrl,
    DownloadError,
    DownloadFailed,
    DownloadRefused,
    DownloadTooLarge,
    ProcessingError,
)
from tests.processors import fileserver
from tests.processors.download.conftest import BODY, MAX_BYTES, fetch, leftovers
from tests.processors.fileserver import FileServer
from tests.services import free_port, wait_for


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

    def test_a_scratch_download_is_the_same_file(
        self, server: FileServer, client: httpx.Client, path: str, tmp_path: Path
    ) -> None:
        """Without the folder's fsync (a scratch file renamed again later), the same whole
        file lands at the destination, and nothing else is left."""
        url = server.serve(path, fileserver.normal(BODY))
        destination = tmp_path / "audio" / ".job-1.wav.0123456789abcdef.part"
        result = fetch(client, server, url, destination, sync_directory=False)
        assert result == DownloadedFile(destination, len(BODY), hashlib.sha256(BODY).hexdigest())
        assert destination.read_bytes() == BODY
        assert leftovers(destination.parent) == [destination.name]

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
            wait_for(
                lambda: any(p.stat().st_size for p in tmp_path.glob(".a.wav.*.part")),
                interval=0.01,
                description="a partial file with data in it appeared",
            )
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
