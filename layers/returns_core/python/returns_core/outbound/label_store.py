"""Labels in the private S3 bucket, served by presigned URL: the printable label (PDF, or PNG where the
carrier gives one) and the paperless label's QR code (PNG)."""
from __future__ import annotations

from .. import aws, config

# The labels' own top-level prefix: only the label step writes under it (template.yaml, IssueLabelFunction),
# and claim photos (claim_photos.PREFIX) and exports live under theirs. A label is read back by the
# `s3_key` its return stores, so a label stored before keeps being found where it was written.
PREFIX = "labels/"


def key_of(return_id: str) -> str:
    return f"{PREFIX}{return_id}.pdf"


def put(return_id: str, pdf: bytes, label_format: str = "PDF") -> str:
    key = key_of(return_id) if label_format.upper() != "PNG" else f"{PREFIX}{return_id}.png"
    aws.client("s3").put_object(Bucket=config.setting("LABELS_BUCKET"), Key=key, Body=pdf,
                                ContentType="image/png" if key.endswith(".png") else "application/pdf")
    return key


def put_qr(return_id: str, png: bytes) -> str:
    key = f"{PREFIX}{return_id}.qr.png"
    aws.client("s3").put_object(Bucket=config.setting("LABELS_BUCKET"), Key=key, Body=png, ContentType="image/png")
    return key


def read(key: str) -> bytes | None:
    """The PDF, or None when it is not there (yet)."""
    s3 = aws.client("s3")
    try:
        return s3.get_object(Bucket=config.setting("LABELS_BUCKET"), Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None


def presigned_url(key: str, seconds: int = 3600) -> str:
    return aws.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": config.setting("LABELS_BUCKET"), "Key": key}, ExpiresIn=seconds)
