"""The fuzz target runs briefly in the test suite (issue 12): a few thousand inputs under
atheris in a process of its own (libFuzzer exits its process), and a seed corpus in-process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.edge import check_one
from tests.services import ROOT

SEEDS = [
    b"",
    b'{"event":"generation.ready","data":{"id":"gen-1"}}',
    b'{"event":"a\\u0000","data":{"id":"x"}}',
    b"sha256=" + b"0" * 64,
    b"1.1.1.1, 2.2.2.2, [::1]:80, not-an-ip",
]


@pytest.mark.parametrize("seed", SEEDS)
def test_seed_inputs_keep_every_invariant(seed: bytes) -> None:
    """The target accepts each seed without a finding."""
    check_one(seed)


def test_a_short_fuzzing_run_finds_nothing(tmp_path: Path) -> None:
    """20,000 coverage-guided inputs break no invariant and raise nothing unexpected."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.edge", "-runs=20000", "-seed=1", "-max_len=4096",
         str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=170,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
