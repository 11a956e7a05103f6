"""Downloads have a total deadline, and the allow-list means exactly host and port (issue 12,
items 8 and 9)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from processors.download import Deadline, checked_url, parse_allowed_hosts
from processors.errors import DisallowedUrl, DownloadFailed
from processors.worker import allowed_download_hosts
from tests.conftest import make_settings
from tests.processors import fileserver
from tests.processors.download.conftest import BODY, fetch
from tests.processors.fileserver import FileServer


class TestDeadline:
    def test_the_allowance_grows_with_what_was_received(self) -> None:
        """Base seconds, plus a second per `min_rate` bytes received."""
        deadline = Deadline(base=10, min_rate=1000)
        assert deadline.allows(10, 0)
        assert not deadline.allows(10.5, 0)
        assert deadline.allows(15, 5000)
        assert not deadline.allows(16, 5000)

    def test_a_trickling_host_is_cut_off(
        self, server: FileServer, client: httpx.Client, path: str, tmp_path: Path
    ) -> None:
        """Each read arrives within the client's timeout, yet the download stops at its
        deadline and leaves no partial file."""
        url = server.serve(path, fileserver.slow(BODY, chunk_size=16, delay=0.05))
        with pytest.raises(DownloadFailed, match="too slow"):
            fetch(client, server, url, tmp_path / "a.wav", deadline=Deadline(0.5, min_rate=1 << 20))
        assert list(tmp_path.iterdir()) == []

    def test_a_steady_download_completes(
        self, server: FileServer, client: httpx.Client, path: str, tmp_path: Path
    ) -> None:
        """The default deadline lets a normal download through."""
        url = server.serve(path, fileserver.normal(BODY))
        assert fetch(client, server, url, tmp_path / "a.wav").size == len(BODY)


class TestApiHost:
    def test_the_api_host_is_allowed_on_its_own_port_only(self) -> None:
        """An API at 127.0.0.1:19110 does not open 127.0.0.1's port 80."""
        settings = make_settings("sqlite://", vpai_api_base_url="http://127.0.0.1:19110/v1")
        allowed = parse_allowed_hosts(allowed_download_hosts(settings))
        assert checked_url("http://127.0.0.1:19110/a.wav", allowed)
        with pytest.raises(DisallowedUrl):
            checked_url("http://127.0.0.1/a.wav", allowed)

    def test_an_https_api_allows_port_443_only(self) -> None:
        """The default API URL allows its host on 443, not on 80."""
        settings = make_settings("sqlite://", vpai_api_base_url="https://api.example.com/v1")
        allowed = parse_allowed_hosts(allowed_download_hosts(settings))
        assert checked_url("https://api.example.com/a.wav", allowed)
        with pytest.raises(DisallowedUrl):
            checked_url("http://api.example.com/a.wav", allowed)
