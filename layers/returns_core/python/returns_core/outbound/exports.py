"""Exports too large for a Lambda response (6 MB), written to the private bucket's `exports/`
prefix (a lifecycle rule deletes them after a day) and handed out by presigned URL.

The file is uploaded in parts while it is being produced, so no more than one part is held in
memory whatever the range: S3 multipart parts are at least 5 MiB, except the last.
"""
from __future__ import annotations

import uuid

from .. import aws, config

PREFIX = "exports/"
PART_BYTES = 5 * 1024 * 1024


class Upload:
    """`write()` text as it is produced, then `finish()`; `abort()` on any failure (no orphan parts)."""

    def __init__(self, name: str, content_type: str, disposition: str):
        self.key = f"{PREFIX}{uuid.uuid4().hex}/{name}"
        self._s3, self._bucket = aws.client("s3"), config.setting("LABELS_BUCKET")
        self._id = self._s3.create_multipart_upload(Bucket=self._bucket, Key=self.key, ContentType=content_type,
                                                    ContentDisposition=disposition)["UploadId"]
        self._parts: list[dict] = []
        self._buffer = bytearray()

    def write(self, text: str) -> None:
        self._buffer += text.encode("utf-8")
        if len(self._buffer) >= PART_BYTES:
            self._flush()

    def _flush(self) -> None:
        number = len(self._parts) + 1
        etag = self._s3.upload_part(Bucket=self._bucket, Key=self.key, UploadId=self._id, PartNumber=number,
                                    Body=bytes(self._buffer))["ETag"]
        self._parts.append({"PartNumber": number, "ETag": etag})
        self._buffer.clear()

    def finish(self) -> str:
        if self._buffer or not self._parts:
            self._flush()
        self._s3.complete_multipart_upload(Bucket=self._bucket, Key=self.key, UploadId=self._id,
                                           MultipartUpload={"Parts": self._parts})
        return self.key

    def abort(self) -> None:
        self._s3.abort_multipart_upload(Bucket=self._bucket, Key=self.key, UploadId=self._id)


def presigned_url(key: str, seconds: int) -> str:
    return aws.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": config.setting("LABELS_BUCKET"), "Key": key}, ExpiresIn=seconds)
