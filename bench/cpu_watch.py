"""Where the CPU went during a run: the machine's busy share and each service process's."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

from bench import procfs
from bench.cpu import busy_share


class CpuWatch:
    """Readings at creation; `line()` gives what was used since, in CPUs (1.0 = one core)."""

    def __init__(self, processes: Mapping[str, int]) -> None:
        self._processes = dict(processes)
        self._wall = time.monotonic()
        self._machine = procfs.machine_cpu()
        self._own = time.process_time()
        self._used = {name: procfs.cpu_seconds(pid) for name, pid in self._processes.items()}

    def line(self) -> str:
        wall = time.monotonic() - self._wall
        machine = busy_share(self._machine, procfs.machine_cpu())
        parts = [
            f"{name} {(procfs.cpu_seconds(pid) - self._used[name]) / wall:.2f}"
            for name, pid in self._processes.items()
        ]
        parts.append(f"bench {(time.process_time() - self._own) / wall:.2f}")
        return (
            f"cpu over {wall:.0f}s: machine {machine:.0%} busy of {os.cpu_count()} CPUs;"
            f" in CPUs: {', '.join(parts)}"
        )
