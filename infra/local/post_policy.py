"""S3's browser-form POST policy, enforced by the local emulator as S3 enforces it.

moto stores whatever a form POST sends (moto/s3/responses.py `_bucket_response_post`): the form's
`key`, type and size are taken as given, and neither the policy nor its signature is read. On AWS a
form upload is refused unless its policy is signed with a key S3 knows, has not expired, and every
field of the form meets the policy's conditions (and every field is named by one). That is what
keeps a customer's claim-photo form (outbound/claim_photos.py) from being re-aimed at another object,
a return's label say, by editing its `key` field. The local stack checks the same, so a form whose
policy does not pin what it should fails here first, not only on AWS.
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/HTTPPOSTForms.html (signature version 2)
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

# Form fields a policy need not name: the signature's own, the file, the policy itself.
_UNNAMED = {"policy", "file", "x-amz-signature", "signature", "awsaccesskeyid"}

_original: Any = None


class Refused(Exception):
    """What S3 answers a form it refuses: (HTTP status, S3 error code, message)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _hmac(key: bytes, text: str, digest=hashlib.sha256) -> bytes:
    return hmac.new(key, text.encode(), digest).digest()


def _signed(fields: Mapping[str, str], policy: str, secret_of: Callable[[str], str | None]) -> bool:
    """The policy's signature is one the form's access key makes (SigV4, or the older SigV2)."""
    if "x-amz-signature" in fields:
        credential = fields.get("x-amz-credential", "").split("/")
        if len(credential) != 5 or fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
            return False
        access_key, day, region, service, _ = credential
        secret = secret_of(access_key)
        if secret is None:
            return False
        key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), day), region), service), "aws4_request")
        return hmac.compare_digest(hmac.new(key, policy.encode(), hashlib.sha256).hexdigest(),
                                   fields["x-amz-signature"])
    secret = secret_of(fields.get("awsaccesskeyid", ""))
    if secret is None or "signature" not in fields:
        return False
    expected = base64.b64encode(_hmac(secret.encode(), policy, hashlib.sha1)).decode()
    return hmac.compare_digest(expected, fields["signature"])


def check(form: Mapping[str, str], size: int, bucket: str, now: datetime,
          secret_of: Callable[[str], str | None]) -> None:
    """Raise Refused as S3 would for this form (its fields, the file's size, the bucket posted to)."""
    fields = {name.lower(): value for name, value in form.items()}
    policy = fields.get("policy")
    if not policy:
        raise Refused(403, "AccessDenied", "Access Denied: a form upload to a private bucket needs a signed policy")
    if not _signed(fields, policy, secret_of):
        raise Refused(403, "SignatureDoesNotMatch", "The policy's signature is not one this key makes")
    try:
        document = json.loads(base64.b64decode(policy, validate=True))
        expiration = datetime.fromisoformat(document["expiration"].replace("Z", "+00:00"))
        conditions = list(document["conditions"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise Refused(400, "InvalidPolicyDocument", "Invalid Policy: the policy is not a policy document") from None
    if now >= expiration:
        raise Refused(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    named = {"bucket"}
    values = {**fields, "bucket": bucket}
    for condition in conditions:
        if isinstance(condition, dict) and len(condition) == 1:
            ((name, expected),) = condition.items()
            op, name = "eq", name.lower()
        elif isinstance(condition, list) and len(condition) == 3 and condition[0] == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if size < low:
                raise Refused(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
            if size > high:
                raise Refused(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
            continue
        elif isinstance(condition, list) and len(condition) == 3 and condition[0] in ("eq", "starts-with") \
                and str(condition[1]).startswith("$"):
            op, name, expected = condition[0], str(condition[1])[1:].lower(), condition[2]
        else:
            raise Refused(400, "InvalidPolicyDocument", f"Invalid Policy: Invalid Condition: {json.dumps(condition)}")
        named.add(name)
        given = values.get(name, "")
        if not (given == expected if op == "eq" else given.startswith(str(expected))):
            raise Refused(403, "AccessDenied", f"Invalid according to Policy: Policy Condition failed: "
                                               f"{json.dumps([op, '$' + name, expected])}")
    extra = sorted(name for name in fields if name not in named and name not in _UNNAMED
                   and not name.startswith("x-ignore-"))
    if extra:
        raise Refused(403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {', '.join(extra)}")


_known: dict[str, str] = {}


def know(access_key: str, secret: str) -> None:
    """Credentials the functions are given besides this process's own (the tests' workers: under
    `mock_aws` this process's environment holds moto's own placeholder keys instead)."""
    _known[access_key] = secret


def _the_emulators_secret(access_key: str) -> str | None:
    """The local stack signs with one set of dummy credentials, this process's own, which its functions'
    workers get too (infra/local/server.py emulator_access); the tests add theirs with know()."""
    if access_key in _known:
        return _known[access_key]
    if access_key and access_key == os.environ.get("AWS_ACCESS_KEY_ID"):
        return os.environ.get("AWS_SECRET_ACCESS_KEY")
    return None


def _error(refused: Refused) -> tuple[int, dict, str]:
    from xml.sax.saxutils import escape

    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{refused.code}</Code>'
            f"<Message>{escape(refused.message)}</Message></Error>")
    return refused.status, {"content-type": "application/xml"}, body


def _checked_post(self, request: Any, bucket_name: str):
    """moto's bucket POST, with a browser form's policy checked first (a multi-object delete is not a form)."""
    if request.mimetype == "multipart/form-data" and "key" in self.form_data:
        raw = self.raw_body if isinstance(self.raw_body, (bytes, bytearray)) else str(self.raw_body or "").encode()
        try:
            check(self.form_data, len(raw), bucket_name, datetime.now(UTC), _the_emulators_secret)
        except Refused as refused:
            return _error(refused)
    return _original(self, request, bucket_name)


def install() -> None:
    """Idempotent: every S3 form upload the emulator takes from then on is checked."""
    global _original
    from moto.s3.responses import S3Response

    if _original is None:
        _original = S3Response._bucket_response_post
        S3Response._bucket_response_post = _checked_post


def uninstall() -> None:
    global _original
    from moto.s3.responses import S3Response

    if _original is not None:
        S3Response._bucket_response_post = _original
        _original = None
