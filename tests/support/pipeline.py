"""Drive the event pipeline by hand in integration tests: stream → outbox publisher → bus → queues → consumers.

Uses the devstack's own pumps, polled synchronously (no threads), so the records have exactly the shapes the
devstack (and AWS) hand to our handlers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from devstack import pumps, template
from devstack.resources import Created


class Pipeline:
    def __init__(self, created: Created, invoke: Callable[[str, dict[str, Any]], Any]) -> None:
        self.pumps: list[pumps.Pump] = []
        resolver = created.resolver
        folders = {fn.logical_id: fn.folder for fn in template.functions().values()}

        def call(logical_id: str, event: dict[str, Any]) -> Any:
            return invoke(folders[logical_id], event)

        for definition in template.functions().values():
            for event in definition.events_of("SQS").values():
                props = event["Properties"]
                arn = resolver.resolve(props["Queue"])
                name = arn.rsplit(":", 1)[-1]
                url = next(u for lid, u in resolver.refs.items() if resolver.attributes.get(f"{lid}.QueueName") == name)
                self.pumps.append(
                    pumps.QueuePump(arn, url, definition.logical_id, call, int(props.get("BatchSize", 10)), True)
                )
            for event in definition.events_of("DynamoDB").values():
                props = event["Properties"]
                filters = [json.loads(f["Pattern"]) for f in (props.get("FilterCriteria") or {}).get("Filters", [])]
                self.pumps.append(
                    pumps.StreamPump(resolver.resolve(props["Stream"]), definition.logical_id, call, 100, filters, True)
                )

    def run(self, rounds: int = 20) -> None:
        """Poll every pump until a full round moves nothing."""
        for _ in range(rounds):
            moved = [pump.poll_once() for pump in self.pumps]  # poll every pump, each round
            if not any(moved):
                return
        raise AssertionError("the pipeline did not settle")
