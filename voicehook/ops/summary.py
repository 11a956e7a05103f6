"""What a replay did, delivery by delivery and in total: plain values, no I/O."""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

MAX_LISTED = 50  # rejections and errors listed one by one in a summary; the rest are counted


class Verdict(StrEnum):
    ACCEPTED = "accepted"  # stored as a new event
    DUPLICATE = "duplicate"  # stored as another delivery of an event already there
    REJECTED = "rejected"  # the target refused it (signature, payload, size, unavailable)
    ERROR = "error"  # it never got an answer (network, time-out)


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """The fate of one capture."""

    source: str
    verdict: Verdict
    status: int | None = None  # the HTTP status (or the one the receiver would have given)
    reason: str | None = None  # the error body or message, for REJECTED and ERROR
    event_id: str | None = None
    delivery_id: int | None = None


def classify_response(status: int, body: bytes) -> tuple[Verdict, str | None, str | None]:
    """(verdict, event id, reason) for an answer of the webhook endpoint.

    202 is accepted and 200 `duplicate` a duplicate, as the contract says; anything else is a
    rejection whose reason is the error body (`{"error": "invalid_signature"}`) as sent.
    """
    document: object = None
    with contextlib.suppress(orjson.JSONDecodeError):
        document = orjson.loads(body)
    event_id = None
    if isinstance(document, dict) and isinstance(document.get("eventId"), str):
        event_id = document["eventId"]
    if status == 202:
        return Verdict.ACCEPTED, event_id, None
    if status == 200 and isinstance(document, dict) and document.get("status") == "duplicate":
        return Verdict.DUPLICATE, event_id, None
    reason = body.decode("utf-8", errors="replace").strip()[:500] or "(empty body)"
    return Verdict.REJECTED, event_id, reason


@dataclass
class ReplaySummary:
    """Counts per verdict, rejection reasons grouped, and the first few failures listed."""

    counts: Counter[Verdict] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    failures: list[ReplayResult] = field(default_factory=list)

    def add(self, result: ReplayResult) -> None:
        self.counts[result.verdict] += 1
        if result.verdict in (Verdict.REJECTED, Verdict.ERROR):
            self.reasons[reason_label(result)] += 1
            if len(self.failures) < MAX_LISTED:
                self.failures.append(result)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def ok(self) -> bool:
        """True when nothing was rejected and nothing failed."""
        return not (self.counts[Verdict.REJECTED] or self.counts[Verdict.ERROR])

    def document(self) -> dict[str, Any]:
        """The summary as `--json` prints it."""
        return {
            "total": self.total,
            "accepted": self.counts[Verdict.ACCEPTED],
            "duplicate": self.counts[Verdict.DUPLICATE],
            "rejected": self.counts[Verdict.REJECTED],
            "errors": self.counts[Verdict.ERROR],
            "reasons": dict(self.reasons.most_common()),
            "failures": [
                {
                    "source": r.source,
                    "deliveryId": r.delivery_id,
                    "verdict": r.verdict.value,
                    "status": r.status,
                    "reason": r.reason,
                }
                for r in self.failures
            ],
        }

    def lines(self) -> list[str]:
        """The summary in words, one line each."""
        c = self.counts
        out = [
            f"{self.total} replayed: {c[Verdict.ACCEPTED]} accepted, "
            f"{c[Verdict.DUPLICATE]} duplicate, {c[Verdict.REJECTED]} rejected, "
            f"{c[Verdict.ERROR]} errors"
        ]
        out.extend(f"  {count} x {label}" for label, count in self.reasons.most_common())
        out.extend(f"  {r.source}: {reason_label(r)}" for r in self.failures)
        hidden = c[Verdict.REJECTED] + c[Verdict.ERROR] - len(self.failures)
        if hidden > 0:
            out.append(f"  … and {hidden} more")
        return out


def reason_label(result: ReplayResult) -> str:
    """`401 {"error":"invalid_signature"}` for a rejection, `network: …` for an error."""
    if result.verdict is Verdict.ERROR:
        return f"network: {result.reason}"
    return f"{result.status} {result.reason}"
