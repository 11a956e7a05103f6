"""Validation of request bodies and upload names."""

from __future__ import annotations

import pytest

from sandbox.errors import InvalidRequest
from sandbox.schemas import CloneRequest, GenerationRequest, parse_body, upload_path

VOICE = "6f1c2a8e-5b0d-4c7a-9e21-3d4f5a6b7c01"


class TestGenerationRequest:
    def test_the_contract_example_is_valid(self) -> None:
        """The contract's example body parses, settings included."""
        body = parse_body(
            GenerationRequest,
            b'{"voiceId": "%s", "script": "Hello, world!", "format": "mp3",'
            b' "settings": {"speed": 1.0, "pitchSemitones": 0}}' % VOICE.encode(),
        )
        assert (body.script, body.format, body.settings.speed) == ("Hello, world!", "mp3", 1.0)

    def test_format_and_settings_have_defaults(self) -> None:
        """Only voiceId and script are required; format defaults to mp3."""
        body = parse_body(GenerationRequest, b'{"voiceId": "%s", "script": "Hi"}' % VOICE.encode())
        assert (body.format, body.settings.speed, body.settings.pitch_semitones) == ("mp3", 1, 0)

    @pytest.mark.parametrize(
        "raw",
        [
            b"",
            b"not json",
            b"[]",
            b'{"script": "Hi"}',
            b'{"voiceId": "not-a-uuid", "script": "Hi"}',
            b'{"voiceId": "%s"}' % VOICE.encode(),
            b'{"voiceId": "%s", "script": ""}' % VOICE.encode(),
            b'{"voiceId": "%s", "script": "   "}' % VOICE.encode(),
            b'{"voiceId": "%s", "script": 42}' % VOICE.encode(),
            b'{"voiceId": "%s", "script": "Hi", "format": "ogg"}' % VOICE.encode(),
            b'{"voiceId": "%s", "script": "Hi", "settings": {"speed": 3}}' % VOICE.encode(),
            b'{"voiceId": "%s", "script": "Hi", "settings": {"speed": "1"}}' % VOICE.encode(),
            b'{"voiceId": "%s", "script": "Hi", "settings": {"speed": true}}' % VOICE.encode(),
            b'{"voiceId": "%s", "script": "Hi", "settings": {"pitchSemitones": -13}}'
            % VOICE.encode(),
            b'{"voiceId": "%s", "script": "Hi", "settings": []}' % VOICE.encode(),
        ],
    )
    def test_malformed_bodies_are_invalid_requests(self, raw: bytes) -> None:
        """Every malformed body is a 400 invalid_request that says what is wrong."""
        with pytest.raises(InvalidRequest) as caught:
            parse_body(GenerationRequest, raw)
        assert caught.value.status == 400
        assert caught.value.body()["error"] == "invalid_request"
        assert caught.value.message


class TestCloneRequest:
    def test_needs_at_least_one_sample(self) -> None:
        """An empty samplePaths list is refused."""
        with pytest.raises(InvalidRequest):
            parse_body(CloneRequest, b'{"samplePaths": []}')

    def test_name_and_language_are_optional(self) -> None:
        """The sandbox's extra fields default sensibly."""
        body = parse_body(CloneRequest, b'{"samplePaths": ["uploads/a.wav"]}')
        assert (body.sample_paths, body.name, body.language) == (["uploads/a.wav"], None, "en")


class TestUploadPath:
    def test_plain_names_become_upload_paths(self) -> None:
        """`sample1.wav` is stored as `uploads/sample1.wav`."""
        assert upload_path("sample1.wav") == "uploads/sample1.wav"

    @pytest.mark.parametrize(
        "name", [None, "", "../etc/passwd", "a/b.wav", ".hidden", "a..b", "x" * 129, "ü.wav"]
    )
    def test_path_like_or_odd_names_are_refused(self, name: str | None) -> None:
        """Nothing that could escape the upload folder is accepted."""
        with pytest.raises(InvalidRequest):
            upload_path(name)
