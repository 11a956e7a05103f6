"""Moves generations and clone jobs along on the sandbox clock, renders audio, fires events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from sandbox.audio import Speech, SpeechEngine, render
from sandbox.clock import Clock
from sandbox.faults import FaultInjector
from sandbox.models import CloneJob, Generation, GenerationOrder, Voice, Workspace
from sandbox.progression import GenerationStatus, Step, Timing, due_steps
from sandbox.signed_urls import DownloadLinks
from sandbox.state import SandboxState, new_id
from sandbox.views import generation_view, voice_view
from sandbox.webhooks import Delivery, WebhookDispatcher

log = logging.getLogger(__name__)

IDLE_WAKE_SECONDS = 1.0
FAILURE_PHASES = (GenerationStatus.RUNNING, GenerationStatus.ENHANCING)


class Lifecycle:
    """Owns every state change that happens by itself, as time passes."""

    def __init__(
        self,
        *,
        clock: Clock,
        state: SandboxState,
        faults: FaultInjector,
        dispatcher: WebhookDispatcher,
        links: DownloadLinks,
        timing: Timing,
        clone_seconds: float,
        speech_engine: SpeechEngine,
        generations_dir: Path,
    ) -> None:
        self._clock = clock
        self._state = state
        self._faults = faults
        self._dispatcher = dispatcher
        self._links = links
        self._timing = timing
        self._clone_seconds = clone_seconds
        self._speech_engine = speech_engine
        self._dir = generations_dir
        self._active: dict[str, Generation] = {}
        self._cloning: dict[str, CloneJob] = {}
        self._renders: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    def submit_generation(self, workspace: Workspace, order: GenerationOrder) -> Generation:
        """Queue a generation; whether it will fail (a fault) is decided now, reproducibly."""
        generation = self._new_generation(workspace, order)
        if self._faults.strikes("generation_failure_rate"):
            generation.fails_in = self._faults.stream("failure_phase").choice(FAILURE_PHASES)
        self._active[generation.id] = generation
        self._wake.set()
        return generation

    async def complete_generation_now(
        self, workspace: Workspace, order: GenerationOrder
    ) -> Generation:
        """Render at once and mark ready, skipping the phases (control API and triggers)."""
        generation = self._new_generation(workspace, order)
        generation.status = GenerationStatus.RUNNING
        await self._render(generation)
        if self._is_current(generation) and generation.status is GenerationStatus.RUNNING:
            self._enter(generation, Step(GenerationStatus.READY, self._clock.monotonic()))
        return generation

    def fail_generation_now(
        self, workspace: Workspace, order: GenerationOrder, reason: str
    ) -> Generation:
        generation = self._new_generation(workspace, order)
        self._enter(generation, Step(GenerationStatus.FAILED, self._clock.monotonic(), reason))
        return generation

    def _new_generation(self, workspace: Workspace, order: GenerationOrder) -> Generation:
        generation = Generation(
            id=new_id(),
            workspace_id=workspace.id,
            order=order,
            created_at=self._clock.now(),
            status_since=self._clock.monotonic(),
        )
        self._state.generations[generation.id] = generation
        return generation

    def submit_clone(
        self, workspace: Workspace, sample_paths: list[str], name: str, language: str
    ) -> CloneJob:
        job = self._new_clone_job(workspace, sample_paths, name, language)
        self._cloning[job.id] = job
        self._wake.set()
        return job

    def clone_now(self, workspace: Workspace, name: str, language: str) -> Voice:
        """A finished clone job and its voice, with `voice.cloned` sent (for triggers)."""
        return self._finish_clone(self._new_clone_job(workspace, [], name, language))

    def _new_clone_job(
        self, workspace: Workspace, sample_paths: list[str], name: str, language: str
    ) -> CloneJob:
        job = CloneJob(
            id=new_id(),
            workspace_id=workspace.id,
            sample_paths=sample_paths,
            name=name,
            language=language,
            created_at=self._clock.now(),
            started=self._clock.monotonic(),
        )
        self._state.clone_jobs[job.id] = job
        return job

    def download_url(self, generation: Generation, *, expired: bool = False) -> str | None:
        """A signed link to the file of a ready generation, fresh unless `expired`."""
        if generation.status is not GenerationStatus.READY:
            return None
        if expired:
            return self._links.expired(generation.file_name)
        return self._links.fresh(generation.file_name)

    def notify_generation(self, generation: Generation, event: str) -> list[Delivery]:
        expired = event == "generation.ready" and self._faults.strikes("expired_url_rate")
        data = generation_view(generation, self.download_url(generation, expired=expired))
        endpoints = self._state.endpoints_for(generation.workspace_id)
        return self._dispatcher.emit(endpoints, event, data)

    def notify_voice(self, voice: Voice) -> list[Delivery]:
        if voice.workspace_id is None:  # presets belong to no workspace and are never cloned
            return []
        endpoints = self._state.endpoints_for(voice.workspace_id)
        return self._dispatcher.emit(endpoints, "voice.cloned", voice_view(voice))

    def progress(self) -> None:
        """Apply every transition due on the sandbox clock, and have `run` plan its next wake."""
        self._apply_due()
        self._wake.set()

    def _apply_due(self) -> None:
        now = self._clock.monotonic()
        for generation in list(self._active.values()):
            for step in due_steps(
                generation.status,
                generation.status_since,
                now,
                self._timing,
                fails_in=generation.fails_in,
                rendered=generation.rendered_at is not None,
            ):
                self._enter(generation, step)
        for job in list(self._cloning.values()):
            if now >= job.started + self._clone_seconds:
                self._finish_clone(job)

    def _enter(self, generation: Generation, step: Step) -> None:
        generation.status = step.status
        generation.status_since = step.since
        if step.status is GenerationStatus.RUNNING and generation.fails_in is not step.status:
            self._start_render(generation)
        if not step.status.terminal:
            return
        self._active.pop(generation.id, None)
        generation.completed_at = self._clock.now()
        if step.status is GenerationStatus.FAILED:
            generation.error = step.error
            self._refund(generation)
        if generation.order.notify:
            self.notify_generation(generation, f"generation.{step.status.value}")

    def _refund(self, generation: Generation) -> None:
        workspace = self._state.workspaces.get(generation.workspace_id)
        if workspace is not None:
            workspace.credits += generation.order.credits

    def _finish_clone(self, job: CloneJob) -> Voice:
        self._cloning.pop(job.id, None)
        voice = self._state.add_cloned_voice(
            job.workspace_id, job.name, job.language, self._clock.now(), job.id
        )
        job.voice_id = voice.id
        self.notify_voice(voice)
        return voice

    def _start_render(self, generation: Generation) -> None:
        task = asyncio.create_task(self._render(generation))
        self._renders.add(task)
        task.add_done_callback(self._renders.discard)

    async def _render(self, generation: Generation) -> None:
        order = generation.order
        speech = Speech(
            script=order.script,
            language=order.voice.language,
            speed=order.settings.speed,
            pitch_semitones=order.settings.pitch_semitones,
            duration=order.forced_duration,
        )
        path = self._dir / generation.file_name
        try:
            audio = await asyncio.to_thread(render, path, order.format, speech, self._speech_engine)
        except Exception:
            log.exception("could not render generation %s", generation.id)
            if self._is_current(generation):
                self._enter(
                    generation,
                    Step(GenerationStatus.FAILED, self._clock.monotonic(), "render_failed"),
                )
            return
        if not self._is_current(generation):
            path.unlink(missing_ok=True)
            return
        generation.file_path = audio.path
        generation.duration_sec = audio.duration_sec
        generation.size_bytes = audio.size_bytes
        generation.rendered_at = self._clock.monotonic()
        self.progress()

    def _is_current(self, generation: Generation) -> bool:
        """False once a reset has replaced the state this generation belonged to."""
        return self._state.generations.get(generation.id) is generation

    def reset(self) -> None:
        for task in self._renders:
            task.cancel()
        self._active.clear()
        self._cloning.clear()

    async def run(self) -> None:
        """Apply due transitions until cancelled, sleeping until the next deadline."""
        try:
            while True:
                self._wake.clear()
                self._apply_due()
                await self._sleep()
        finally:
            for task in self._renders:
                task.cancel()
            await asyncio.gather(*self._renders, return_exceptions=True)

    def _next_due(self) -> float | None:
        deadlines = [
            g.status_since + self._timing.duration(g.status)
            for g in self._active.values()
            if not (g.status is GenerationStatus.RUNNING and g.rendered_at is None)
            or g.fails_in is GenerationStatus.RUNNING
        ]
        deadlines += [job.started + self._clone_seconds for job in self._cloning.values()]
        return min(deadlines, default=None)

    async def _sleep(self) -> None:
        due = self._next_due()
        now = self._clock.monotonic()
        timeout = IDLE_WAKE_SECONDS if due is None else min(IDLE_WAKE_SECONDS, due - now)
        if timeout <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
