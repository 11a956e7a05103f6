"""What an S3 client's exception means, in plain words, as one of our errors (no I/O).

The words are the ones an operator can act on: no credentials, no bucket, a clock that is
off, access denied. Nothing here repeats a credential (botocore's messages do not carry one).
"""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)

from storage.errors import ChecksumMismatch, ObjectStoreError, StoreRefused, StoreUnreachable

_REFUSALS = {
    "NoSuchBucket": "the bucket {bucket} does not exist: create it, or fix STORAGE_URL",
    "AccessDenied": (
        "access to the bucket {bucket} is denied: the key needs s3:PutObject, s3:GetObject, "
        "s3:DeleteObject and s3:ListBucket on it"
    ),
    "AllAccessDisabled": "all access to the bucket {bucket} is disabled by its owner",
    "InvalidAccessKeyId": (
        "the store does not know AWS_ACCESS_KEY_ID: check it, and S3_ENDPOINT_URL (a key of "
        "one provider is unknown to another)"
    ),
    "SignatureDoesNotMatch": "AWS_SECRET_ACCESS_KEY does not belong to AWS_ACCESS_KEY_ID",
    "RequestTimeTooSkewed": (
        "this machine's clock differs from the store's by more than it allows (15 minutes "
        "on S3): set the clock right (NTP)"
    ),
    "AuthorizationHeaderMalformed": "AWS_REGION does not match the bucket's region",
    "PermanentRedirect": "the bucket {bucket} is in another region: set AWS_REGION to it",
}
_CHECKSUM_CODES = frozenset({"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"})
_BUSY_CODES = frozenset({"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout"})


def client_error_code(exc: ClientError) -> tuple[str, int]:
    """The error's code and HTTP status (a HEAD's error has no body: its code is the status)."""
    error = exc.response.get("Error", {})
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return str(error.get("Code", status)), status


def translate(exc: Exception, bucket: str, doing: str) -> ObjectStoreError:
    """`exc`, raised by the S3 client while `doing` something, as an ObjectStoreError."""
    where = f"s3 bucket {bucket}"
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return StoreRefused(
            f"{doing}: no credentials for {where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(exc, ConnectionError | HTTPClientError):
        return StoreUnreachable(f"{doing}: {where} did not answer: {type(exc).__name__}")
    if isinstance(exc, ClientError):
        return _client_error(exc, where, bucket, doing)
    if isinstance(exc, BotoCoreError):
        return StoreUnreachable(f"{doing}: {where}: {type(exc).__name__}")
    return ObjectStoreError(f"{doing}: {where}: {type(exc).__name__}: {exc}")


def _client_error(exc: ClientError, where: str, bucket: str, doing: str) -> ObjectStoreError:
    code, status = client_error_code(exc)
    if code in _REFUSALS:
        return StoreRefused(f"{doing}: " + _REFUSALS[code].format(bucket=bucket))
    if code in _CHECKSUM_CODES:
        return ChecksumMismatch(f"{doing}: {where} received bytes other than were sent")
    if code in _BUSY_CODES or status >= 500:
        return StoreUnreachable(f"{doing}: {where} is unavailable ({code})")
    if status == 403:
        return StoreRefused(
            f"{doing}: {where} refused the request (403): check the credentials, their "
            "permissions on the bucket, and this machine's clock"
        )
    return StoreRefused(f"{doing}: {where} refused the request ({code}, HTTP {status})")
