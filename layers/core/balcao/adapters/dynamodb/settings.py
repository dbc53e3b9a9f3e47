"""The company settings document: one versioned item, cached briefly in the process.

Each Lambda container re-reads it at most every ``CACHE_SECONDS``; a save in this process refreshes the cache
at once (locally every function shares one process, so a PATCH applies immediately).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from pynamodb.exceptions import PutError

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import SettingsItem
from balcao.domain.errors import ConflictError

CACHE_SECONDS = 30.0
_cache: dict[str, tuple[float, dict[str, Any], int]] = {}


class DynamoSettingsStore:
    def load(self) -> tuple[dict[str, Any], int]:
        cached = _cache.get("company")
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return dict(cached[1]), cached[2]
        try:
            item = SettingsItem.get(keys.settings_pk(), keys.SETTINGS)
            document, version = dict(item.document or {}), int(item.version or 0)
        except SettingsItem.DoesNotExist:
            document, version = {}, 0
        _cache["company"] = (time.monotonic(), document, version)
        return dict(document), version

    def save(self, document: Mapping[str, Any], expected_version: int) -> int:
        item = SettingsItem(pk=keys.settings_pk(), sk=keys.SETTINGS, document=dict(document))
        if expected_version:
            item.version = expected_version
        try:
            item.save()
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                _cache.pop("company", None)
                raise ConflictError() from error
            raise
        new_version = int(item.version or 0)
        _cache["company"] = (time.monotonic(), dict(document), new_version)
        return new_version


def forget_cached_settings() -> None:
    """Drop the cached document (tests and the devstack's reset)."""
    _cache.clear()
