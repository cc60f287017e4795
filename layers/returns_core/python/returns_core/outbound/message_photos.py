"""Photos a customer attached to an email reply, under `messages/` in the labels bucket (beside the claim
photos' `claims/`): put by the InboundMail function once checked (rules/mail_replies.py), shown to staff by
presigned GET."""
from __future__ import annotations

from .. import aws, config
from ..rules.claims import PHOTO_SECONDS

PREFIX = "messages/"


def put(conversation: str, photo_id: str, data: bytes, content_type: str) -> str:
    key = f"{PREFIX}{conversation}/{photo_id}"
    aws.client("s3").put_object(Bucket=config.setting("LABELS_BUCKET"), Key=key, Body=data, ContentType=content_type)
    return key


def view_url(key: str, seconds: int = PHOTO_SECONDS) -> str:
    if not key.startswith(PREFIX):
        raise ValueError("not a message photo's key")
    return aws.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": config.setting("LABELS_BUCKET"), "Key": key}, ExpiresIn=seconds)


def read_inbound(bucket: str, key: str) -> bytes:
    """The raw MIME message SES's receipt rule stored."""
    return aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
