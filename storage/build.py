"""The configured store: S3 when `STORAGE_URL` is set, the local folder `AUDIO_DIR` otherwise."""

from __future__ import annotations

import logging
from typing import Any

import boto3
from botocore.config import Config

from config.settings import Settings
from storage.keys import LOCAL_STORE, parse_storage_url
from storage.local import LocalStore
from storage.protocol import ObjectStore
from storage.s3 import S3Store

DEFAULT_REGION = "us-east-1"  # what the AWS SDKs assume too; R2 takes "auto"


def open_store(settings: Settings, name: str | None = None) -> ObjectStore:
    """The store `name` names (`local`: AUDIO_DIR; `s3://bucket/prefix`), by default the
    settings' own (STORAGE_URL, or AUDIO_DIR when it is unset)."""
    url = name if name is not None else settings.storage_url
    if not url or url == LOCAL_STORE:
        return LocalStore(settings.audio_dir)
    return S3Store(s3_client(settings), parse_storage_url(url))


def s3_client(settings: Settings) -> Any:
    """A boto3 S3 client from S3_ENDPOINT_URL and the AWS_* settings, with their deadlines.

    Credentials left unset fall back to boto3's own chain (instance roles and the like).
    """
    # botocore's debug lines show request headers (signatures); none of ours go to a log.
    logging.getLogger("botocore").setLevel(logging.WARNING)
    secret = settings.aws_secret_access_key
    session = boto3.session.Session(
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        region_name=settings.aws_region or DEFAULT_REGION,
    )
    config = Config(
        connect_timeout=settings.storage_timeout_seconds,
        read_timeout=settings.storage_timeout_seconds,
        retries={"max_attempts": 3, "mode": "standard"},
        signature_version="s3v4",
        # Path-style addressing is what MinIO and most compatible stores expect.
        s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
    )
    return session.client("s3", endpoint_url=settings.s3_endpoint_url, config=config)
