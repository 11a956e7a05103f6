"""The receiver's writer process, as a real child of a real receiver: killed, it is replaced
and nothing acknowledged is lost; the receiver gone, it goes too."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from bench import process_stats
from tests.receiver.conftest import envelope, events, post
from tests.services import ServerProcess, wait_for
from voicehook.child_process import children


def writer_pid(server: ServerProcess) -> int | None:
    """The receiver's writer process: its one child running `receiver.writer`."""
    for child in children(server.process.pid):
        if "receiver.writer" in process_stats.command_line(child):
            return child
    return None


def running(pid: int) -> bool:
    """Alive and not a zombie (a reaped or reparented-and-reaped process is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


class TestWriterProcess:
    def test_killed_writer_is_replaced_and_nothing_acknowledged_is_lost(
        self, receiver_process: ServerProcess, migrated_engine: Engine
    ) -> None:
        """Deliveries during the restart are 202 or 503, never lost; afterwards all is well."""
        receiver = receiver_process
        client = httpx.Client(base_url=receiver.url, timeout=30)
        assert post(client, envelope(resource_id="before")).status_code == 202
        first = writer_pid(receiver)
        assert first is not None
        os.kill(first, signal.SIGKILL)
        acknowledged = {"before"}
        for number in range(20):
            resource = f"during-{number}"
            response = post(client, envelope(resource_id=resource))
            assert response.status_code in (202, 503)
            if response.status_code == 202:
                acknowledged.add(resource)
        wait_for(
            lambda: writer_pid(receiver) not in (None, first),
            description="a new writer process runs",
            log=receiver.log,
        )
        assert post(client, envelope(resource_id="after")).status_code == 202
        acknowledged.add("after")
        stored = {str(e["resource_id"]) for e in events(migrated_engine)}
        assert acknowledged <= stored
        assert client.get("/readyz").json()["writer"] == "ok"
        assert "voicehook_ingest_writer_restarts_total 1.0" in client.get("/metrics").text
        client.close()

    # How the writer ends with the receiver does not depend on the database: SQLite only.
    @pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
    def test_writer_stops_with_the_receiver(self, receiver_process: ServerProcess) -> None:
        """A graceful stop takes the writer with it; no process is left behind."""
        pid = writer_pid(receiver_process)
        assert pid is not None
        receiver_process.stop()
        wait_for(
            lambda: not running(pid), description="the writer exited", log=receiver_process.log
        )

    @pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
    def test_writer_exits_when_the_receiver_is_killed(
        self, receiver_process: ServerProcess
    ) -> None:
        """SIGKILL on the receiver: the writer sees its socket close and exits by itself."""
        pid = writer_pid(receiver_process)
        assert pid is not None
        receiver_process.process.kill()
        receiver_process.process.wait()
        wait_for(
            lambda: not running(pid), description="the writer exited", log=receiver_process.log
        )
