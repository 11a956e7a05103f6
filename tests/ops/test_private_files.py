"""Files holding bodies are created owner-only (issue 12, item 10)."""

from __future__ import annotations

import stat
from pathlib import Path

from config.database import make_engine
from tests.conftest import make_settings
from voicehook.ops.capture import Capture, write_directory, write_jsonl


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_exports_are_owner_only(tmp_path: Path) -> None:
    """Both export forms write mode 0600 files."""
    capture = Capture(body=b"{}", source="test")
    write_jsonl(tmp_path / "all.jsonl", [capture])
    write_directory(tmp_path / "dir", [capture])
    assert mode(tmp_path / "all.jsonl") == 0o600
    assert [mode(path) for path in (tmp_path / "dir").iterdir()] == [0o600]


def test_a_new_sqlite_database_is_owner_only(tmp_path: Path) -> None:
    """The SQLite file is created 0600 before SQLite opens it."""
    engine = make_engine(make_settings(f"sqlite:///{tmp_path / 'v.db'}"))
    with engine.connect():
        pass
    engine.dispose()
    assert mode(tmp_path / "v.db") == 0o600
