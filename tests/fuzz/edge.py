"""A coverage-guided fuzz target (atheris) for the receiver's pure parsing of hostile input:
the webhook envelope, the signature check, stored headers, forwarded addresses, request ids
and the sandbox's control-request rules.

Briefly, in the test suite (tests/fuzz/test_edge_fuzz.py); longer, by hand:

    .venv/bin/python -m tests.fuzz.edge -max_total_time=600 [corpus_dir]

Any exception other than the documented refusals, or a broken invariant, is a finding:
libFuzzer stops, prints the input and writes it as `crash-<sha1>`.
"""

from __future__ import annotations

import sys

import atheris

from records.errors import InvalidPayload

# Only our parsing is instrumented: instrumenting pydantic and Starlette took minutes.
FUZZED_MODULES = [
    "receiver.forwarded",
    "receiver.request_context",
    "receiver.signature",
    "receiver.stored_headers",
    "records.envelope",
    "sandbox.control_guard",
]

with atheris.instrument_imports(include=FUZZED_MODULES):
    from receiver.forwarded import TrustedProxies, client_address, parse_ip
    from receiver.request_context import valid_request_id
    from receiver.signature import verify_signature
    from receiver.stored_headers import MAX_VALUE_CHARS, storable_headers
    from records.envelope import MAX_KEY_LENGTH, MAX_TYPE_LENGTH, parse_event
    from sandbox.control_guard import refusal

SECRETS = [b"whsec_fuzz_newest", b"whsec_fuzz_older"]
PROXIES = (TrustedProxies.parse(["127.0.0.1", "10.0.0.0/8"]), TrustedProxies.parse(["*"]))


def check_one(data: bytes) -> None:
    """Feed one input to every parser; raise AssertionError if an invariant breaks."""
    provider = atheris.FuzzedDataProvider(data)
    body = provider.ConsumeBytes(provider.ConsumeIntInRange(0, 4096))
    header = provider.ConsumeUnicodeNoSurrogates(120)
    forwarded = provider.ConsumeUnicodeNoSurrogates(200)
    raw_headers = [
        (provider.ConsumeBytes(24).lower(), provider.ConsumeBytes(2048))
        for _ in range(provider.ConsumeIntInRange(0, 6))
    ]
    rest = provider.ConsumeBytes(provider.remaining_bytes())

    try:
        event = parse_event(body)
    except InvalidPayload:
        pass
    else:
        assert "\x00" not in event.type
        assert len(event.type) <= MAX_TYPE_LENGTH
        assert event.resource_id is None or "\x00" not in event.resource_id
        assert len(event.dedup_key) <= MAX_KEY_LENGTH

    matched = verify_signature(body, header, SECRETS)
    assert matched is None or 0 <= matched < len(SECRETS)

    for proxies in PROXIES:
        client = client_address("127.0.0.1", forwarded, proxies)
        assert client == "127.0.0.1" or parse_ip(client or "") is not None, client

    stored = storable_headers(raw_headers)
    assert all(len(value) <= MAX_VALUE_CHARS for value in stored.values())

    valid_request_id(rest[:200])
    refusal("POST", dict(raw_headers))


def main() -> None:
    atheris.Setup(sys.argv, check_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
