"""Claim photos in the labels bucket, under `claims/`: uploaded by the customer's browser straight to S3
with a presigned POST, checked again once stored, shown to staff by presigned GET.

`claims/` is the photos' own top-level prefix, disjoint from the labels' (`labels/`, label_store) and
the exports' (`exports/`): the API's IAM policy may write here and there only, and the form's policy
pins its one key exactly (S3 refuses a form whose `key` field was changed; the local stack does too,
infra/local/post_policy.py), so an upload can never land on a label.

The POST's policy asks S3 to refuse a body over 10 MB or of another type than JPEG/PNG/WebP
(`content-length-range`, `Content-Type` conditions). What S3 stored is still checked before staff
see it (size, type, and the first bytes: a photo is what its bytes are), and a bad object is
deleted: an emulator that does not enforce POST policies (moto does not), or a policy got wrong,
never puts a bad photo in front of staff.
"""
from __future__ import annotations

from .. import aws, config
from ..rules.claims import MAX_PHOTO_BYTES, PHOTO_SECONDS, PHOTO_TYPES, photo_problem

PREFIX = "claims/"
SNIFF_BYTES = 16


def key_of(claim_id: str, photo_id: str) -> str:
    return f"{PREFIX}{claim_id}/{photo_id}"


def upload_form(key: str, content_type: str, seconds: int = PHOTO_SECONDS) -> dict:
    """{url, fields}: the form the browser posts the file with (the file field last, named `file`).

    A POST policy has no "one of": the form is for the one type the customer said (one of
    PHOTO_TYPES, checked by the caller), as an exact `Content-Type` condition, with the size range."""
    if content_type not in PHOTO_TYPES:
        raise ValueError(f"not a photo type: {content_type!r}")
    # boto3 pins the key with an exact `{"key": key}` condition, unless the key ends in `${filename}`,
    # which makes it a `starts-with` the uploader completes: never for a photo, and only under its prefix.
    if not key.startswith(PREFIX) or "${filename}" in key:
        raise ValueError(f"not a claim photo's key: {key!r}")
    conditions = [["content-length-range", 1, MAX_PHOTO_BYTES], {"Content-Type": content_type}]
    form = aws.client("s3").generate_presigned_post(
        Bucket=config.setting("LABELS_BUCKET"), Key=key, Fields={"Content-Type": content_type},
        Conditions=conditions, ExpiresIn=seconds)
    return {"url": form["url"], "fields": form["fields"], "max_bytes": MAX_PHOTO_BYTES, "expires_in": seconds}


def check(key: str) -> str | None:
    """None when the stored object is an acceptable photo; else why not ("missing" before its upload).
    A bad object is deleted, so it is never shown, and the customer may upload that photo again."""
    from botocore.exceptions import ClientError

    s3 = aws.client("s3")
    bucket = config.setting("LABELS_BUCKET")
    try:
        got = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{SNIFF_BYTES - 1}")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "InvalidRange"):
            return "missing"
        raise
    head = got["Body"].read()
    size = _total_size(got)
    problem = photo_problem(size, got.get("ContentType"), head)
    if problem is not None:
        s3.delete_object(Bucket=bucket, Key=key)
    return problem


def _total_size(got: dict) -> int:
    """The object's whole size from a ranged GET (`Content-Range: bytes 0-15/12345`)."""
    content_range = got.get("ContentRange") or ""
    if "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        if total.isdigit():
            return int(total)
    return int(got.get("ContentLength") or 0)


def view_url(key: str, seconds: int = PHOTO_SECONDS) -> str:
    return aws.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": config.setting("LABELS_BUCKET"), "Key": key}, ExpiresIn=seconds)
