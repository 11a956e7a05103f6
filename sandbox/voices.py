"""The preset voices every workspace sees, with ids that never change."""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.models import Voice

PRESETS_CREATED_AT = datetime(2024, 1, 1, tzinfo=UTC)


def _preset(voice_id: str, name: str, language: str) -> Voice:
    return Voice(voice_id, name, "preset", language, PRESETS_CREATED_AT)


PRESET_VOICES: tuple[Voice, ...] = (
    _preset("6f1c2a8e-5b0d-4c7a-9e21-3d4f5a6b7c01", "Emma", "en"),
    _preset("0b7e4d2a-91c3-4f58-8a6e-5c2d1b0a9f02", "Liam", "en"),
    _preset("3a9d8c7b-6e5f-4a3b-9c2d-1e0f9a8b7c03", "Sofía", "es"),
    _preset("8e2f1a0b-3c4d-4e5f-8a9b-0c1d2e3f4a04", "Lukas", "de"),
    _preset("5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b05", "Chloé", "fr"),
    _preset("9c8b7a6f-5e4d-4c3b-a2f1-0e9d8c7b6a06", "Aiko", "ja"),
)
DEFAULT_VOICE = PRESET_VOICES[0]
