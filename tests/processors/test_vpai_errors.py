"""The API's own words about an error: kept on one line, trimmed, with no credential."""

from __future__ import annotations

from processors.errors import InvalidRequest
from processors.vpai import MAX_UPSTREAM_MESSAGE, explain, upstream_message


class TestUpstreamMessage:
    def test_the_message_is_one_trimmed_line(self) -> None:
        """Whitespace and newlines collapse; a long message is cut to the bound."""
        assert upstream_message({"message": " voiceId:\n  Input  should be a UUID "}) == (
            "voiceId: Input should be a UUID"
        )
        long = upstream_message({"message": "x" * 5000})
        assert long is not None
        assert len(long) == MAX_UPSTREAM_MESSAGE

    def test_credentials_are_blanked(self) -> None:
        """Keys, secrets, bearer tokens and signed-URL signatures never get stored."""
        text = upstream_message(
            {
                "message": "key vk_live_abc123 refused, secret whsec_xyz, Bearer t0k3n, "
                "url https://cdn/a.wav?exp=1&sig=deadbeef"
            }
        )
        assert text is not None
        for secret in ("vk_live_abc123", "whsec_xyz", "t0k3n", "deadbeef"):
            assert secret not in text
        assert "exp=1" in text

    def test_no_message_means_none(self) -> None:
        """A bare `{"error": code}` (the contract's shape) has nothing to add."""
        assert upstream_message({"error": "invalid_request"}) is None
        assert upstream_message(["not", "a", "dict"]) is None

    def test_explain_adds_the_apis_words_to_the_hint(self) -> None:
        """The operator's hint first, then what the API said."""
        error = InvalidRequest("invalid_request", 400, upstream_message="voiceId: not a UUID")
        assert explain(error).endswith("; the API said: voiceId: not a UUID")
        assert explain(InvalidRequest("invalid_request", 400)).startswith("the API refused")
