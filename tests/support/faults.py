"""Faults at the AWS boundary, injected with botocore event hooks: chosen calls answer an AWS error instead of
reaching moto (``before-call``), or reach moto and then lose their answer (``after-call``: the write happened, the
caller sees an error — a timeout after the commit).

The hooks are added to botocore's built-in handlers and to boto3's default session, so every client made afterwards
carries them (PynamoDB makes fresh ones per test; reset a cached boto3 client before relying on them). A rule applies
to the calls of one operation that its ``when`` accepts, numbered from 1 in the order they are made::

    with Faults() as faults:
        throttled = faults.fail("dynamodb", "TransactWriteItems", "ProvisionedThroughputExceededException", calls={1})
        ...
        assert throttled.hits == 1
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, ClassVar

from botocore.awsrequest import AWSResponse

Predicate = Callable[[dict[str, Any]], bool]


@dataclass
class Rule:
    service: str
    operation: str
    code: str
    message: str
    calls: Collection[int] | None  # None: every matching call
    when: Predicate | None
    after: bool  # lose the answer of a call that happened
    status: int
    extra: dict[str, Any] = field(default_factory=dict)
    seen: int = 0
    hits: int = 0

    def matches(self, service: str, operation: str, params: dict[str, Any]) -> bool:
        if (service, operation) != (self.service, self.operation):
            return False
        if self.when is not None and not self.when(params):
            return False
        self.seen += 1
        if self.calls is not None and self.seen not in self.calls:
            return False
        self.hits += 1
        return True

    def error(self) -> dict[str, Any]:
        return {
            "Error": {"Code": self.code, "Message": self.message},
            "ResponseMetadata": {"HTTPStatusCode": self.status, "RetryAttempts": 0},
            "Message": self.message,
            **self.extra,
        }


class FaultInjected(Exception):
    pass


class Faults:
    _lock: ClassVar[threading.Lock] = threading.Lock()
    _active: ClassVar[list[Faults]] = []
    _installed: ClassVar[bool] = False

    def __init__(self) -> None:
        self.rules: list[Rule] = []

    # --- rules ----------------------------------------------------------------------------------------------------
    def fail(
        self,
        service: str,
        operation: str,
        code: str,
        *,
        calls: Collection[int] | None = None,
        when: Predicate | None = None,
        message: str = "injected fault",
        status: int = 400,
        extra: dict[str, Any] | None = None,
    ) -> Rule:
        """Answer matching calls with ``code`` (the call never reaches moto)."""
        rule = Rule(service, operation, code, message, calls, when, False, status, dict(extra or {}))
        self.rules.append(rule)
        return rule

    def lose_answer(
        self,
        service: str,
        operation: str,
        code: str = "RequestTimeout",
        *,
        calls: Collection[int] | None = None,
        when: Predicate | None = None,
    ) -> Rule:
        """Let matching calls happen, then raise ``FaultInjected`` instead of returning their answer."""
        rule = Rule(service, operation, code, "the answer was lost", calls, when, True, 500)
        self.rules.append(rule)
        return rule

    @staticmethod
    def transaction_canceled(reasons: list[str]) -> dict[str, Any]:
        """The ``extra`` of a TransactionCanceledException: one cancellation reason code per action (``None``)."""
        return {"CancellationReasons": [{"Code": code or "None"} for code in reasons]}

    # --- the hooks --------------------------------------------------------------------------------------------------
    def __enter__(self) -> Faults:
        self.install()
        with self._lock:
            self._active.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._active.remove(self)

    @classmethod
    def install(cls) -> None:
        if cls._installed:
            return
        import boto3
        from botocore import handlers

        hooks = [("before-call", cls._before), ("after-call", cls._after)]
        handlers.BUILTIN_HANDLERS.extend(hooks)
        if boto3.DEFAULT_SESSION is not None:
            for event, hook in hooks:
                boto3.DEFAULT_SESSION._session.register(event, hook)
        cls._installed = True

    @classmethod
    def _match(cls, model: Any, params: dict[str, Any], after: bool) -> Rule | None:
        service = model.service_model.service_name
        with cls._lock:
            for faults in cls._active:
                for rule in faults.rules:
                    if rule.after is after and rule.matches(service, model.name, params):
                        return rule
        return None

    @classmethod
    def _before(cls, model: Any = None, params: Any = None, context: Any = None, **_: Any) -> Any:
        if model is None or not cls._active:
            return None
        decoded = _decoded(params)
        if isinstance(context, dict):
            context["fault_params"] = decoded
        rule = cls._match(model, decoded, after=False)
        if rule is None:
            return None
        response = AWSResponse("https://fault.invalid/", rule.status, {}, None)
        return response, rule.error()

    @classmethod
    def _after(cls, model: Any = None, parsed: Any = None, context: Any = None, **_: Any) -> None:
        if model is None or not cls._active:
            return
        params = context.get("fault_params", {}) if isinstance(context, dict) else {}
        rule = cls._match(model, params, after=True)
        if rule is not None:
            raise FaultInjected(f"{rule.service}.{rule.operation}: {rule.code} after the call was made")


def _decoded(request: Any) -> dict[str, Any]:
    """The API parameters of a serialised request (the JSON body of the JSON protocols), for ``when`` predicates."""
    import json

    body = request.get("body") if isinstance(request, dict) else None
    if isinstance(body, bytes | bytearray):
        try:
            decoded = json.loads(body or b"{}")
        except ValueError:
            return {"raw": body}
        return decoded if isinstance(decoded, dict) else {}
    if isinstance(body, dict):
        return body
    return {"raw": body}
