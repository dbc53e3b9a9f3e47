"""The shared logger, tracer and metrics, configured by the POWERTOOLS_* variables of template.yaml's Globals.

Lambda's active tracing (the function's and API Gateway's segments) needs no code. The X-Ray SDK's subsegments
inside a function are opt-in (template parameter ``InProcessTracing``): importing the SDK creates two botocore clients
for its sampler, about 0.15 s of every cold start, so it is imported only when tracing inside the function is on.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

Handler = TypeVar("Handler", bound=Callable[..., Any])
TRUTHY = frozenset({"1", "true", "yes", "on", "y", "t"})


def in_process_tracing() -> bool:
    """On only inside Lambda with ``POWERTOOLS_TRACE_DISABLED`` false, as Powertools decides for its Tracer."""
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in TRUTHY
    return not disabled and "LAMBDA_TASK_ROOT" in os.environ and "AWS_SAM_LOCAL" not in os.environ


class HandlerTracing:
    """``capture_lambda_handler`` of Powertools' Tracer when in-process tracing is on; otherwise the handler as is."""

    def __init__(self) -> None:
        self._tracer: Tracer | None = None

    def capture_lambda_handler(self, *, capture_response: bool = False) -> Callable[[Handler], Handler]:
        if not in_process_tracing():
            return lambda handler: handler
        if self._tracer is None:
            from aws_lambda_powertools import Tracer

            self._tracer = Tracer()
        decorator: Callable[[Handler], Handler] = self._tracer.capture_lambda_handler(capture_response=capture_response)
        return decorator


logger = Logger()
tracer = HandlerTracing()
metrics = Metrics()
