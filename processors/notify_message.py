"""A notification as the business's app receives it: Standard Webhooks headers and body.

The body is `{"type", "timestamp", "sequence", "data"}`, `data` being the job, voice or
customer document as `GET /api/...` shows it; it is rebuilt byte for byte the same on every
try, so each try's signature covers what the first one did. `webhook-signature` holds one
`v1,<base64>` per secret (space-separated) while a rotation keeps the previous one valid.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from standardwebhooks.webhooks import Webhook

from records.documents import iso

USER_AGENT = "voicehook-notify/1"


def notification_body(
    event_type: str, created_at: datetime, sequence: int, data: dict[str, Any]
) -> bytes:
    """The JSON body of a notification."""
    return orjson.dumps(
        {"type": event_type, "timestamp": iso(created_at), "sequence": sequence, "data": data},
        option=orjson.OPT_SORT_KEYS,
    )


def signed_headers(
    message_id: str, sent_at: datetime, body: bytes, signing_secrets: Sequence[str]
) -> dict[str, str]:
    """The Standard Webhooks headers for one try, signed with every secret given."""
    text = body.decode()
    signatures = " ".join(
        Webhook(secret).sign(message_id, sent_at, text) for secret in signing_secrets
    )
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def new_secret() -> str:
    """A fresh Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
