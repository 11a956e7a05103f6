"""Request bodies of the API and the control API, validated strictly; bad ones are a 400."""

from __future__ import annotations

import re
from typing import Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from sandbox.errors import InvalidRequest
from sandbox.models import AudioFormat, Plan

UPLOAD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MAX_SAMPLES = 25
EVENTS = ("generation.ready", "generation.failed", "voice.cloned")
EventName = Literal["generation.ready", "generation.failed", "voice.cloned"]
Outcome = Literal["ready", "failed", "progress"]

Model = TypeVar("Model", bound=BaseModel)


class Body(BaseModel):
    """camelCase keys, no type coercion (`"1"` is not a number), unknown keys ignored."""

    model_config = ConfigDict(strict=True, alias_generator=to_camel, extra="ignore")


def parse_body(model: type[Model], raw: bytes) -> Model:
    """Validate a JSON body; any problem is a 400 `invalid_request` naming the first one."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "body"
        raise InvalidRequest(f"{where}: {error['msg']}") from exc


class GenerationSettingsBody(Body):
    speed: float = Field(default=1.0, ge=0.5, le=2.0)
    pitch_semitones: float = Field(default=0.0, ge=-12.0, le=12.0)


class GenerationRequest(Body):
    """`POST /v1/generations`: voiceId and script required, format defaults to mp3."""

    voice_id: UUID
    script: str
    format: AudioFormat = "mp3"
    settings: GenerationSettingsBody = Field(default_factory=GenerationSettingsBody)

    @field_validator("script")
    @classmethod
    def _script_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class CloneRequest(Body):
    """`POST /v1/voices/clone`; `name` and `language` are sandbox extensions, optional."""

    sample_paths: list[str] = Field(min_length=1, max_length=MAX_SAMPLES)
    name: str | None = Field(default=None, min_length=1, max_length=100)
    language: str = Field(default="en", pattern=r"^[a-z]{2}(-[A-Za-z]{2})?$")


def upload_path(filename: str | None) -> str:
    """`uploads/<name>` for a safe file name; anything path-like or odd is a 400."""
    if not filename or not UPLOAD_NAME.fullmatch(filename) or ".." in filename:
        raise InvalidRequest("filename: give a plain file name ([A-Za-z0-9._-], at most 128)")
    return f"uploads/{filename}"


class WorkspaceCreate(Body):
    name: str = "Sandbox workspace"
    plan: Plan = Plan.SCALE
    credits: int = Field(default=100_000, ge=0)
    api_key: str | None = Field(default=None, min_length=1)


class WorkspaceUpdate(Body):
    name: str | None = None
    plan: Plan | None = None
    credits: int | None = Field(default=None, ge=0)


class KeyCreate(Body):
    key: str | None = Field(default=None, min_length=1)


class EndpointCreate(Body):
    url: str = Field(pattern=r"^https?://")
    secret: str | None = None
    workspace_id: str | None = None

    @field_validator("secret")
    @classmethod
    def _no_empty_secret(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty: an empty secret protects nothing")
        return value


class ClockAdvance(Body):
    seconds: float = Field(ge=0)


class GenerationCreate(Body):
    """`POST /sandbox/generations`: a generation made directly, outside the API and its budget."""

    workspace_id: str | None = None
    voice_id: str | None = None
    script: str = "This is a generation made by the sandbox."
    format: AudioFormat = "mp3"
    duration_sec: float | None = Field(default=None, gt=0, le=24 * 3600)
    outcome: Outcome = "ready"
    error: str = "synthesis_failed"
    notify: bool = True


class TriggerRequest(Body):
    """`POST /sandbox/trigger`: send one event, for a fresh resource or the one named by `id`."""

    event: EventName
    id: str | None = None
    workspace_id: str | None = None
