"""The console script starts without loading the heavy stacks a command may not need."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from voicehook.cli import VoicehookGroup
from voicehook.commands.events import EventsGroup
from voicehook.commands.jobs import JobsGroup
from voicehook.lazy_group import LazyGroup, load_command

# What `voicehook --help` used to import (2.3-2.9 s on an idle machine): none is needed.
HEAVY = ("sqlalchemy", "starlette", "uvicorn", "dramatiq", "httpx", "alembic", "sandbox",
         "receiver", "processors", "records", "voicehook.commands", "bench")  # fmt: skip
# What a simple read needs not: the broker's stack, only loaded by the commands that enqueue.
BROKER = ("dramatiq", "redis", "config.broker", "processors")


# Runs the console script's app as `voicehook ARGS` would, then writes what was imported.
PROBE = """
import sys
from voicehook.cli import app
try:
    app(sys.argv[3:], prog_name="voicehook")
except SystemExit as exc:
    assert (exc.code or 0) in map(int, sys.argv[2].split(",")), exc.code
with open(sys.argv[1], "w") as out:
    out.write("\\n".join(sorted(sys.modules)))
"""


def run_probe(probe: str, *args: str, cwd: Path) -> str:
    """Run `probe` in a fresh interpreter with only PATH set; what it printed (it must exit 0)."""
    result = subprocess.run(
        [sys.executable, "-c", probe, *args],
        env={"PATH": os.environ["PATH"]},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def imported_modules(*args: str, cwd: Path, codes: tuple[int, ...] = (0,)) -> set[str]:
    """The modules a fresh interpreter has loaded after running `voicehook ARGS` (which must
    exit with one of `codes`)."""
    listing = cwd / "modules.txt"
    run_probe(PROBE, str(listing), ",".join(map(str, codes)), *args, cwd=cwd)
    return set(listing.read_text().splitlines())


def test_help_imports_no_command_module(tmp_path: Path) -> None:
    """`voicehook --help` lists every command without importing any of them."""
    modules = imported_modules("--help", cwd=tmp_path)
    loaded = sorted(m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY))
    assert loaded == []


def test_a_command_imports_only_its_own_module(tmp_path: Path) -> None:
    """`voicehook sign --help` loads the sign command, not the receiver or the sandbox."""
    modules = imported_modules("sign", "--help", cwd=tmp_path)
    assert "voicehook.commands.sign" in modules
    assert not {"receiver", "bench", "uvicorn", "starlette"} & modules


@pytest.fixture(scope="module")
def migrated_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose default SQLite database (./var/voicehook.db) is migrated."""
    folder = tmp_path_factory.mktemp("startup")
    migrated = subprocess.run(
        [sys.executable, "-m", "voicehook", "db", "upgrade"],
        env={"PATH": os.environ["PATH"]}, cwd=folder, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    return folder


def loaded(modules: set[str], roots: tuple[str, ...]) -> list[str]:
    """The modules of `modules` that are one of `roots` or inside one."""
    return sorted(m for m in modules if m.split(".")[0] in roots or m.startswith(roots))


# A simple read (one per group) and the module that shows it did read the database.
READS = [
    (("jobs", "list"), "records.job_repo"),
    (("jobs", "show", "nope"), "records.job_repo"),
    (("customers", "list"), "records.customer_repo"),
    (("events", "list"), "records.event_reads"),
    (("notifications", "list"), "records.outbox_delivery"),
]
# What no simple read needs: the broker's stack, the receiver's request models, the object
# store's boto3, structlog's set-up, the processors.
NOT_FOR_READS = (*BROKER, "receiver", "boto3", "botocore", "structlog", "config.logging")


def test_a_simple_read_loads_no_broker(migrated_folder: Path) -> None:
    """`voicehook jobs list` reads the database; Dramatiq and redis-py stay unloaded."""
    modules = imported_modules("jobs", "list", cwd=migrated_folder)
    assert "records.job_repo" in modules  # it did read
    assert loaded(modules, BROKER) == []


@pytest.mark.parametrize(("args", "reader"), READS, ids=[" ".join(a) for a, _ in READS])
def test_simple_reads_load_only_the_database_stack(
    migrated_folder: Path, args: tuple[str, ...], reader: str
) -> None:
    """Each group's read loads its repository, not what the writing commands need."""
    modules = imported_modules(*args, cwd=migrated_folder, codes=(0, 1))
    assert reader in modules  # it did read
    assert loaded(modules, NOT_FOR_READS) == []


def test_status_loads_no_broker_nor_http(migrated_folder: Path) -> None:
    """`voicehook status` reads the database and Redis: not Dramatiq, nor the HTTP client
    and logging stacks the sweeper's alert webhook needs."""
    modules = imported_modules("status", cwd=migrated_folder)
    assert "records.health_reads" in modules  # it did read
    assert loaded(modules, ("dramatiq", "config.broker", "httpx", "structlog")) == []


def test_bench_is_no_command() -> None:
    """The benchmarks are `python -m bench`, outside the product: the CLI lists no bench."""
    assert "bench" not in VoicehookGroup.entries


@pytest.mark.parametrize("group", ["jobs", "events"])
def test_a_group_help_imports_none_of_its_commands(tmp_path: Path, group: str) -> None:
    """`voicehook jobs --help` (and `events --help`) lists the group's commands without the
    database or the broker."""
    modules = imported_modules(group, "--help", cwd=tmp_path)
    assert loaded(modules, HEAVY) == ["voicehook.commands", f"voicehook.commands.{group}"]


LISTINGS = [
    (group, name) for group in (VoicehookGroup, JobsGroup, EventsGroup) for name in group.entries
]


@pytest.mark.parametrize(
    ("group", "name"), LISTINGS, ids=[f"{g.__name__}-{name}" for g, name in LISTINGS]
)
def test_the_listed_help_is_the_commands_own(group: type[LazyGroup], name: str) -> None:
    """Each line of a lazy listing says what the command's own help says."""
    entry = group.entries[name]
    command = load_command(name, entry.target)
    assert command.name == name
    assert " ".join((command.help or "").split()).startswith(entry.help)


# Runs the console script's `main` as `voicehook sign --help`, then prints the collector's state.
GC_PROBE = """
import gc, sys
from voicehook.cli import main
sys.argv = ["voicehook", "sign", "--help"]
try:
    main()
except SystemExit:
    pass
print(gc.isenabled(), gc.get_freeze_count() > 0)
"""


def test_the_console_script_collects_again_once_the_command_is_loaded(tmp_path: Path) -> None:
    """`main` pauses garbage collection while the command's modules load, then freezes what
    they made and collects again: a long-running command (`worker`, `web`) is collected."""
    assert run_probe(GC_PROBE, cwd=tmp_path).split()[-2:] == ["True", "True"]
