"""The internal API's request bodies: validated here, before anything touches the database."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    Base64Bytes,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

# The app's metadata of a job: a small JSON object, echoed in documents and notifications.
MAX_METADATA_BYTES = 2048
MAX_METADATA_DEPTH = 4  # the object itself is depth 1

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


class CustomerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    external_ref: NonEmpty = Field(alias="externalRef")
    name: NonEmpty


class GenerationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    speed: float = Field(default=1.0, ge=0.5, le=2.0)
    pitch_semitones: float = Field(default=0, ge=-12, le=12, alias="pitchSemitones")

    def as_api(self) -> dict[str, Any]:
        return {"speed": self.speed, "pitchSemitones": self.pitch_semitones}


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    customer_id: str | None = Field(default=None, alias="customerId")
    customer_ref: str | None = Field(default=None, alias="customerRef")
    voice_id: NonEmpty = Field(alias="voiceId")
    script: Annotated[str, StringConstraints(min_length=1, max_length=5000)]
    format: Literal["mp3", "wav"] = "mp3"
    settings: GenerationSettings = Field(default_factory=GenerationSettings)
    external_ref: NonEmpty | None = Field(default=None, alias="externalRef")
    metadata: dict[str, Any] | None = Field(
        default=None,
        description=(
            f"A JSON object of at most {MAX_METADATA_BYTES} bytes (as compact JSON), "
            f"nested at most {MAX_METADATA_DEPTH} levels deep."
        ),
    )

    @field_validator("metadata")
    @classmethod
    def _small_metadata(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        try:
            encoded = orjson.dumps(value)
        except orjson.JSONEncodeError:
            raise ValueError("metadata's integers must fit in 64 bits") from None
        if len(encoded) > MAX_METADATA_BYTES:
            raise ValueError(f"metadata must be at most {MAX_METADATA_BYTES} bytes of JSON")
        if json_depth(value) > MAX_METADATA_DEPTH:
            raise ValueError(f"metadata must be nested at most {MAX_METADATA_DEPTH} levels deep")
        return value

    @model_validator(mode="after")
    def _one_customer(self) -> JobRequest:
        if (self.customer_id is None) == (self.customer_ref is None):
            raise ValueError("give exactly one of customerId or customerRef")
        if not self.script.strip():
            raise ValueError("script must not be blank")
        return self


def json_depth(value: object) -> int:
    """How deep objects and arrays nest in a JSON value (a scalar: 0)."""
    if isinstance(value, dict):
        return 1 + max((json_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((json_depth(v) for v in value), default=0)
    return 0


MAX_SAMPLE_BYTES = 20 * 1024 * 1024


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    filename: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    content: Base64Bytes = Field(alias="contentBase64")

    @model_validator(mode="after")
    def _size(self) -> Sample:
        if not self.content:
            raise ValueError("sample is empty")
        if len(self.content) > MAX_SAMPLE_BYTES:
            raise ValueError(f"sample is larger than {MAX_SAMPLE_BYTES} bytes")
        return self


class CloneRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    customer_ref: NonEmpty = Field(alias="customerRef")
    name: NonEmpty
    samples: list[Sample] = Field(min_length=1, max_length=10)
