"""The store's policy versions: added, never changed. Versions are immutable, so each is cached
(per table: a version number names one document in one table, forever)."""
from __future__ import annotations

from pynamodb.exceptions import PutError

from .models import PolicyVersionModel

POLICY = "store"
_cache: dict[tuple[str, int], PolicyVersionModel] = {}


def _key(version: int) -> tuple[str, int]:
    return (PolicyVersionModel.Meta.table_name, int(version))


class VersionTaken(Exception):
    """Another publish wrote this version first."""


def latest() -> PolicyVersionModel | None:
    for found in PolicyVersionModel.query(POLICY, scan_index_forward=False, limit=1, consistent_read=True):
        _cache.setdefault(_key(found.version), found)
        return found
    return None


def get(version: int) -> PolicyVersionModel | None:
    if _key(version) in _cache:
        return _cache[_key(version)]
    try:
        found = PolicyVersionModel.get(POLICY, version, consistent_read=True)
    except PolicyVersionModel.DoesNotExist:
        return None
    _cache[_key(version)] = found
    return found


def add(version: int, document: dict, at: str, by: str) -> PolicyVersionModel:
    item = PolicyVersionModel(POLICY, version, document=document, updated_at=at, updated_by=by)
    try:
        item.save(condition=PolicyVersionModel.version.does_not_exist())
    except PutError as exc:
        if "ConditionalCheckFailed" in str(exc):
            raise VersionTaken(str(version)) from exc
        raise
    _cache[_key(version)] = item
    return item
