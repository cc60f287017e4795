"""Count what a run asks of AWS: at the emulator (moto's side), or with botocore hooks in-process.

`install_emulator()` counts every request where it arrives, in moto: `BaseResponse.call_action`
(every JSON and query service: DynamoDB, SES, SNS, Step Functions, Secrets Manager, Lambda) and
`S3Response.key_response`/`bucket_response` (S3 has its own dispatch). A request counts the same
whether it came from this process (`mock_aws`) or over HTTP from a Lambda worker process through
the `ThreadedMotoServer` serving the same backends. For DynamoDB the wrapper runs inside moto's
DynamoHandler.call_action, i.e. inside infra/local/atomic.py's lock: the item before and after a
write are read with no other request in between.

`install()` (the in-process way, for parts that run everything in this process) hooks every
botocore client created while it is installed with three hooks:
`before-parameter-build.*.*` keeps the call's parameters (and, for DynamoDB writes,
the size of the item before the write), `after-call.*.*` counts the call and prices
its DynamoDB request units, `before-call.dynamodb.Scan` counts Scans.

DynamoDB request units are computed from item sizes with DynamoDB's billing rules,
because moto's `ConsumedCapacity` is a constant (1.0 for reads, 0.5 for UpdateItem,
whatever the item): 1 WRU per started KB written (the larger of the item before and
after), every GSI whose projected attributes the write changes billed by the size of its
entry (a changed index key is a delete plus a put), 1 RRU per started 4 KB read strongly consistently (half for
eventually consistent reads and every GSI query), transactions twice. Items are read
from moto's in-process backend, so this needs `mock_aws` in the same process.
"""
from __future__ import annotations

import json
import math
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem"}


# ---------------------------------------------------------------- item sizes (DynamoDB's rules)
def _value_size(v: dict) -> int:
    (t, x), = v.items()
    if t == "S":
        return len(x.encode())
    if t == "N":
        digits = str(x).lstrip("-").replace(".", "").lstrip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if t == "B":
        return len(x) if isinstance(x, (bytes, bytearray)) else math.ceil(len(x) * 3 / 4)
    if t in ("BOOL", "NULL"):
        return 1
    if t == "SS":
        return sum(len(s.encode()) for s in x)
    if t == "NS":
        return sum(_value_size({"N": n}) for n in x)
    if t == "BS":
        return sum(len(b) for b in x)
    if t == "L":
        return 3 + sum(1 + _value_size(e) for e in x)
    if t == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(e) for k, e in x.items())
    return 0


def item_size(attrs: dict | None) -> int:
    if not attrs:
        return 0
    return sum(len(k.encode()) + _value_size(v) for k, v in attrs.items())


def _plain_json(value: Any) -> Any:
    """moto's Item.to_json() may still hold DynamoType objects inside."""
    if hasattr(value, "to_json") and not isinstance(value, dict):
        return _plain_json(value.to_json())
    if isinstance(value, dict):
        return {k: _plain_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_json(v) for v in value]
    return value


# ---------------------------------------------------------------- moto backend access
def _backend():
    from moto.dynamodb.models import dynamodb_backends
    return dynamodb_backends[ACCOUNT][REGION]


def _stored(table: str, key: dict) -> dict | None:
    try:
        item = _backend().get_item(table, key)
    except Exception:  # noqa: BLE001 - a table or item moto cannot give: the probe counts it as not stored
        return None
    return _plain_json(item.to_json()["Attributes"]) if item is not None else None


def _gsis(table: str) -> list[tuple[list[str], Any]]:
    """Per index: its key attributes and a function giving the attributes it copies of an item."""
    try:
        t = _backend().get_table(table)
    except Exception:  # noqa: BLE001 - a table moto does not hold: no index to count
        return []
    out = []
    for g in t.global_indexes:
        keys = [k["AttributeName"] for k in g.schema]
        kind = (g.projection or {}).get("ProjectionType", "ALL")
        kept = set(g.table_key_attrs) | set(keys) | set((g.projection or {}).get("NonKeyAttributes") or [])

        def project(item: dict, kind=kind, kept=kept) -> dict:
            return dict(item) if kind == "ALL" else {k: v for k, v in item.items() if k in kept}
        out.append((keys, project))
    return out


