"""One running sandbox: its settings, clock, state, faults and background tasks, wired together."""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

from sandbox.clock import SandboxClock
from sandbox.faults import FaultInjector
from sandbox.lifecycle import Lifecycle
from sandbox.models import Plan, WebhookEndpoint, Workspace
from sandbox.progression import Timing
from sandbox.ratelimit import SlidingWindowLimiter
from sandbox.settings import SandboxSettings
from sandbox.signed_urls import DownloadLinks, UrlSigner
from sandbox.state import DEFAULT_WORKSPACE_ID, SandboxState, new_id
from sandbox.webhooks import WebhookDispatcher


class Sandbox:
    """Everything one sandbox app holds; built inside the app's lifespan, torn down with it."""

    def __init__(self, settings: SandboxSettings, data_dir: Path) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.generations_dir = data_dir / "generations"
        self.uploads_dir = data_dir / "uploads"
        self.clock = SandboxClock()
        self.state = SandboxState()
        seed = settings.seed if settings.seed is not None else random.SystemRandom().getrandbits(32)
        self.faults = FaultInjector(settings.faults, seed)
        self.limiter = SlidingWindowLimiter(
            settings.rate_limit_requests, settings.rate_limit_window_seconds
        )
        signing_secret = (
            settings.url_signing_secret.get_secret_value().encode()
            if settings.url_signing_secret
            else secrets.token_bytes(32)
        )
        self.links = DownloadLinks(
            settings.base_url(),
            UrlSigner(signing_secret),
            self.clock,
            settings.download_url_ttl_seconds,
        )
        self.dispatcher = WebhookDispatcher(
            self.clock,
            self.faults,
            retry_schedule=settings.webhook_retry_schedule,
            timeout=settings.webhook_timeout_seconds,
        )
        self.lifecycle = Lifecycle(
            clock=self.clock,
            state=self.state,
            faults=self.faults,
            dispatcher=self.dispatcher,
            links=self.links,
            timing=Timing(
                settings.queued_seconds, settings.running_seconds, settings.enhancing_seconds
            ),
            clone_seconds=settings.clone_seconds,
            speech_engine=settings.speech,
            generations_dir=self.generations_dir,
        )
        self._seed_state()

    def _seed_state(self) -> None:
        for directory in (self.generations_dir, self.uploads_dir):
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True)
        default = self.state.create_workspace(
            plan=Plan.SCALE,
            credits=self.settings.credits,
            name="Default workspace",
            api_key=self.settings.api_key.get_secret_value(),
            workspace_id=DEFAULT_WORKSPACE_ID,
        )
        if self.settings.webhook_url and self.settings.webhook_secret:
            self.add_endpoint(
                default, self.settings.webhook_url, self.settings.webhook_secret.get_secret_value()
            )

    def add_endpoint(self, workspace: Workspace, url: str, secret: str) -> WebhookEndpoint:
        endpoint = WebhookEndpoint(id=new_id(), workspace_id=workspace.id, url=url, secret=secret)
        self.state.endpoints[endpoint.id] = endpoint
        return endpoint

    def advance(self, seconds: float) -> None:
        """Move the clock and apply whatever became due, before anyone can look."""
        self.clock.advance(seconds)
        self.lifecycle.progress()
        self.dispatcher.wake()

    def reset(self) -> None:
        """Back to the state at start: one default workspace, configured endpoint and faults."""
        self.lifecycle.reset()
        self.dispatcher.reset()
        self.state.clear()
        self.limiter.reset()
        self.faults.reset()
        self.clock.reset()
        self._seed_state()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the background tasks (generation progress, webhook delivery) for the block."""
        tasks = [
            asyncio.create_task(self.lifecycle.run(), name="sandbox-lifecycle"),
            asyncio.create_task(self.dispatcher.run(), name="sandbox-webhooks"),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
