"""A real S3 HTTP server of our own for a bench run or a test: `moto_server` as a child
process on a loopback port (moto's server, not its in-process mock), so that every process
of the run reaches the same bucket over HTTP."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from voicehook.child_process import LOOPBACK, ChildProcess, free_port

START_TIMEOUT_SECONDS = 60.0
# moto accepts any credentials; these are what every client of the throwaway server uses.
ACCESS_KEY_ID = "throwaway-key"
SECRET_ACCESS_KEY = "throwaway-secret"  # noqa: S105 - a fake server's fake secret
REGION = "us-east-1"


@dataclass(frozen=True)
class ThrowawayS3:
    endpoint_url: str
    process: ChildProcess

    def env(self, bucket: str) -> dict[str, str]:
        """The environment that points a voicehook process at `bucket` on this server."""
        return {
            "STORAGE_URL": f"s3://{bucket}/audio",
            "S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_REGION": REGION,
        }


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0, trust_env=False).status_code < 500
    except httpx.HTTPError:
        return False


@contextmanager
def throwaway_s3(log_path: Path, port: int | None = None) -> Iterator[ThrowawayS3]:
    """`moto_server` on 127.0.0.1 (a free port unless given), stopped on exit."""
    port = port or free_port()
    moto_server = Path(sys.executable).with_name("moto_server")
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    process = ChildProcess.start(
        [str(moto_server), "-H", LOOPBACK, "-p", str(port)],
        name="moto_server",
        env=env,
        log_path=log_path,
    )
    url = f"http://{LOOPBACK}:{port}"
    with process:
        process.wait_until_ready(lambda: _answers(url), timeout=START_TIMEOUT_SECONDS)
        yield ThrowawayS3(endpoint_url=url, process=process)
