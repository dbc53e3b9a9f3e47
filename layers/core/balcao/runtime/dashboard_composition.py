"""Building the portal's overview: its reader is stateless, one per container."""

from __future__ import annotations

from functools import cache

from balcao.adapters.dynamodb.dashboard import DynamoOverviewReader
from balcao.services.dashboard import Dashboard


@cache
def dashboard() -> Dashboard:
    return Dashboard(DynamoOverviewReader())
