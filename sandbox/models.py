"""The sandbox's resources, as plain mutable records held in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal

from sandbox.progression import GenerationStatus

AudioFormat = Literal["mp3", "wav"]
VoiceKind = Literal["preset", "cloned"]


class Plan(StrEnum):
    FREE = "free"
    PRO = "pro"
    SCALE = "scale"


@dataclass
class Workspace:
    id: str
    name: str
    plan: Plan
    credits: int
    api_keys: list[str] = field(default_factory=list)
    requests_served: int = 0
    requests_rate_limited: int = 0


@dataclass(frozen=True)
class Voice:
    id: str
    name: str
    kind: VoiceKind
    language: str
    created_at: datetime
    workspace_id: str | None = None
    clone_job_id: str | None = None


@dataclass(frozen=True)
class GenerationSettings:
    speed: float = 1.0
    pitch_semitones: float = 0.0


@dataclass(frozen=True)
class GenerationOrder:
    """What a generation is asked to produce: a validated request, or a control-API shortcut."""

    voice: Voice
    script: str
    format: AudioFormat
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    credits: int = 0
    forced_duration: float | None = None
    notify: bool = True


@dataclass
class Generation:
    id: str
    workspace_id: str
    order: GenerationOrder
    created_at: datetime
    status: GenerationStatus = GenerationStatus.QUEUED
    status_since: float = 0.0
    completed_at: datetime | None = None
    error: str | None = None
    fails_in: GenerationStatus | None = None
    rendered_at: float | None = None
    duration_sec: float | None = None
    file_path: Path | None = None
    size_bytes: int | None = None

    @property
    def file_name(self) -> str:
        return f"{self.id}.{self.order.format}"


@dataclass
class CloneJob:
    id: str
    workspace_id: str
    sample_paths: list[str]
    name: str
    language: str
    created_at: datetime
    started: float
    voice_id: str | None = None


@dataclass(frozen=True)
class Upload:
    workspace_id: str
    path: str
    file: Path
    size_bytes: int


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    workspace_id: str
    url: str
    secret: str
