"""Our Lambda functions in-process, like Lambda runs them: each "container" handles one event at a time.

A Powertools resolver keeps the current request on the ``app`` object, so a container must never serve two
events at once. Each function gets up to ``CONTAINERS`` independent copies of its module (loaded on demand), so
concurrent requests to one function still run concurrently, as on AWS.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from devstack import template
from devstack.gateway import LambdaContext

CONTAINERS = 4

Handler = Callable[[dict[str, Any], Any], Any]


class FunctionPool:
    def __init__(self, definition: template.FunctionDefinition) -> None:
        self.definition = definition
        self._free: list[Handler] = []
        self._loaded = 0
        self._available = threading.Condition()

    def _take(self) -> Handler:
        with self._available:
            while not self._free:
                if self._loaded < CONTAINERS:
                    instance = self._loaded
                    self._loaded += 1
                    break
                self._available.wait()
            else:
                return self._free.pop()
        try:
            return template.handler_of(self.definition, instance)
        except BaseException:
            with self._available:
                self._loaded -= 1
                self._available.notify()
            raise

    def _give_back(self, handler: Handler) -> None:
        with self._available:
            self._free.append(handler)
            self._available.notify()

    def warm(self) -> None:
        self._give_back(self._take())

    def invoke(self, event: dict[str, Any]) -> Any:
        handler = self._take()
        try:
            return handler(event, LambdaContext(self.definition.logical_id))
        finally:
            self._give_back(handler)


class Functions:
    def __init__(self) -> None:
        self.pools = {logical_id: FunctionPool(d) for logical_id, d in template.functions().items()}

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        return self.pools[logical_id].invoke(event)

    def handler_for(self, name: str) -> Handler | None:
        pool = self.pools.get(name)
        if pool is None:
            return None
        return lambda event, _context: pool.invoke(event)

    def warm(self) -> None:
        for pool in self.pools.values():
            pool.warm()
