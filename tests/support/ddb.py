"""The DynamoDB call counter: every DynamoDB API call made by this thread while measuring (botocore level, so
PynamoDB, Powertools and boto3 calls all count). ``assert calls.total <= 2 and calls.scans == 0``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient


@dataclass
class DynamoCalls:
    operations: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.operations)

    @property
    def scans(self) -> int:
        return sum(1 for op in self.operations if op == "Scan")

    def __repr__(self) -> str:
        return f"DynamoCalls(total={self.total}, operations={self.operations})"


_active: dict[int, DynamoCalls] = {}
_original = BaseClient._make_api_call
_lock = threading.Lock()


def _counting(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
    calls = _active.get(threading.get_ident())
    if calls is not None and self.meta.service_model.service_name == "dynamodb":
        calls.operations.append(operation_name)
    return _original(self, operation_name, api_params)


@contextmanager
def count_dynamodb_calls() -> Iterator[DynamoCalls]:
    calls = DynamoCalls()
    with _lock:
        BaseClient._make_api_call = _counting  # type: ignore[method-assign]
        _active[threading.get_ident()] = calls
    try:
        yield calls
    finally:
        with _lock:
            _active.pop(threading.get_ident(), None)
            if not _active:
                BaseClient._make_api_call = _original  # type: ignore[method-assign]
