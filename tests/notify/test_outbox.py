"""The outbox's rules, on both databases: which endpoints get what, leases and limits,
rotation, flagging, and the sweeper's view of unsent deliveries."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import Engine

from config.database import transaction
from processors.notify_delivery import deliver
from processors.notify_message import new_secret
from records.customer_repo import upsert_customer
from records.errors import EnvironmentEndpoint
from records.ids import new_id
from records.jobs import JobStatus, Voice, VoiceStatus
from records.notify_endpoints import (
    add_endpoint,
    env_endpoint_id,
    list_endpoints,
    remove_endpoint,
    rotate_secret,
    sync_env_endpoints,
)
from records.outbox_delivery import (
    DeliveryWork,
    EndpointBusy,
    claim_delivery,
    list_deliveries,
    unsent_deliveries,
)
from records.submission_repo import submission_refused
from records.types import utcnow
from records.voice_repo import insert_voice_on, voice_cloned, voice_failed
from tests.notify.app_endpoint import running_app_endpoint
from tests.notify.conftest import (
    APP_SECRET,
    Outbox,
    deliver_until_settled,
    due_again,
    make_ready_job,
    notifier_for,
    submitting_job,
)
from tests.waiting import wait_until


def types_sent(engine: Engine) -> list[str]:
    return sorted(d.event_type for d in list_deliveries(engine, None, 100))


def claimable(engine: Engine, delivery_id: str) -> DeliveryWork | None:
    claim = claim_delivery(engine, delivery_id, lease_seconds=0.3, max_in_flight=5)
    return claim if isinstance(claim, DeliveryWork) else None


class TestWhatIsNotified:
    def test_each_transition_writes_its_event_type(
        self, migrated_engine: Engine, database_url: str, published: list[str]
    ) -> None:
        """Blocked and failed jobs, ready and failed voices: each writes its own type."""
        notifier_for(migrated_engine, database_url, ["http://127.0.0.1:9/hooks"])
        customer, _ = upsert_customer(migrated_engine, "acme", "Acme")
        for status in (JobStatus.BLOCKED, JobStatus.FAILED):
            submission = submitting_job(migrated_engine, customer.id)
            submission_refused(migrated_engine, submission, status, "402: top up")
        now = utcnow()
        for name in ("ready", "failed"):
            with transaction(migrated_engine) as conn:
                insert_voice_on(
                    conn,
                    Voice(
                        id=name,
                        customer_id=customer.id,
                        clone_job_id=f"clone-{name}",
                        status=VoiceStatus.CLONING.value,
                        created_at=now,
                        updated_at=now,
                    ),
                )
        assert voice_cloned(migrated_engine, "clone-ready", "voice-77", None)
        voice_failed(migrated_engine, "failed", "400: samples too short")
        assert types_sent(migrated_engine) == sorted(
            ["job.blocked", "job.failed", "customer.usage_updated", "voice.ready", "voice.failed"]
        )
        assert len(published) == 5

    def test_an_endpoint_gets_only_the_types_it_asked_for(
        self, migrated_engine: Engine, database_url: str
    ) -> None:
        """An event-type filter per endpoint; no endpoint at all writes nothing."""
        make_ready_job(migrated_engine)
        assert list_deliveries(migrated_engine, None, 10) == []
        add_endpoint(
            migrated_engine,
            "http://127.0.0.1:9/a",
            secret=new_secret(),
            event_types=["customer.usage_updated"],
            max_in_flight=None,
        )
        make_ready_job(migrated_engine)
        assert types_sent(migrated_engine) == ["customer.usage_updated"]


class TestLeasesAndLimits:
    def test_a_worker_that_died_mid_send_leaves_it_to_another(
        self, migrated_engine: Engine, database_url: str, published: list[str]
    ) -> None:
        """A claim not settled is claimed again once its lease runs out, same webhook-id."""
        notifier_for(migrated_engine, database_url, ["http://127.0.0.1:9/hooks"])
        make_ready_job(migrated_engine)
        first = claimable(migrated_engine, published[0])
        assert first is not None
        assert claimable(migrated_engine, published[0]) is None  # held by a live lease
        again = wait_until(
            partial(claimable, migrated_engine, published[0]), description="the lease runs out"
        )
        assert again.notification_id == first.notification_id
        assert again.attempts == 2

    def test_an_endpoint_at_its_limit_is_busy(
        self, migrated_engine: Engine, database_url: str, published: list[str]
    ) -> None:
        """No more deliveries in flight to one endpoint than its limit."""
        notifier_for(migrated_engine, database_url, ["http://127.0.0.1:9/hooks"])
        make_ready_job(migrated_engine)
        first, second = published[:2]
        held = claim_delivery(migrated_engine, first, lease_seconds=60, max_in_flight=1)
        assert isinstance(held, DeliveryWork)
        busy = claim_delivery(migrated_engine, second, lease_seconds=60, max_in_flight=1)
        assert isinstance(busy, EndpointBusy)
        assert isinstance(
            claim_delivery(migrated_engine, second, lease_seconds=60, max_in_flight=2),
            DeliveryWork,
        )

    def test_the_sweeper_finds_deliveries_nobody_sent(
        self, migrated_engine: Engine, database_url: str
    ) -> None:
        """Committed with no hand-over (the process died): found once old enough, once."""
        notifier_for(migrated_engine, database_url, ["http://127.0.0.1:9/hooks"])
        make_ready_job(migrated_engine)
        assert unsent_deliveries(migrated_engine, min_age_seconds=3600, limit=10) == []
        found = unsent_deliveries(migrated_engine, min_age_seconds=0, limit=10)
        assert len(found) == 2
        assert unsent_deliveries(migrated_engine, min_age_seconds=3600, limit=10) == []


class TestEndpoints:
    def test_rotation_signs_with_both_secrets(
        self, migrated_engine: Engine, database_url: str, published: list[str]
    ) -> None:
        """During a rotation an app holding either secret verifies every notification."""
        old, new = new_secret(), new_secret()
        with running_app_endpoint([old]) as with_old, running_app_endpoint([new]) as with_new:
            notifier = notifier_for(migrated_engine, database_url, [])
            for app in (with_old, with_new):
                endpoint_id = add_endpoint(
                    migrated_engine,
                    app.url,
                    secret=old,
                    event_types=["job.ready"],
                    max_in_flight=None,
                )
                assert rotate_secret(migrated_engine, endpoint_id, new, keep_previous_seconds=3600)
            make_ready_job(migrated_engine)
            assert deliver_until_settled(notifier, published) == ["delivered", "delivered"]
            for app in (with_old, with_new):
                (got,) = app.delivered()
                assert got.verified_by
                assert len(got.headers["webhook-signature"].split(" ")) == 2
        (listed, _) = list_endpoints(migrated_engine)
        assert listed.rotating_until is not None

    def test_environment_endpoints_follow_the_environment(self, migrated_engine: Engine) -> None:
        """NOTIFY_URLS is synced in; one dropped from it goes; they cannot be edited by hand."""
        sync_env_endpoints(migrated_engine, ["http://a.example/h", "http://b.example/h"])
        sync_env_endpoints(migrated_engine, ["http://b.example/h"])
        assert [e.url for e in list_endpoints(migrated_engine)] == ["http://b.example/h"]
        with pytest.raises(EnvironmentEndpoint):
            remove_endpoint(migrated_engine, env_endpoint_id("http://b.example/h"))
        with pytest.raises(EnvironmentEndpoint):
            rotate_secret(
                migrated_engine,
                env_endpoint_id("http://b.example/h"),
                new_secret(),
                keep_previous_seconds=1,
            )
        assert not remove_endpoint(migrated_engine, new_id())

    def test_an_endpoint_failing_long_is_flagged_then_healed(
        self,
        outbox: Outbox,
    ) -> None:
        """Past the flag time it gets one try per notification; a success clears the flag."""
        notifier = outbox.notifier(notify_flag_after_seconds=0.001)
        outbox.app.default_status = 500
        make_ready_job(outbox.engine)
        assert deliver(notifier, outbox.published[0]) == "retry scheduled"
        assert list_endpoints(outbox.engine)[0].flagged_at is None  # a spell just began
        assert deliver(notifier, outbox.published[1]) == "retry scheduled"
        assert list_endpoints(outbox.engine)[0].flagged_at is not None
        assert due_again(notifier, outbox.published[0]) == "dead-lettered"  # flagged: no retries
        outbox.app.default_status = 200
        assert due_again(notifier, outbox.published[1]) == "delivered"
        (endpoint,) = list_endpoints(outbox.engine)
        assert endpoint.flagged_at is None
        assert endpoint.failing_since is None
        assert endpoint.failed == 1
        assert APP_SECRET in outbox.app.delivered()[0].verified_by
