"""Log output: JSON lines or console, context binding, and no secret ever printed."""

from __future__ import annotations

import io
import logging

import orjson
import structlog

from config.logging import REDACTED, configure_logging
from config.settings import Settings


def configured(stream: io.StringIO, **values: object) -> structlog.typing.FilteringBoundLogger:
    settings = Settings.model_validate(
        {
            "vpai_webhook_secrets": "whsec_topsecret,whsec_oldsecret",
            "vpai_api_key": "vk_live_apikey123",
            **values,
        }
    )
    configure_logging(settings, stream=stream)
    return structlog.get_logger("test")  # type: ignore[no-any-return]


class TestConfigureLogging:
    def test_json_lines(self) -> None:
        """LOG_FORMAT=json writes one JSON object per line with level and timestamp."""
        stream = io.StringIO()
        configured(stream, log_format="json").info("webhook.accepted", event_id="e1")
        line = orjson.loads(stream.getvalue().splitlines()[-1])
        assert line["event"] == "webhook.accepted"
        assert line["event_id"] == "e1"
        assert line["level"] == "info"
        assert "timestamp" in line

    def test_console(self) -> None:
        """LOG_FORMAT=console writes readable text, not JSON."""
        stream = io.StringIO()
        configured(stream, log_format="console").info("webhook.accepted", event_id="e1")
        text = stream.getvalue()
        assert "webhook.accepted" in text
        assert "event_id=e1" in text
        assert not text.lstrip().startswith("{")

    def test_context_is_bound(self) -> None:
        """Values bound to the context (request id) appear on every line."""
        stream = io.StringIO()
        log = configured(stream)
        with structlog.contextvars.bound_contextvars(request_id="r-1"):
            log.info("a")
        assert orjson.loads(stream.getvalue().splitlines()[-1])["request_id"] == "r-1"

    def test_secrets_never_appear(self) -> None:
        """Configured secrets and sensitive keys are redacted wherever they show up."""
        stream = io.StringIO()
        log = configured(stream)
        log.info(
            "oops",
            detail="header was whsec_topsecret and key vk_live_apikey123",
            authorization="Bearer vk_live_apikey123",
            nested={"secret": "whsec_oldsecret", "note": "whsec_oldsecret!"},
        )
        logging.getLogger("uvicorn.error").warning("stdlib saw whsec_topsecret")
        output = stream.getvalue()
        for secret in ("whsec_topsecret", "whsec_oldsecret", "vk_live_apikey123"):
            assert secret not in output
        assert output.count(REDACTED) >= 4

    def test_level_filters(self) -> None:
        """Lines below LOG_LEVEL are dropped."""
        stream = io.StringIO()
        log = configured(stream, log_level="warning")
        log.info("quiet")
        log.warning("loud")
        assert "quiet" not in stream.getvalue()
        assert "loud" in stream.getvalue()
