"""Download fixtures: file servers over real HTTP, a plain client, a path per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from processors.download import DownloadedFile, download_audio, parse_allowed_hosts
from tests.processors.fileserver import FileServer, running_file_server

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
    with httpx.Client(trust_env=False, timeout=30) as plain:
        yield plain


@pytest.fixture
def path(request: pytest.FixtureRequest) -> str:
    """A URL path of this test's own on the module's servers."""
    return f"/{request.node.name}/audio.bin"


def fetch(
    client: httpx.Client, server: FileServer, url: str, destination: Path, **kwargs: int
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
