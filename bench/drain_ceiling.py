"""The drain bench's ceiling: the same downloads, verifications and stores as the workers do,
by plain loops with no database and no broker.

It runs with the worker's shape — `processes` processes of `threads` threads each, every
thread taking the next file — so the ratio compares the service with the same work done at
the same concurrency, not with a single loop.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from processors.audio import verify_audio
from processors.download import Deadline, download_audio
from storage.keys import media_type
from storage.local import LocalStore

DOWNLOAD_TIMEOUT_SECONDS = 30.0  # the worker's DOWNLOAD_TIMEOUT_SECONDS default
MAX_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class File:
    """One generation's audio: where to fetch it and what it must be."""

    generation_id: str
    url: str
    audio_format: str
    duration_sec: float | None


@dataclass(frozen=True, slots=True)
class CeilingRun:
    seconds: float  # from the first file started to the last stored
    per_file: list[float]  # each file's download + verify + store, in seconds

    @property
    def rate(self) -> float:
        return len(self.per_file) / self.seconds if self.seconds > 0 else 0.0


def measure_ceiling(
    files: Sequence[File], directory: Path, *, processes: int, threads: int
) -> CeilingRun:
    """Download, verify and store every file, `processes` x `threads` at a time."""
    shares = [list(files[index::processes]) for index in range(processes)]
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter, as a worker process is
    with ProcessPoolExecutor(processes, mp_context=spawn) as pool:
        results = list(
            pool.map(
                _process_share,
                shares,
                [directory / f"p{index}" for index in range(processes)],
                [threads] * processes,
            )
        )
    started = min(first for first, _, _ in results if _)
    finished = max(last for _, last, _ in results)
    return CeilingRun(finished - started, [t for _, _, times in results for t in times])


def _process_share(
    files: list[File], directory: Path, threads: int
) -> tuple[float, float, list[float]]:
    """One process's files on `threads` threads: (first start, last end, each file's time),
    on the wall clock (time.time), which all processes share."""
    work: queue.SimpleQueue[File] = queue.SimpleQueue()
    for file in files:
        work.put(file)
    times: list[float] = []
    edges: list[float] = []
    lock = threading.Lock()
    store = LocalStore(directory / "store")
    hosts = sorted({urlsplit(file.url).netloc for file in files})

    def run() -> None:
        with httpx.Client(timeout=DOWNLOAD_TIMEOUT_SECONDS, follow_redirects=False) as client:
            while True:
                try:
                    file = work.get_nowait()
                except queue.Empty:
                    return
                started = time.time()
                _one(client, store, directory, file, hosts)
                ended = time.time()
                with lock:
                    times.append(ended - started)
                    edges.extend((started, ended))

    pool = [threading.Thread(target=run, name=f"ceiling-{n}") for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if not edges:
        return (0.0, 0.0, [])
    return (min(edges), max(edges), times)


def _one(
    client: httpx.Client, store: LocalStore, directory: Path, file: File, hosts: list[str]
) -> None:
    staging = directory / f".{file.generation_id}.{file.audio_format}.part"
    try:
        downloaded = download_audio(
            client,
            file.url,
            staging,
            allowed_hosts=hosts,
            max_bytes=MAX_BYTES,
            deadline=Deadline(),
            sync_directory=False,  # as the worker's: the put below syncs the folder
        )
        verify_audio(staging, file.audio_format, file.duration_sec)
        store.put(
            f"{file.generation_id}.{file.audio_format}",
            staging,
            sha256=downloaded.sha256,
            media_type=media_type(file.audio_format),
        )
    finally:
        staging.unlink(missing_ok=True)
