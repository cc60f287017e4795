"""The store's policy versions: added, never changed.

No cache is needed here: what a version decided for a return is stored on the return's items
(`terms`) when it is created, so the later steps (grading, the fees, the approval threshold,
keep_item) never read the version again; only the lookup, a new return and GET /policy do."""
from __future__ import annotations

from pynamodb.exceptions import PutError

from .models import PolicyVersionModel

POLICY = "store"


class VersionTaken(Exception):
    """Another publish wrote this version first."""


def latest() -> PolicyVersionModel | None:
    for found in PolicyVersionModel.query(POLICY, scan_index_forward=False, limit=1, consistent_read=True):
        return found
    return None


def get(version: int) -> PolicyVersionModel | None:
    try:
        return PolicyVersionModel.get(POLICY, version, consistent_read=True)
    except PolicyVersionModel.DoesNotExist:
        return None


def add(version: int, document: dict, at: str, by: str) -> PolicyVersionModel:
    """Put once: the condition fails when the version exists, so no version is ever overwritten."""
    item = PolicyVersionModel(POLICY, version, document=document, updated_at=at, updated_by=by)
    try:
        item.save(condition=PolicyVersionModel.version.does_not_exist())
    except PutError as exc:
        if "ConditionalCheckFailed" in str(exc):
            raise VersionTaken(str(version)) from exc
        raise
    return item
