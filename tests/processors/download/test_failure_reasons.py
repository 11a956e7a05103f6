"""Which reason a failed download is counted under: real downloads over HTTP, real errors."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from processors.errors import AudioInvalid, DownloadError
from processors.metrics import DownloadFailure, endpoint_label, failure_reason
from tests.processors import fileserver
from tests.processors.download.conftest import BODY, fetch
from tests.processors.fileserver import FileServer


def failed_with(call: object) -> DownloadError:
    with pytest.raises(DownloadError) as raised:
        call()  # type: ignore[operator]
    return raised.value


class TestFailureReason:
    @pytest.mark.parametrize(
        ("behaviour", "reason"),
        [
            (fileserver.truncated(BODY, keep=1000), DownloadFailure.TRUNCATED),
            (fileserver.status(403), DownloadFailure.EXPIRED),
            (fileserver.status(410), DownloadFailure.EXPIRED),
            (fileserver.status(503), DownloadFailure.NETWORK),
            (fileserver.huge_declared(10**12), DownloadFailure.REFUSED),
        ],
    )
    def test_reason_of_each_failure(
        self,
        *,
        server: FileServer,
        client: httpx.Client,
        path: str,
        tmp_path: Path,
        behaviour: fileserver.Behaviour,
        reason: DownloadFailure,
    ) -> None:
        """A body cut short, a refused URL, a 5xx, a file over the limit: each its reason."""
        url = server.serve(path, behaviour)
        error = failed_with(lambda: fetch(client, server, url, tmp_path / "a.wav"))
        assert failure_reason(error) is reason

    def test_disallowed_host_and_corrupt_audio(
        self, server: FileServer, client: httpx.Client, tmp_path: Path
    ) -> None:
        """A host not allowed is refused by policy; audio that fails verification is corrupt."""
        error = failed_with(
            lambda: fetch(client, server, "http://169.254.169.254/a.wav", tmp_path / "a.wav")
        )
        assert failure_reason(error) is DownloadFailure.REFUSED
        assert failure_reason(AudioInvalid("bad magic bytes")) is DownloadFailure.CORRUPT


class TestEndpointLabel:
    def test_ids_become_a_template(self) -> None:
        """Paths keep their resource and action, never an id."""
        assert endpoint_label("generations/gen_8f2a") == "generations/{id}"
        assert endpoint_label("generations") == "generations"
        assert endpoint_label("/voices/clone") == "voices/clone"
        assert endpoint_label("uploads") == "uploads"