def _gsi_wru(table: str, old: dict | None, new: dict | None) -> float:
    """DynamoDB's index write rules: an index is written only when the item enters or leaves it,
    or when an attribute it projects changes; a changed index key costs a delete and a put;
    each write is priced by the size of the projected entry, not of the whole item."""
    units = 0.0
    for keys, project in _gsis(table):
        had = old is not None and all(k in old for k in keys)
        has = new is not None and all(k in new for k in keys)
        if had and has:
            before, after = project(old), project(new)
            if before == after:
                continue
            same_key = all(old[k] == new[k] for k in keys)
            units += _wru(item_size(after)) if same_key else _wru(item_size(before)) + _wru(item_size(after))
        elif has:
            units += _wru(item_size(project(new)))
        elif had:
            units += _wru(item_size(project(old)))
    return units


def _wru(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def _rru(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return units if consistent else units / 2


def _key_of(table: str, item: dict) -> dict:
    try:
        t = _backend().get_table(table)
        names = [t.hash_key_attr] + ([t.range_key_attr] if t.range_key_attr else [])
    except Exception:  # noqa: BLE001 - a table moto does not hold: no key to read
        return {}
    return {n: item[n] for n in names if n in item}


def _olds(op: str, params: dict) -> list | None:
    """The items a DynamoDB write is about to change, as stored before it (None for other calls)."""
    if op in WRITE_OPS:
        return [_stored(params["TableName"], params.get("Key") or _key_of(params["TableName"], params.get("Item", {})))]
    if op == "TransactWriteItems":
        olds = []
        for entry in params.get("TransactItems", []):
            (kind, body), = entry.items()
            key = body.get("Key") or _key_of(body["TableName"], body.get("Item", {}))
            olds.append(_stored(body["TableName"], key))
        return olds
    if op == "BatchWriteItem":
        olds = []
        for table, requests in params.get("RequestItems", {}).items():
            for r in requests:
                body = r.get("PutRequest") or r.get("DeleteRequest")
                key = body.get("Key") or _key_of(table, body.get("Item", {}))
                olds.append(_stored(table, key))
        return olds
    return None


# ---------------------------------------------------------------- the probe
class Probe:
    """Counts AWS calls per service/operation and DynamoDB units, into the current bucket."""

    def __init__(self) -> None:
        self.buckets: dict[str, Counter] = defaultdict(Counter)
        self.bucket = "default"
        self._local = threading.local()
        self._lock = threading.RLock()
        self._installed = False
        self._original_create_client = None
        self._emulator_originals = None
        self.errors: list[str] = []

    # --- scoping
    @contextmanager
    def into(self, bucket: str) -> Iterator[Counter]:
        previous, self.bucket = self.bucket, bucket
        try:
            yield self.buckets[bucket]
        finally:
            self.bucket = previous

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The bench's own calls (polling, execution history) in this thread are not counted."""
        self._local.paused = getattr(self._local, "paused", 0) + 1
        try:
            yield
        finally:
            self._local.paused -= 1

    def add(self, key: str, amount: float = 1) -> None:
        if getattr(self._local, "paused", 0):
            return
        with self._lock:
            self.buckets[self.bucket][key] += amount

    # --- installation
    def install(self) -> Probe:
        """Hook every botocore client created from now on (boto3's and PynamoDB's alike)."""
        import botocore.session

        if self._installed:
            return self
        original = botocore.session.Session.create_client
        probe = self

        def create_client(session, *args, **kwargs):
            client = original(session, *args, **kwargs)
            probe.attach(client)
            return client

        self._original_create_client = original
        botocore.session.Session.create_client = create_client
        self._installed = True
        forget_cached_clients()
        return self

    def uninstall(self) -> None:
        import botocore.session

        if self._installed:
            botocore.session.Session.create_client = self._original_create_client
            self._installed = False
            forget_cached_clients()

    def attach(self, client: Any) -> None:
        events = client.meta.events
        events.register("before-parameter-build.*.*", self._before)
        events.register("after-call.*.*", self._after)
        events.register("before-call.dynamodb.Scan", self._scan)

    # --- hooks
    def _scan(self, **kwargs) -> None:
        self.add("dynamodb.scan_calls")

    def _before(self, params: dict, model: Any, context: dict, **kwargs) -> None:
        context["bench_params"] = dict(params)
        if model.service_model.service_name != "dynamodb" or getattr(self._local, "paused", 0):
            return
        context["bench_old"] = _olds(model.name, params)

    def _after(self, http_response: Any, parsed: dict, model: Any, context: dict, **kwargs) -> None:
        if getattr(self._local, "paused", 0):
            return
        self.count(model.service_model.service_name, model.name, context.get("bench_params", {}), parsed,
                   "Error" in parsed, context.get("bench_old"))

    # --- at the emulator
    def install_emulator(self) -> Probe:
        """Count requests where moto answers them (see the module's docstring). Idempotent."""
        from moto.core.responses import BaseResponse
        from moto.s3.responses import S3Response

        if getattr(self, "_emulator_originals", None):
            return self
        probe = self
        call_action = BaseResponse.call_action
        key_response, bucket_response = S3Response.key_response, S3Response.bucket_response

        def counted_call_action(response):
            if getattr(probe._local, "paused", 0):
                return call_action(response)
            try:
                service, op = response.boto3_service_name, response._get_action()
            except Exception:   # noqa: BLE001 - a request moto cannot name is counted by nobody
                return call_action(response)
            params = getattr(response, "params", None)
            if not isinstance(params, dict):
                params = response.body if isinstance(response.body, dict) else {}
            olds = _olds(op, params) if service == "dynamodb" else None
            status, headers, body = 500, {}, ""
            try:
                status, headers, body = call_action(response)
                return status, headers, body
            finally:
                parsed: dict = {}
                if service == "dynamodb" and body:
                    try:
                        parsed = json.loads(body)
                    except (TypeError, ValueError):
                        parsed = {}
                try:
                    probe.count(service, op, params, parsed, int(status) >= 400, olds)
                except Exception as exc:   # noqa: BLE001 - the bench must not change what moto answers
                    probe.add(f"probe_errors.{service}.{op}")
                    probe.errors.append(f"{service}.{op}: {type(exc).__name__}: {exc}"[:300])

        def s3_counted(original, level):
            def wrapper(response, request, full_url, headers):
                result = original(response, request, full_url, headers)
                if not getattr(probe._local, "paused", 0):
                    method = request.method
                    status = int(result[0]) if isinstance(result, tuple) else 200
                    op = f"{level}.{method}"
                    probe.add(f"call.s3.{op}")
                    if level == "bucket" or method in ("PUT", "POST", "COPY"):
                        probe.add("s3.put_requests")
                        if level == "key" and method == "PUT" and status < 400:
                            body = response.body if isinstance(response.body, (bytes, bytearray)) else b""
                            probe.add("s3.bytes_stored", len(body))
                    elif method != "DELETE":
                        probe.add("s3.get_requests")
                return result
            return wrapper

        self._emulator_originals = (call_action, key_response, bucket_response)
        BaseResponse.call_action = counted_call_action
        S3Response.key_response = s3_counted(key_response, "key")
        S3Response.bucket_response = s3_counted(bucket_response, "bucket")
        return self

    def uninstall_emulator(self) -> None:
        from moto.core.responses import BaseResponse
        from moto.s3.responses import S3Response

        originals = getattr(self, "_emulator_originals", None)
        if originals:
            BaseResponse.call_action, S3Response.key_response, S3Response.bucket_response = originals
            self._emulator_originals = None

    # --- counting (both ways)
    def count(self, service: str, op: str, params: dict, parsed: dict, failed: bool, olds: list | None) -> None:
        self.add(f"call.{service}.{op}")
        if service == "dynamodb":
            self._dynamodb(op, params, parsed, failed, olds)
        elif service == "sns" and op == "Publish":
            self.add("sns.sms" if params.get("PhoneNumber") else "sns.publish")
        elif service == "ses" and op in ("SendTemplatedEmail", "SendEmail", "SendRawEmail",
                                          "SendBulkTemplatedEmail"):
            if not failed:
                d = params.get("Destination", {})
                sent = max(1, sum(len(d.get(k, [])) for k in ("ToAddresses", "CcAddresses", "BccAddresses")))
                self.add("ses.emails", sent)
                if params.get("Template"):   # which messages a path's email cost is made of
                    self.add(f"ses.template.{params['Template']}", sent)
        elif service == "s3":
            if op in ("PutObject", "CopyObject", "PostObject", "ListObjects", "ListObjectsV2",
                      "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
                self.add("s3.put_requests")
                if op == "PutObject":
                    body = params.get("Body", b"")
                    self.add("s3.bytes_stored", len(body) if isinstance(body, (bytes, bytearray)) else 0)
            else:
                self.add("s3.get_requests")
        elif service == "secretsmanager":
            self.add("secretsmanager.calls")

    def _dynamodb(self, op: str, params: dict, parsed: dict, failed: bool, olds: list | None) -> None:
        if op in ("GetItem",):
            self.add("dynamodb.rru", _rru(item_size(parsed.get("Item")), bool(params.get("ConsistentRead"))))
        elif op in ("Query", "Scan"):
            items = parsed.get("Items", [])
            consistent = bool(params.get("ConsistentRead")) and not params.get("IndexName")
            self.add("dynamodb.rru", _rru(sum(item_size(i) for i in items), consistent))
            self.add("dynamodb.items_examined", parsed.get("ScannedCount", len(items)))
            self.add(f"dynamodb.{op.lower()}_calls")
        elif op == "BatchGetItem":
            for table, items in parsed.get("Responses", {}).items():
                consistent = bool((params.get("RequestItems", {}).get(table) or {}).get("ConsistentRead"))
                for i in items:
                    self.add("dynamodb.rru", _rru(item_size(i), consistent))
        elif op == "TransactGetItems":
            for r in parsed.get("Responses", []):
                self.add("dynamodb.rru", 2 * _rru(item_size(r.get("Item")), True))
        elif op in WRITE_OPS:
            table = params["TableName"]
            old = (olds or [None])[0]
            new = None if op == "DeleteItem" else _stored(table, params.get("Key") or _key_of(table, params["Item"]))
            if failed:
                new = old
            self.add("dynamodb.wru", _wru(max(item_size(old), item_size(new))))
            if not failed:
                self.add("dynamodb.wru", _gsi_wru(table, old, new))
        elif op == "TransactWriteItems":
            olds = olds or []
            for n, entry in enumerate(params.get("TransactItems", [])):
                (kind, body), = entry.items()
                table = body["TableName"]
                old = olds[n] if n < len(olds) else None
                key = body.get("Key") or _key_of(table, body.get("Item", {}))
                new = old if (failed or kind == "ConditionCheck") else (
                    None if kind == "Delete" else _stored(table, key))
                self.add("dynamodb.wru", 2 * _wru(max(item_size(old), item_size(new))))
                if not failed and kind != "ConditionCheck":
                    self.add("dynamodb.wru", _gsi_wru(table, old, new))
        elif op == "BatchWriteItem":
            olds = iter(olds or [])
            for table, requests in params.get("RequestItems", {}).items():
                for r in requests:
                    old = next(olds, None)
                    body = r.get("PutRequest") or r.get("DeleteRequest")
                    new = body.get("Item")
                    self.add("dynamodb.wru", _wru(max(item_size(old), item_size(new))) + _gsi_wru(table, old, new))


def forget_cached_clients() -> None:
    """Make the domain create new (hooked) clients: boto3's cache and PynamoDB's connections."""
    try:
        from returns_core import aws
        aws.reset()
    except ImportError:
        pass
    try:
        from pynamodb.models import Model
        stack = list(Model.__subclasses__())
        while stack:
            cls = stack.pop()
            stack.extend(cls.__subclasses__())
            if "_connection" in cls.__dict__ or getattr(cls, "_connection", None) is not None:
                cls._connection = None
    except ImportError:
        pass
