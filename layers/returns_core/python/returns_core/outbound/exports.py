"""CSV exports, all written here: every cell made safe for a spreadsheet, and a file too large for
a Lambda response (6 MB) written to the private bucket's `exports/` prefix (a lifecycle rule
deletes them after a day) and handed out by presigned URL.

The file is uploaded in parts while it is being produced, so no more than one part is held in
memory whatever the range: S3 multipart parts are at least 5 MiB, except the last.
"""
from __future__ import annotations

import csv
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .. import aws, config

# A cell a spreadsheet would read as a formula (OWASP, CSV Injection): `=`, `+`, `-`, `@`, and a tab or
# carriage return before one of them. An order id, a manual refund's reference or a staff name comes from
# outside, so any text cell may start with one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """The cell as a spreadsheet shows it as text: a single quote before a text that would start a
    formula. Numbers stay numbers (an amount is never negative text here). Quoting of separators,
    quotes and line breaks inside a cell is the csv module's (QUOTE_MINIMAL, doubled quotes)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _CsvText:
    """csv.writer's file: the text written since the last `take()`."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def take(self) -> str:
        text, self.parts = "".join(self.parts), []
        return text


@dataclass
class CsvExport:
    """A CSV written: `text` when it stayed under the inline limit, else the S3 `key` holding it."""
    rows: int
    text: str | None = None
    key: str | None = None


# Rows written before the buffered text goes to the upload, once the export is in S3.
_CSV_PAGE = 500


def write_csv(rows: Iterable[dict], fields: tuple[str, ...], name: str, inline_max_bytes: int) -> CsvExport:
    """Write `rows` as CSV, every cell through `spreadsheet_safe`, held in memory while under
    `inline_max_bytes`; past it, everything so far and the rest is streamed to S3 in parts (Upload),
    so memory stays at one part whatever the number of rows."""
    out = _CsvText()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\r\n")
    writer.writeheader()
    held, count, upload = out.take(), 0, None
    try:
        for row in rows:
            writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
            count += 1
            if upload is None:
                held += out.take()
                if len(held) > inline_max_bytes:   # characters, at most the bytes
                    upload = Upload(name, "text/csv; charset=utf-8", f'attachment; filename="{name}"')
                    upload.write(held)
                    held = ""
            elif len(out.parts) >= _CSV_PAGE:
                upload.write(out.take())
        if upload is None:
            return CsvExport(count, text=held)
        upload.write(out.take())
        return CsvExport(count, key=upload.finish())
    except BaseException:
        if upload is not None:
            upload.abort()
        raise

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
