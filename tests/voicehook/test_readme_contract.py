"""The README documents what the service serves: every route, the internal API's bodies."""

from __future__ import annotations

import re
from pathlib import Path

from config.database import make_engine
from receiver.internal_api import InternalApi
from tests.conftest import make_settings
from tests.services import ROOT

PATH_PARAMETER = re.compile(r"{\w+}")


def readme_section(title: str) -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split(f"### {title}\n", 1)[1].split("\n### ", 1)[0]


def test_every_internal_api_route_is_in_the_readme(tmp_path: Path) -> None:
    """Each `/api/...` route and method the app serves has its row in the README (the HTTP
    table, or the internal API's own)."""
    settings = make_settings(f"sqlite:///{tmp_path / 'x.db'}")
    engine = make_engine(settings)
    routes = InternalApi(settings, engine, lambda ids: None, lambda voice: None).routes()
    table = readme_section("HTTP") + readme_section("The internal API")
    served = {
        f"`{method} {PATH_PARAMETER.sub('{id}', route.path)}`"
        for route in routes
        for method in (route.methods or set()) - {"HEAD"}
    }
    assert served
    assert sorted(row for row in served if row not in table) == []
    engine.dispose()


def test_the_request_bodies_are_documented() -> None:
    """The fields an app must send, by their JSON names, and where the full contract is."""
    section = readme_section("The internal API")
    for field in ("externalRef", "customerRef", "customerId", "voiceId", "script", "format",
                  "pitchSemitones", "contentBase64", "metadata", "Idempotency-Key", "nextCursor",
                  "/api/openapi.json"):  # fmt: skip
        assert field in section
