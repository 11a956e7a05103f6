"""The dashboard's player with audio in a bucket: the session's request is redirected to a
presigned link, which the page's CSP allows as a media source."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import Engine
from starlette.testclient import TestClient

from storage.protocol import ObjectStore
from tests.admin.conftest import csrf_of
from tests.receiver.test_audio_from_bucket import CONTENT, api, ready_job, store, web_values
from tests.receiver.test_internal_api import TOKEN

__all__ = ["api", "store", "web_values"]  # fixtures


def test_player_follows_the_redirect_to_the_bucket(
    api: TestClient, migrated_engine: Engine, store: ObjectStore, tmp_path: Path
) -> None:
    """Logged in, the player's source answers 307 to a presigned link serving the bytes;
    the bucket's endpoint is in media-src; logged out, no link is handed out."""
    job_id = ready_job(api, migrated_engine, store, tmp_path)
    assert api.get(f"/admin/jobs/{job_id}/audio", follow_redirects=False).status_code == 303
    api.post("/admin/login", data={"token": TOKEN})
    page = api.get(f"/admin/jobs/{job_id}")
    assert csrf_of(page.text)
    answer = api.get(f"/admin/jobs/{job_id}/audio", follow_redirects=False)
    assert answer.status_code == 307
    location = answer.headers["location"]
    assert httpx.get(location, trust_env=False).content == CONTENT
    endpoint = location.split("/")[2]
    assert f"media-src 'self' http://{endpoint}" in page.headers["content-security-policy"]
