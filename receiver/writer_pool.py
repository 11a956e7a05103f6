"""The receiver's writer processes: started with the app, replaced when one dies.

Each `WriterProcess` is a child running `receiver.writer` on one end of a socket pair.
Batches are sent as they form, without waiting for earlier answers; the writer commits
whatever is waiting in one transaction and answers for those batches in order, and each
answer is routed from the socket's `data_received` to the callback its batch was sent with.
The `WriterPool` starts the writers, picks the least loaded, and restarts any that exit.
A batch whose writer dies, or does not answer in time, fails with StorageUnavailable (a 503,
so the sender retries; if it had committed, the retry is a duplicate). Nothing is
acknowledged that the writer did not report committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections import deque
from collections.abc import Callable, Sequence
from typing import cast

import structlog

from config.errors import StorageUnavailable
from config.settings import Settings
from receiver.errors import WriterGone
from receiver.writer_protocol import (
    Committed,
    EnqueueFailed,
    Failed,
    FrameDecoder,
    Ready,
    TracedBatch,
    frame,
    outcomes_from_wire,
)
from records.event_store import Incoming, Outcome

log = structlog.get_logger(__name__)

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
RESTART_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)  # between failed starts; the last one repeats

OnEnqueueFailure = Callable[[int], None]
Answer = list[Outcome] | StorageUnavailable
OnAnswer = Callable[[Answer], None]


class WriterProcess(asyncio.Protocol):
    """One writer child, and the protocol of the socket to it; see the module docstring.

    Answers are handled in `data_received` itself, not by a task woken to read them: under
    load the event loop is busy, and each extra hop would add to every batch's latency.
    """

    def __init__(self, process: asyncio.subprocess.Process, on_enqueue_failure: OnEnqueueFailure):
        self._process = process
        self._on_enqueue_failure = on_enqueue_failure
        self._decoder = FrameDecoder()
        self._transport: asyncio.Transport | None = None
        self._ready: asyncio.Future[Ready] = asyncio.get_running_loop().create_future()
        # Read here so that a writer that died after its start was given up on logs nothing.
        self._ready.add_done_callback(lambda ready: ready.cancelled() or ready.exception())
        self._killing: asyncio.Task[None] | None = None
        self._in_flight: deque[tuple[int, OnAnswer]] = deque()  # (deliveries, callback)
        self.commits = 0  # transactions it reported committed
        self._timeout = 0.0
        self._deadline: asyncio.TimerHandle | None = None
        self.exited = asyncio.Event()

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return not self.exited.is_set()

    @property
    def in_flight(self) -> int:
        """Batches sent and not yet answered."""
        return len(self._in_flight)

    @classmethod
    async def start(cls, settings: Settings, on_enqueue_failure: OnEnqueueFailure) -> WriterProcess:
        """Start a writer and wait until it is ready; StorageUnavailable if it cannot start."""
        ours, theirs = socket.socketpair()
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "receiver.writer",
                str(theirs.fileno()),
                pass_fds=(theirs.fileno(),),
                stdin=asyncio.subprocess.DEVNULL,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        writer = cls(process, on_enqueue_failure)
        try:
            await asyncio.get_running_loop().create_unix_connection(lambda: writer, sock=ours)
        except BaseException:
            ours.close()
            await asyncio.shield(writer.kill())
            raise
        try:
            writer._send(settings)
            async with asyncio.timeout(START_TIMEOUT_SECONDS):
                await writer._ready
        except BaseException as exc:
            await asyncio.shield(writer.kill())
            if isinstance(exc, WriterGone | TimeoutError):
                raise StorageUnavailable(
                    f"the writer process did not start ({exc or 'timed out'}; "
                    f"exit code {process.returncode})"
                ) from None
            raise
        return writer

    def commit(self, batch: Sequence[Incoming], on_answer: OnAnswer, timeout: float) -> None:
        """Send `batch`; `on_answer` gets its outcomes, or StorageUnavailable, exactly once.

        If `timeout` seconds pass with batches in flight and no answer, the writer is taken to
        be stuck: it is killed, and everything in flight fails.
        """
        rows = [item.row() for item in batch]
        traces = {item.event_id: item.trace for item in batch if item.trace}
        try:
            self._send(TracedBatch(rows, traces) if traces else rows)
        except WriterGone:  # it died; its connection_lost has not run yet
            on_answer(StorageUnavailable("the writer process has exited"))
            return
        self._in_flight.append((len(batch), on_answer))
        self._timeout = timeout
        if self._deadline is None:
            self._deadline = asyncio.get_running_loop().call_later(timeout, self._timed_out)

    async def stop(self) -> None:
        """Close the socket (the writer finishes and exits); kill it if it takes too long."""
        if self._transport is not None:
            self._transport.close()
        try:
            async with asyncio.timeout(STOP_TIMEOUT_SECONDS):
                await self._process.wait()
        except TimeoutError:
            log.error("ingest.writer_stop_timeout", pid=self.pid)
        await self.kill()

    async def reaped(self) -> None:
        """Wait until the process has been waited for (after an exit or a kill)."""
        if self._killing is not None:
            await asyncio.gather(self._killing, return_exceptions=True)
        await self._process.wait()

    async def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._process.kill()
        await self._process.wait()
        if self._transport is not None:
            self._transport.close()
        self._gone()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        for message in self._decoder.feed(data):
            if isinstance(message, Committed):
                self._committed(message)
            elif isinstance(message, Failed):
                self._fail(message.batches, StorageUnavailable(message.error))
            elif isinstance(message, EnqueueFailed):
                self._on_enqueue_failure(message.events)
            elif isinstance(message, Ready) and not self._ready.done():
                self._ready.set_result(message)
            else:
                log.error("ingest.writer_unexpected_message", message=repr(message)[:200])

    def connection_lost(self, exc: Exception | None) -> None:
        self._gone()

    def _send(self, message: object) -> None:
        if not self.alive or self._transport is None or self._transport.is_closing():
            raise WriterGone("the writer socket is closed")
        self._transport.write(frame(message))

    def _committed(self, message: Committed) -> None:
        outcomes = outcomes_from_wire(message.outcomes)
        answered = [self._in_flight.popleft() for _ in range(min(message.batches, self.in_flight))]
        if sum(count for count, _ in answered) != len(outcomes):
            log.error("ingest.writer_miscounted", batches=message.batches, outcomes=len(outcomes))
            self._kill_soon()
            failure = StorageUnavailable("the writer answered with the wrong number of outcomes")
            for _, on_answer in answered:
                on_answer(failure)
            return
        self.commits += 1
        self._progress()
        start = 0
        for count, on_answer in answered:
            on_answer(outcomes[start : start + count])
            start += count

    def _fail(self, batches: int, failure: StorageUnavailable) -> None:
        answered = [self._in_flight.popleft() for _ in range(min(batches, len(self._in_flight)))]
        self._progress()
        for _, on_answer in answered:
            on_answer(failure)

    def _progress(self) -> None:
        """An answer came: restart the clock for what is still in flight."""
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        if self._in_flight:
            loop = asyncio.get_running_loop()
            self._deadline = loop.call_later(self._timeout, self._timed_out)

    def _timed_out(self) -> None:
        self._deadline = None
        log.error("ingest.writer_timeout", pid=self.pid, seconds=self._timeout)
        self._fail(
            len(self._in_flight),
            StorageUnavailable(f"the writer did not answer within {self._timeout:.0f}s"),
        )
        self._kill_soon()

    def _kill_soon(self) -> None:
        """It may be stuck or confused; the pool replaces it once it has exited."""
        self.exited.set()  # no new batches for it
        if self._killing is None:
            self._killing = asyncio.get_running_loop().create_task(self.kill())

    def _gone(self) -> None:
        self.exited.set()
        if not self._ready.done():
            self._ready.set_exception(WriterGone("the writer process exited"))
        if self._in_flight:
            self._fail(len(self._in_flight), StorageUnavailable("the writer process exited"))


class WriterPool:
    """`size` writer processes, restarted when they exit; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        *,
        size: int,
        on_enqueue_failure: OnEnqueueFailure,
        on_restart: Callable[[], None] = lambda: None,
        commit_timeout: float | None = None,
    ) -> None:
        self._settings = settings
        self._size = size
        self._on_enqueue_failure = on_enqueue_failure
        self._on_restart = on_restart
        self._on_available: Callable[[], None] = lambda: None
        # A commit that waits on a lock gives up after the database timeout; by default allow
        # it that, its enqueue, and some slack before deciding the writer is stuck.
        self.commit_timeout = commit_timeout or settings.database_timeout_seconds * 2 + 10
        self._writers: list[WriterProcess] = []
        self._exited: list[WriterProcess] = []  # replaced, perhaps still being reaped
        self._watchers: set[asyncio.Task[None]] = set()
        self._stopping = False

    @property
    def alive(self) -> int:
        """How many writers are running now."""
        return sum(writer.alive for writer in self._writers)

    @property
    def writers(self) -> list[WriterProcess]:
        """The running writers."""
        return [writer for writer in self._writers if writer.alive]

    def least_loaded(self) -> WriterProcess | None:
        """The running writer with the fewest batches in flight; None if none runs."""
        running = self.writers
        return min(running, key=lambda writer: writer.in_flight) if running else None

    async def start(self, on_available: Callable[[], None]) -> None:
        """Start every writer; `on_available` is called whenever a replacement is ready.

        StorageUnavailable, with none left running, if one cannot start.
        """
        self._on_available = on_available
        started = await asyncio.gather(
            *(self._spawn() for _ in range(self._size)), return_exceptions=True
        )
        for result in started:
            if isinstance(result, BaseException):
                await self.stop()
                raise result

    async def stop(self) -> None:
        self._stopping = True
        for task in list(self._watchers):
            task.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        await asyncio.gather(*(writer.stop() for writer in self._writers if writer.alive))
        await asyncio.gather(*(writer.reaped() for writer in self._exited + self._writers))
        self._writers.clear()
        self._exited.clear()

    async def _spawn(self) -> None:
        writer = await WriterProcess.start(self._settings, self._on_enqueue_failure)
        self._writers.append(writer)
        watcher = asyncio.get_running_loop().create_task(self._replace_when_gone(writer))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)
        self._on_available()

    async def _replace_when_gone(self, writer: WriterProcess) -> None:
        await writer.exited.wait()
        if self._stopping:
            return
        self._writers.remove(writer)
        self._exited.append(writer)
        log.error("ingest.writer_exited", pid=writer.pid, commits=writer.commits)
        self._on_restart()
        for attempt in range(sys.maxsize):
            if self._stopping:
                return
            try:
                await self._spawn()
            except StorageUnavailable as exc:
                delay = RESTART_DELAYS[min(attempt, len(RESTART_DELAYS) - 1)]
                log.error("ingest.writer_restart_failed", error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)
            else:
                break
        await writer.reaped()
        self._exited.remove(writer)
