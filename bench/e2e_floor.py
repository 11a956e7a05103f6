"""The e2e bench's floor: the least the same work can take — a bare endpoint acknowledging the
same webhook body, then a plain download and fsync of the same file — with no queue, no
database, no verification, paced at the same rate as the service's run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from shutil import which

import httpx

from bench.errors import BenchError
from bench.pacing import PacedRun, paced
from config.signing import SIGNATURE_HEADER
from voicehook.child_process import ChildProcess

TIMEOUT_SECONDS = 30.0
CHUNK_BYTES = 64 * 1024
STRESS_STOP_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class FloorItem:
    """One webhook as the sandbox sent it, and a live link to its generation's file."""

    body: bytes
    signature: str
    download_url: str


@dataclass(frozen=True, slots=True)
class FloorRun:
    acknowledged: list[float]  # POST → 202 from the bare endpoint
    total: list[float]  # POST → the file downloaded and fsynced
    pacing: PacedRun


def measure_floor(
    webhook_url: str, items: Sequence[FloorItem], rate: float, directory: Path
) -> FloorRun:
    """Each item at `rate` per second, each on a thread of its own as the sandbox posts
    them concurrently: POST to the bare endpoint, then download its file and fsync it."""
    directory.mkdir(parents=True, exist_ok=True)
    futures: list[Future[tuple[float, float]]] = []
    with (
        httpx.Client(timeout=TIMEOUT_SECONDS, trust_env=False) as client,
        ThreadPoolExecutor(32, thread_name_prefix="floor") as pool,
    ):

        def start(index: int) -> None:
            futures.append(
                pool.submit(_one, client, webhook_url, items[index], directory / f"{index}.audio")
            )

        run = paced(rate, len(items), start)
        results = [future.result() for future in futures]
    return FloorRun([ack for ack, _ in results], [total for _, total in results], run)


def _one(client: httpx.Client, url: str, item: FloorItem, path: Path) -> tuple[float, float]:
    started = time.perf_counter()
    answer = client.post(
        url,
        content=item.body,
        headers={SIGNATURE_HEADER: item.signature, "content-type": "application/json"},
    )
    acknowledged = time.perf_counter() - started
    if answer.status_code != 202:
        raise BenchError(f"the bare endpoint answered {answer.status_code}")
    with (
        client.stream("GET", item.download_url) as response,
        path.open("wb") as file,
    ):
        if response.status_code != 200:
            raise BenchError(f"the floor's download answered {response.status_code}")
        for chunk in response.iter_bytes(CHUNK_BYTES):
            file.write(chunk)
        file.flush()
        os.fsync(file.fileno())
    return acknowledged, time.perf_counter() - started


@contextmanager
def cpu_load(workers: int, workdir: Path) -> Iterator[None]:
    """`stress-ng --cpu N` keeping N cores busy for the block (in a session of its own)."""
    binary = which("stress-ng")
    if binary is None:
        raise BenchError(
            "stress-ng is not installed (apt-get install stress-ng); or pass --no-load"
        )
    child = ChildProcess.start(
        [binary, "--cpu", str(workers), "--timeout", "3600s", "--quiet"],
        name="stress-ng",
        env=dict(os.environ),
        log_path=workdir / "stress-ng.log",
        own_session=True,
        grace_seconds=STRESS_STOP_SECONDS,
    )
    try:
        yield
    finally:
        child.stop(group=True)  # its workers are in its session
