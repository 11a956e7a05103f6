"""The dashboard's forms: small URL-encoded bodies, read within a cap and a deadline."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

from starlette.requests import Request

from admin.errors import BadQuery, FormTooLarge
from receiver.body import read_body_capped
from receiver.errors import BodyTooLarge, ClientGone

MAX_FORM_BYTES = 8 * 1024
MAX_FIELDS = 16
FORM_DEADLINE_SECONDS = 10.0
FORM_TYPE = "application/x-www-form-urlencoded"


async def read_form(request: Request) -> dict[str, str]:
    """The fields of a POSTed form, each given once; BadQuery or FormTooLarge when not."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != FORM_TYPE:
        raise BadQuery(f"a form must be sent as {FORM_TYPE}")
    try:
        async with asyncio.timeout(FORM_DEADLINE_SECONDS):
            body = await read_body_capped(
                request.receive, request.headers.get("content-length"), MAX_FORM_BYTES
            )
    except BodyTooLarge:
        raise FormTooLarge(f"a form of this dashboard is at most {MAX_FORM_BYTES} bytes") from None
    except (ClientGone, TimeoutError):
        raise BadQuery("the form was not received in full") from None
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise BadQuery(f"a form has at most {MAX_FIELDS} fields, in UTF-8") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise BadQuery(f"the field {name} is given twice")
        fields[name] = value
    return fields
