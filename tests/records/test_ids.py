"""Row ids: valid UUIDv7, unique, time-ordered, distinct across a fork."""

from __future__ import annotations

import os
import uuid

from records.ids import new_id


class TestNewId:
    def test_is_a_version_7_rfc_uuid(self) -> None:
        """Each id parses as a UUID with version 7 and the RFC 4122 variant."""
        parsed = uuid.UUID(new_id())
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122

    def test_unique_and_time_ordered_by_millisecond(self) -> None:
        """100,000 ids are distinct, and their millisecond prefixes never go backwards."""
        ids = [new_id() for _ in range(100_000)]
        assert len(set(ids)) == len(ids)
        prefixes = [uuid.UUID(i).int >> 80 for i in ids]
        assert prefixes == sorted(prefixes)

    def test_a_forked_child_does_not_repeat_its_parent(self) -> None:
        """After fork the child's generator is reseeded, so the two sequences differ."""
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            os.write(write, "".join(new_id() for _ in range(50)).encode())
            os._exit(0)
        os.close(write)
        child = os.read(read, 1 << 16).decode()
        os.waitpid(pid, 0)
        parent = "".join(new_id() for _ in range(50))
        child_ids = {child[i : i + 36] for i in range(0, len(child), 36)}
        parent_ids = {parent[i : i + 36] for i in range(0, len(parent), 36)}
        assert len(child_ids) == 50
        assert child_ids.isdisjoint(parent_ids)
