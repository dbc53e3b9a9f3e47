"""Shared by every suite: fake AWS credentials (never real AWS) and fresh PynamoDB connections per test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="eu-west-1",
    AWS_REGION="eu-west-1",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_METRICS_NAMESPACE="Balcao",
    POWERTOOLS_SERVICE_NAME="balcao",
    POWERTOOLS_LOG_LEVEL="WARNING",
    # botocore's account-based endpoints (``<account>.streams-ddb…``) are not routed by moto's in-process mock.
    AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
)


@pytest.fixture(autouse=True)
def _fresh_pynamodb_connections() -> Iterator[None]:
    """PynamoDB caches a connection (with its endpoint) per model class; a test must not inherit another's."""
    from pynamodb.models import Model

    def walk(cls: type) -> list[type]:
        found = []
        for sub in cls.__subclasses__():
            found.append(sub)
            found.extend(walk(sub))
        return found

    for model in walk(Model):
        model._connection = None  # type: ignore[attr-defined]
    yield
