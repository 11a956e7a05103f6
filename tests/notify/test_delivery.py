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
from tests.notify.conftest import (
    Outbox,
    deliver_until_settled,
    make_ready_job,
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
        outbox: Outbox,
    ) -> None:
        """job.ready and customer.usage_updated arrive signed, carrying the API's documents."""
        notifier = outbox.notifier()
        job_id, customer_id = make_ready_job(outbox.engine)
        assert len(outbox.published) == 2  # handed over after the commit, one per notification
        assert deliver_until_settled(notifier, outbox.published) == ["delivered", "delivered"]
        got = outbox.app.delivered()
        assert [r.payload["type"] for r in got] == ["job.ready", "customer.usage_updated"]
        assert all(r.verified_by for r in got)
        assert got[0].payload["data"] == job_document(outbox.engine, job_id)
        with outbox.engine.connect() as conn:
            assert got[1].payload["data"] == customer_document_on(conn, customer_id)
        assert got[1].payload["data"]["usage"]["jobsReady"] == 1
        assert got[0].payload["sequence"] < got[1].payload["sequence"]
        assert got[0].webhook_id.startswith("msg_")
        assert got[0].webhook_id != got[1].webhook_id

    def test_a_change_that_rolls_back_sends_nothing(
        self,
        outbox: Outbox,
    ) -> None:
        """The notification is in the change's transaction: no commit, no notification."""
        outbox.notifier()
        customer, _ = upsert_customer(outbox.engine, "acme", "Acme")
        with pytest.raises(ChangeFailed):
            _notify_then_fail(outbox.engine, customer.id)
        with outbox.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(NOTIFICATIONS)).scalar() == 0
        assert outbox.published == []

    def test_an_endpoint_down_for_a_while_gets_it_later(
        self,
        outbox: Outbox,
    ) -> None:
        """Failures are retried after a growing wait, then delivered under the same webhook-id."""
        notifier = outbox.notifier()
        outbox.app.statuses = [503, 500, 502]
        make_ready_job(outbox.engine)
        job_ready = outbox.published[:1]
        outcomes = deliver_until_settled(notifier, job_ready)
        assert outcomes == ["retry scheduled"] * 3 + ["delivered"]
        tries = [r for r in outbox.app.received if r.payload["type"] == "job.ready"]
        assert [r.answered for r in tries] == [503, 500, 502, 200]
        assert len({r.webhook_id for r in tries}) == 1
        assert all(r.verified_by for r in tries)
        (row,) = [
            d for d in list_deliveries(outbox.engine, None, 10) if d.delivery_id == job_ready[0]
        ]
        assert (row.status, row.attempts) == ("delivered", 4)

    def test_an_endpoint_always_failing_dead_letters_and_can_be_resent(
        self,
        outbox: Outbox,
    ) -> None:
        """After the last attempt the delivery is failed and listed; resend tries it again."""
        notifier = outbox.notifier(notify_max_attempts=3)
        outbox.app.default_status = 500
        make_ready_job(outbox.engine)
        outcomes = deliver_until_settled(notifier, outbox.published[:1])
        assert outcomes == ["retry scheduled", "retry scheduled", "dead-lettered"]
        (failed,) = list_deliveries(outbox.engine, "failed", 10)
        assert failed.attempts == 3
        assert failed.last_status_code == 500
        assert failed.event_type == "job.ready"
        outbox.app.default_status = 200
        assert resend(outbox.engine, failed.notification_id) == [failed.delivery_id]
        assert deliver_until_settled(notifier, [failed.delivery_id]) == ["delivered"]
        assert outbox.app.delivered()[-1].webhook_id == failed.notification_id
        assert list_deliveries(outbox.engine, "failed", 10) == []
