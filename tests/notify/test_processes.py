"""Notifications through real worker processes: a job made ready by the workers reaches the
app with the API's documents; a worker SIGKILLed mid-send loses nothing, and sends an id
again only on another try of it, with the same body."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from config.broker import build_broker, enqueue_notifications
from records.notify_endpoints import sync_env_endpoints
from records.outbox import publish_committed
from records.outbox_delivery import list_deliveries
from tests.conftest import SECRET, make_settings
from tests.in_process import Served, served_receiver_client
from tests.notify.app_endpoint import AppEndpoint
from tests.notify.conftest import APP_SECRET, make_ready_job
from tests.processors.flow import Sandbox
from tests.processors.test_worker_processes import AUTH, TOKEN, Processes, submit
from tests.receiver.conftest import receiver_env
from tests.services import wait_for


def notify_env(database_url: str, redis_url: str, app: AppEndpoint, **extra: str) -> dict[str, str]:
    return receiver_env(
        database_url,
        redis_url,
        NOTIFY_URLS=app.url,
        NOTIFY_SECRET=APP_SECRET,
        # A short time-out keeps the killed send's lease (3 x time-out + 10 s) short; on a
        # loaded machine an answer may outlast it, which is a retry, so tries are not capped.
        NOTIFY_TIMEOUT_SECONDS="1",
        NOTIFY_MAX_ATTEMPTS="100",
        NOTIFY_RETRY_BASE_SECONDS="0.2",
        NOTIFY_RETRY_MAX_SECONDS="0.5",
        SWEEPER_INTERVAL_SECONDS="0.5",
        SWEEPER_MIN_AGE_SECONDS="1",
        WORKER_PROCESSES="1",
        WORKER_THREADS="2",
        NOTIFY_WORKER_THREADS="2",
        LOG_LEVEL="debug",
        **extra,
    )


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    running = Processes({}, tmp_path)
    yield running
    running.stop_all()


class TestThroughTheWorkers:
    def test_a_job_made_ready_by_the_workers_notifies_the_app(
        self,
        *,
        database_url: str,
        redis_url: str,
        migrated_engine: Engine,
        vpai: Sandbox,
        app_endpoint: AppEndpoint,
        processes: Processes,
        tmp_path: Path,
    ) -> None:
        """Job ready → job.ready and customer.usage_updated, bodies equal to GET /api/…."""
        settings = make_settings(
            database_url, redis_url, admin_token=TOKEN, audio_dir=str(tmp_path / "audio")
        )
        with served_receiver_client(settings) as receiver:
            vpai.control.post(
                "/webhook-endpoints",
                json={"url": receiver.url + "/webhooks/voiceproductionai", "secret": SECRET},
            ).raise_for_status()
            processes.env = notify_env(
                database_url,
                redis_url,
                app_endpoint,
                ADMIN_TOKEN=TOKEN,
                AUDIO_DIR=str(tmp_path / "audio"),
                VPAI_API_BASE_URL=vpai.server.api_base_url,
                VPAI_API_KEY=vpai.server.api_key,
            )
            processes.start("worker", name="worker")
            job_id = submit(receiver)
            wait_for(
                lambda: len(app_endpoint.delivered()) >= 2,
                120,
                description="job.ready and customer.usage_updated reached the app",
                log=processes.logs,
            )
            got = app_endpoint.delivered()
            by_type = {r.payload["type"]: r for r in got}
            assert set(by_type) == {"job.ready", "customer.usage_updated"}
            assert all(r.verified_by == (APP_SECRET,) for r in got)
            assert by_type["job.ready"].payload["data"] == _get(receiver, f"/api/jobs/{job_id}")
            customer = by_type["customer.usage_updated"].payload["data"]
            assert customer == _get(receiver, f"/api/customers/{customer['id']}")
            assert customer["usage"]["jobsReady"] == 1


def _get(receiver: Served, path: str) -> object:
    response = httpx.get(receiver.url + path, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


class TestCrash:
    def test_a_worker_killed_mid_send_loses_nothing(
        self,
        database_url: str,
        redis_url: str,
        migrated_engine: Engine,
        app_endpoint: AppEndpoint,
        processes: Processes,
    ) -> None:
        """SIGKILL while the app holds the request, and a change committed while no worker
        runs: both arrive afterwards, verified, and no webhook-id is sent more often than
        it was tried."""
        processes.env = notify_env(
            database_url, redis_url, app_endpoint, VPAI_API_KEY="vk_test_unused"
        )
        sync_env_endpoints(migrated_engine, [app_endpoint.url])
        broker = build_broker(make_settings(database_url, redis_url))
        publish_committed(migrated_engine, partial(enqueue_notifications, broker))
        try:
            app_endpoint.hold()
            worker = processes.start("worker", name="worker-1")
            make_ready_job(migrated_engine)  # committed, enqueued, then sent to a held app
            wait_for(
                lambda: app_endpoint.holding >= 1,
                60,
                description="a send in flight",
                log=processes.logs,
            )
            processes.kill(worker)  # SIGKILL every worker process, mid-send
            publish_committed(migrated_engine, None)
            make_ready_job(migrated_engine)  # committed with nobody to enqueue it
        finally:
            publish_committed(migrated_engine, None)
        app_endpoint.release()
        processes.start("worker", name="worker-2")
        processes.start("sweeper", name="sweeper")
        wait_for(
            lambda: len({r.webhook_id for r in app_endpoint.delivered()}) == 4,
            120,
            description="all four notifications acknowledged",
            log=processes.logs,
        )
        wait_for(
            lambda: all(
                d.status == "delivered" for d in list_deliveries(migrated_engine, None, 10)
            ),
            60,
            description="every delivery settled",
            log=processes.logs,
        )
        deliveries = list_deliveries(migrated_engine, None, 10)
        tries = {d.notification_id: d.attempts for d in deliveries}
        acknowledged = Counter(r.webhook_id for r in app_endpoint.delivered())
        requests = Counter(r.webhook_id for r in app_endpoint.received)
        # At least once: an id reaches the app again only on another try (after a kill, or
        # an answer slower than the sender's time-out), so never more often than it was tried.
        assert set(requests) == set(acknowledged) == set(tries)  # retries reuse the webhook-id
        assert all(requests[webhook_id] <= tries[webhook_id] for webhook_id in tries)
        assert all(r.verified_by for r in app_endpoint.delivered())
        assert any(r.answered == 0 for r in app_endpoint.received)  # the killed worker's try
        assert any(attempts > 1 for attempts in tries.values())
        bodies = {r.webhook_id: r.body for r in app_endpoint.received}
        assert all(r.body == bodies[r.webhook_id] for r in app_endpoint.received)
