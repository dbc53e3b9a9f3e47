"""Opaque pagination cursors: a query's ``LastEvaluatedKey`` as URL-safe base64 JSON, and its strict reading back.

A cursor is refused (422 on field ``cursor``) unless it is exactly a key of the query it continues — the same key
attributes, all strings, and the same partition — so a forged or foreign cursor can neither fail a query with a 500
nor read another account's items.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from balcao.domain.errors import N_, InvalidInputError

TABLE_KEY = frozenset({"pk", "sk"})
GSI1_KEY = frozenset({"pk", "sk", "gsi1pk", "gsi1sk"})
GSI2_KEY = frozenset({"pk", "sk", "gsi2pk", "gsi2sk"})
GSI3_KEY = frozenset({"pk", "sk", "gsi3pk", "gsi3sk"})


def encode_cursor(last_key: Mapping[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(dict(last_key), sort_keys=True).encode()).decode()


def invalid_cursor() -> InvalidInputError:
    return InvalidInputError.single("cursor", N_("This value is not valid."), "invalid")


def start_key(cursor: str | None, expected: Mapping[str, str], names: frozenset[str]) -> dict[str, Any] | None:
    """The ``ExclusiveStartKey`` inside ``cursor``, refused unless it continues this very query."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, binascii.Error):
        raise invalid_cursor() from None
    if (
        not isinstance(key, dict)
        or set(key) != names
        or not all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values())
        or any(key[name]["S"] != value for name, value in expected.items())
    ):
        raise invalid_cursor()
    return key
