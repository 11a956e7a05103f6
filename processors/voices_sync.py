"""`voicehook voices sync`: bring local voices in line with `GET /v1/voices`."""

from __future__ import annotations

from typing import Any

from processors.worker import ProcessorContext
from records.voice_repo import mark_clones_ready


def sync_voices(ctx: ProcessorContext) -> tuple[list[dict[str, Any]], int]:
    """The upstream's voices, and how many local clones it showed to be ready (one API call)."""
    upstream = ctx.api.list_voices()
    by_clone_job = {
        str(item["cloneJobId"]): str(item["id"])
        for item in upstream
        if item.get("kind") == "cloned" and item.get("cloneJobId")
    }
    return upstream, mark_clones_ready(ctx.engine, by_clone_job)
