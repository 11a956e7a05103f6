"""The benchmarks are tools of the project: outside the wheel, unknown to the shipped code."""

from __future__ import annotations

import ast
import tomllib

from typer.testing import CliRunner

from bench.cli import app as bench_app
from tests.services import ROOT
from voicehook.cli import app as voicehook_app

BENCHES = ("ingest", "e2e", "budget", "memory", "drain")


def shipped_packages() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages: list[str] = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    return packages


def imported_modules(source: str) -> set[str]:
    """Every module a source file imports, absolute names only (we use no relative imports)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.add(node.module)
    return found


class TestShippedPackages:
    def test_the_wheel_leaves_the_benchmarks_out(self) -> None:
        """`bench` is not one of the wheel's packages, and voicehook holds no bench of its own."""
        assert "bench" not in shipped_packages()
        assert not (ROOT / "voicehook" / "bench").exists()

    def test_no_shipped_module_imports_the_benchmarks(self) -> None:
        """An installed voicehook would fail to import one that did."""
        importing = [
            str(path.relative_to(ROOT))
            for package in shipped_packages()
            for path in sorted((ROOT / package).rglob("*.py"))
            if any(
                name == "bench" or name.startswith("bench.")
                for name in imported_modules(path.read_text())
            )
        ]
        assert importing == []


class TestCommands:
    def test_python_m_bench_has_every_bench(self) -> None:
        """`python -m bench --help` lists the four benches."""
        result = CliRunner().invoke(bench_app, ["--help"])
        assert result.exit_code == 0, result.output
        for name in BENCHES:
            assert name in result.output

    def test_voicehook_has_no_bench_command(self) -> None:
        """The console script no longer offers `bench`."""
        result = CliRunner().invoke(voicehook_app, ["bench", "--help"])
        assert result.exit_code != 0
        assert "No such command 'bench'" in result.output
