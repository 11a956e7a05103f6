"""The receiver ↔ writer wire format: frames survive any split of the byte stream."""

from __future__ import annotations

import socket

import pytest

from receiver.errors import WriterGone
from receiver.writer_protocol import (
    Committed,
    FrameDecoder,
    frame,
    outcomes_from_wire,
    outcomes_to_wire,
    receive,
    send,
)
from records.event_store import Outcome


class TestFrameDecoder:
    def test_messages_come_out_whole_however_the_bytes_are_split(self) -> None:
        """Byte-at-a-time, several frames per chunk, or a frame across chunks: same messages."""
        messages: list[object] = [[("a", 1)], Committed(2, [("e1", True, "received")]), "x" * 5000]
        stream = b"".join(frame(message) for message in messages)
        for chunk_size in (1, 3, 7, 100, len(stream)):
            decoder = FrameDecoder()
            decoded: list[object] = []
            for start in range(0, len(stream), chunk_size):
                decoded.extend(decoder.feed(stream[start : start + chunk_size]))
            assert decoded == messages

    def test_an_incomplete_frame_waits_for_the_rest(self) -> None:
        """Nothing is returned until the frame's last byte has arrived."""
        data = frame(["only"])
        decoder = FrameDecoder()
        assert decoder.feed(data[:-1]) == []
        assert decoder.feed(data[-1:]) == [["only"]]


class TestBlockingSide:
    def test_receive_reads_frames_and_times_out_between_them(self) -> None:
        """The writer's blocking reader: a message, None on a quiet timeout, WriterGone at EOF."""
        ours, theirs = socket.socketpair()
        with ours, theirs:
            send(ours, ["batch"])
            assert receive(theirs) == ["batch"]
            assert receive(theirs, timeout=0.01) is None
            ours.close()
            with pytest.raises(WriterGone):
                receive(theirs)


class TestOutcomes:
    def test_outcomes_round_trip_as_plain_tuples(self) -> None:
        """Outcomes cross as tuples and come back as Outcome values."""
        outcomes = [Outcome("e1", True, "received"), Outcome("e1", False, "received")]
        wire = outcomes_to_wire(outcomes)
        assert all(type(item) is tuple for item in wire)
        assert outcomes_from_wire(wire) == outcomes
