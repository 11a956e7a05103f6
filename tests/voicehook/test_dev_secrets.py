"""`voicehook dev` keeps secrets out of command lines and bodies in owner-only files (issue
12, item 10)."""

from __future__ import annotations

import signal
import stat
from pathlib import Path

from tests.services import free_port
from tests.voicehook.test_dev import START_SECONDS, log_of, ready, start_dev, wait_while_running


def command_lines_in(cwd: Path) -> list[str]:
    """The command lines of every process running in `cwd` (what `ps` shows anyone)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "cwd").resolve() == cwd.resolve():
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


def test_no_child_has_a_secret_on_its_command_line_and_the_database_is_private(
    tmp_path: Path,
) -> None:
    """Every process dev starts shows no secret in `ps`; var/voicehook.db is mode 0600."""
    port, sandbox_port = free_port(), free_port()
    dev = start_dev(tmp_path, port, sandbox_port)
    try:
        wait_while_running(
            dev,
            lambda: ready(f"http://127.0.0.1:{port}"),
            START_SECONDS,
            description="dev is ready",
            log=log_of(tmp_path / "dev.log"),
        )
        secrets = [
            (tmp_path / "var" / name).read_text().strip()
            for name in ("dev-webhook-secret", "dev-admin-token")
        ]
        command_lines = command_lines_in(tmp_path)
        assert len(command_lines) >= 5  # dev, sandbox, web, worker, sweeper (and theirs)
        for line in command_lines:
            assert not [s for s in secrets if s in line], f"{line!r} holds a secret"
        mode = stat.S_IMODE((tmp_path / "var" / "voicehook.db").stat().st_mode)
        assert mode == 0o600, oct(mode)
    except BaseException:
        print((tmp_path / "dev.log").read_text()[-3000:])
        raise
    finally:
        dev.send_signal(signal.SIGINT)
        dev.wait(60)
