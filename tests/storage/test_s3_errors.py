"""What the S3 client's errors mean, in the words `doctor` and the logs use."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from storage.errors import ChecksumMismatch, StoreRefused, StoreUnreachable
from storage.s3_errors import translate


def client_error(code: str, status: int) -> ClientError:
    """An error as botocore builds it from a store's answer."""
    return ClientError(
        {"Error": {"Code": code, "Message": "..."}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "PutObject",
    )


class TestTranslate:
    @pytest.mark.parametrize(
        ("error", "kind", "words"),
        [
            (NoCredentialsError(), StoreRefused, "no credentials"),
            (client_error("NoSuchBucket", 404), StoreRefused, "bkt does not exist"),
            (client_error("AccessDenied", 403), StoreRefused, "denied"),
            (client_error("RequestTimeTooSkewed", 403), StoreRefused, "clock"),
            (client_error("InvalidAccessKeyId", 403), StoreRefused, "AWS_ACCESS_KEY_ID"),
            (client_error("SignatureDoesNotMatch", 403), StoreRefused, "AWS_SECRET_ACCESS_KEY"),
            (client_error("403", 403), StoreRefused, "clock"),
            (client_error("BadDigest", 400), ChecksumMismatch, "other than were sent"),
            (client_error("SlowDown", 503), StoreUnreachable, "unavailable"),
            (client_error("Weird", 500), StoreUnreachable, "unavailable"),
            (EndpointConnectionError(endpoint_url="http://x"), StoreUnreachable, "did not answer"),
        ],
    )
    def test_each_cause_in_plain_words(
        self, error: Exception, kind: type[Exception], words: str
    ) -> None:
        """The class says what to do (wait or fix the settings); the message what is wrong."""
        translated = translate(error, "bkt", "uploading k")
        assert isinstance(translated, kind)
        assert words in str(translated)
        assert str(translated).startswith("uploading k: ")
