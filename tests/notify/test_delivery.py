"""Notifications from state change to the app's endpoint: written with the change, signed,
verified by the app with `standardwebhooks`, retried, dead-lettered (real HTTP, both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from config.database import transaction
from records.customer_repo import upsert_customer
from records.documents import customer_document_on
from records.job_repo import job_document
from records.outbox import notify
from records.outbox_delivery import list_deliveries, resend
from records.outbox_tables import NOTIFICATIONS, EventType
from tests.notify.app_endpoint import AppEndpoint
from tests.notify.conftest import (
    deliver_until_settled,
    make_ready_job,
    notifier_for,
)


class ChangeFailed(Exception):
    pass


def _notify_then_fail(engine: Engine, customer_id: str) -> None:
    with transaction(engine) as conn:
        assert notify(conn, EventType.CUSTOMER_USAGE_UPDATED, customer_id)
        raise ChangeFailed("the change failed after its notification was written")


class TestDelivery:
    def test_a_ready_job_reaches_the_app_verified_with_its_document(
        self,
        migrated_engine: Engine,
        database_url: str,
        app_endpoint: AppEndpoint,
        published: list[str],
    ) -> None:
        """job.ready and customer.usage_updated arrive signed, carrying the API's documents."""
        notifier = notifier_for(migrated_engine, database_url, [app_endpoint.url])
        job_id, customer_id = make_ready_job(migrated_engine)
        assert len(published) == 2  # handed over after the commit, one per notification
        assert deliver_until_settled(notifier, published) == ["delivered", "delivered"]
        got = app_endpoint.delivered()
        assert [r.payload["type"] for r in got] == ["job.ready", "customer.usage_updated"]
        assert all(r.verified_by for r in got)
        assert got[0].payload["data"] == job_document(migrated_engine, job_id)
        with migrated_engine.connect() as conn:
            assert got[1].payload["data"] == customer_document_on(conn, customer_id)
        assert got[1].payload["data"]["usage"]["jobsReady"] == 1
        assert got[0].payload["sequence"] < got[1].payload["sequence"]
        assert got[0].webhook_id.startswith("msg_")
        assert got[0].webhook_id != got[1].webhook_id

    def test_a_change_that_rolls_back_sends_nothing(
        self,
        migrated_engine: Engine,
        database_url: str,
        app_endpoint: AppEndpoint,
        published: list[str],
    ) -> None:
        """The notification is in the change's transaction: no commit, no notification."""
        notifier_for(migrated_engine, database_url, [app_endpoint.url])
        customer, _ = upsert_customer(migrated_engine, "acme", "Acme")
        with pytest.raises(ChangeFailed):
            _notify_then_fail(migrated_engine, customer.id)
        with migrated_engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(NOTIFICATIONS)).scalar() == 0
        assert published == []

    def test_an_endpoint_down_for_a_while_gets_it_later(
        self,
        migrated_engine: Engine,
        database_url: str,
        app_endpoint: AppEndpoint,
        published: list[str],
    ) -> None:
        """Failures are retried after a growing wait, then delivered under the same webhook-id."""
        notifier = notifier_for(migrated_engine, database_url, [app_endpoint.url])
        app_endpoint.statuses = [503, 500, 502]
        make_ready_job(migrated_engine)
        job_ready = published[:1]
        outcomes = deliver_until_settled(notifier, job_ready)
        assert outcomes == ["retry scheduled"] * 3 + ["delivered"]
        tries = [r for r in app_endpoint.received if r.payload["type"] == "job.ready"]
        assert [r.answered for r in tries] == [503, 500, 502, 200]
        assert len({r.webhook_id for r in tries}) == 1
        assert all(r.verified_by for r in tries)
        (row,) = [
            d for d in list_deliveries(migrated_engine, None, 10) if d.delivery_id == job_ready[0]
        ]
        assert (row.status, row.attempts) == ("delivered", 4)

    def test_an_endpoint_always_failing_dead_letters_and_can_be_resent(
        self,
        migrated_engine: Engine,
        database_url: str,
        app_endpoint: AppEndpoint,
        published: list[str],
    ) -> None:
        """After the last attempt the delivery is failed and listed; resend tries it again."""
        notifier = notifier_for(
            migrated_engine, database_url, [app_endpoint.url], notify_max_attempts=3
        )
        app_endpoint.default_status = 500
        make_ready_job(migrated_engine)
        outcomes = deliver_until_settled(notifier, published[:1])
        assert outcomes == ["retry scheduled", "retry scheduled", "dead-lettered"]
        (failed,) = list_deliveries(migrated_engine, "failed", 10)
        assert failed.attempts == 3
        assert failed.last_status_code == 500
        assert failed.event_type == "job.ready"
        app_endpoint.default_status = 200
        assert resend(migrated_engine, failed.notification_id) == [failed.delivery_id]
        assert deliver_until_settled(notifier, [failed.delivery_id]) == ["delivered"]
        assert app_endpoint.delivered()[-1].webhook_id == failed.notification_id
        assert list_deliveries(migrated_engine, "failed", 10) == []
