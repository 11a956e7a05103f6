"""Generation status progression, as a pure function of time."""

from __future__ import annotations

from sandbox.progression import GenerationStatus, Step, Timing, due_steps, next_step

QUEUED = GenerationStatus.QUEUED
RUNNING = GenerationStatus.RUNNING
ENHANCING = GenerationStatus.ENHANCING
READY = GenerationStatus.READY
FAILED = GenerationStatus.FAILED
TIMING = Timing(queued=1.0, running=2.0, enhancing=1.0)


class TestNextStep:
    def test_nothing_happens_before_a_phase_is_due(self) -> None:
        """A queued generation stays queued for its whole phase."""
        assert next_step(QUEUED, 10.0, 10.99, TIMING) is None

    def test_phases_follow_in_order_and_start_when_due(self) -> None:
        """queued → running → enhancing → ready, each starting when the previous was due."""
        assert next_step(QUEUED, 10.0, 11.5, TIMING) == Step(RUNNING, 11.0)
        assert next_step(RUNNING, 11.0, 13.0, TIMING, rendered=True) == Step(ENHANCING, 13.0)
        assert next_step(ENHANCING, 13.0, 14.0, TIMING) == Step(READY, 14.0)

    def test_running_waits_for_the_audio(self) -> None:
        """No generation leaves `running` before its file is rendered, however late."""
        assert next_step(RUNNING, 0.0, 100.0, TIMING) is None

    def test_a_late_render_does_not_lengthen_the_schedule(self) -> None:
        """Once rendered, the next phase is dated when it was due, so a clock jump still works."""
        assert next_step(RUNNING, 0.0, 100.0, TIMING, rendered=True) == Step(ENHANCING, 2.0)

    def test_a_planned_failure_strikes_at_the_end_of_its_phase(self) -> None:
        """A generation chosen to fail fails when that phase is due, with a reason."""
        assert next_step(RUNNING, 0.0, 2.0, TIMING, fails_in=RUNNING) == Step(
            FAILED, 2.0, "synthesis_failed"
        )
        assert next_step(ENHANCING, 0.0, 1.0, TIMING, fails_in=ENHANCING) == Step(
            FAILED, 1.0, "enhancement_failed"
        )

    def test_terminal_states_stay(self) -> None:
        """ready and failed are final."""
        assert next_step(READY, 0.0, 1e9, TIMING) is None
        assert next_step(FAILED, 0.0, 1e9, TIMING) is None


class TestDueSteps:
    def test_a_clock_jump_carries_a_generation_through(self) -> None:
        """Advancing far enough applies every due phase at once, in order."""
        steps = due_steps(QUEUED, 0.0, 100.0, TIMING, rendered=True)
        assert [step.status for step in steps] == [RUNNING, ENHANCING, READY]
        assert [step.since for step in steps] == [1.0, 3.0, 4.0]

    def test_stops_where_the_audio_is_still_missing(self) -> None:
        """Without a rendered file the jump ends in `running`."""
        assert [s.status for s in due_steps(QUEUED, 0.0, 100.0, TIMING)] == [RUNNING]

    def test_zero_length_phases_pass_at_once(self) -> None:
        """With no phase time the only wait is the audio."""
        timing = Timing(0, 0, 0)
        steps = due_steps(QUEUED, 5.0, 5.0, timing, rendered=True)
        assert [s.status for s in steps] == [RUNNING, ENHANCING, READY]
