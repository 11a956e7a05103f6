"""Shared fixtures of the bench tests: wrk is a service, skipped locally and required in CI."""

from __future__ import annotations

import os
import shutil

import pytest


@pytest.fixture
def wrk() -> str:
    """wrk's path; skips without it, unless VOICEHOOK_REQUIRE_SERVICES says it must be there."""
    found = shutil.which("wrk")
    if found is None:
        if os.environ.get("VOICEHOOK_REQUIRE_SERVICES"):
            pytest.fail("wrk is required (VOICEHOOK_REQUIRE_SERVICES is set): apt-get install wrk")
        pytest.skip("wrk is not installed (apt-get install wrk)")
    return found
