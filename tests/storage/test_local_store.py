"""The local store: files under AUDIO_DIR, renamed into place."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from storage.errors import InvalidObjectKey, ObjectMissing
from storage.local import LocalStore


def put(store: LocalStore, key: str, content: bytes, scratch: Path) -> None:
    scratch.write_bytes(content)
    store.put(key, scratch, sha256=hashlib.sha256(content).hexdigest())


class TestLocalStore:
    def test_put_moves_the_file_into_place(self, tmp_path: Path) -> None:
        """The source is renamed onto the key's path; stat and open see it whole."""
        store = LocalStore(tmp_path / "audio")
        scratch = tmp_path / "scratch.part"
        put(store, "c/j.wav", b"RIFF1234", scratch)
        assert not scratch.exists()
        assert (tmp_path / "audio" / "c" / "j.wav").read_bytes() == b"RIFF1234"
        found = store.stat("c/j.wav")
        assert found is not None
        assert (found.size, found.sha256) == (8, None)
        with store.open("c/j.wav", 2, 6) as chunks:
            assert b"".join(chunks) == b"FF12"
        assert store.local_path("c/j.wav") == (tmp_path / "audio" / "c" / "j.wav").resolve()
        assert store.url("c/j.wav", lifetime_seconds=60, media_type="audio/wav") is None

    def test_keys_list_files_but_not_partial_ones(self, tmp_path: Path) -> None:
        """Listing skips dot-files (a download's partial file), sorted."""
        store = LocalStore(tmp_path)
        put(store, "_samples/v/02-b", b"b", tmp_path / "s1")
        put(store, "_samples/v/01-a", b"a", tmp_path / "s2")
        (tmp_path / "_samples" / "v" / ".x.0123456789abcdef.part").write_bytes(b"")
        assert store.keys("_samples/v/") == ["_samples/v/01-a", "_samples/v/02-b"]
        assert store.keys("_samples/none/") == []

    def test_missing_and_deleted(self, tmp_path: Path) -> None:
        """A missing key: stat None, open ObjectMissing, delete a no-op."""
        store = LocalStore(tmp_path)
        put(store, "k", b"x", tmp_path / "s")
        store.delete("k")
        store.delete("k")
        assert store.stat("k") is None
        with pytest.raises(ObjectMissing), store.open("k"):
            pass

    def test_a_symlink_out_of_the_root_is_refused(self, tmp_path: Path) -> None:
        """A key resolving outside AUDIO_DIR is refused, not followed."""
        root = tmp_path / "audio"
        root.mkdir()
        (root / "out").symlink_to(tmp_path)
        with pytest.raises(InvalidObjectKey):
            LocalStore(root).stat("out/secret")
