"""One TransactWrite for a change and its domain events (the transactional outbox).

Each write may name the error to raise when its condition fails, so a use-case learns *which* guard stopped it
(an email already registered, an invoice no longer open…) instead of a generic conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import BalcaoItem, OutboxItem
from balcao.domain.calendar import epoch_seconds, format_timestamp
from balcao.domain.errors import BalcaoError, ConflictError
from balcao.domain.events import DomainEvent

OUTBOX_RETENTION = timedelta(days=7)
SENT_ORDER = {"check": 0, "delete": 1, "save": 2, "update": 3}
MAX_ACTIONS = 100


@dataclass
class _Operation:
    kind: Literal["save", "update", "delete", "check"]
    item: BalcaoItem
    condition: Condition | None
    actions: list[Action] | None
    error: BalcaoError | None


class Transaction:
    def __init__(self) -> None:
        self._operations: list[_Operation] = []

    def save(self, item: BalcaoItem, condition: Condition | None = None, error: BalcaoError | None = None) -> None:
        self._operations.append(_Operation("save", item, condition, None, error))

    def update(
        self,
        item: BalcaoItem,
        actions: list[Action],
        condition: Condition | None = None,
        error: BalcaoError | None = None,
    ) -> None:
        self._operations.append(_Operation("update", item, condition, actions, error))

    def delete(self, item: BalcaoItem, condition: Condition | None = None, error: BalcaoError | None = None) -> None:
        self._operations.append(_Operation("delete", item, condition, None, error))

    def check(self, item: BalcaoItem, condition: Condition, error: BalcaoError | None = None) -> None:
        self._operations.append(_Operation("check", item, condition, None, error))

    def emit(self, event: DomainEvent) -> None:
        """Write ``event`` to the outbox of its account (or user) in this transaction."""
        owner = keys.account_pk(event.account_id) if event.account_id else keys.user_pk(event.user_id or "company")
        self.save(
            OutboxItem(
                pk=owner,
                sk=keys.outbox_sk(format_timestamp(event.occurred_at), event.event_id),
                event=event.to_json(),
                ttl=epoch_seconds(event.occurred_at + OUTBOX_RETENTION),
            ),
            condition=OutboxItem.pk.does_not_exist(),
        )

    def __len__(self) -> int:
        return len(self._operations)

    def commit(self, client_request_token: str | None = None) -> None:
        if not self._operations:
            return
        if len(self._operations) > MAX_ACTIONS:
            raise ValueError(f"a transaction holds at most {MAX_ACTIONS} actions")
        connection = BalcaoItem._get_connection().connection
        try:
            with TransactWrite(connection=connection, client_request_token=client_request_token) as write:
                for operation in self._operations:
                    self._add(write, operation)
        except TransactWriteError as failure:
            raise self._error_for(failure) from failure

    @staticmethod
    def _add(write: TransactWrite, operation: _Operation) -> None:
        # A key-only instance of a versioned model updates attributes without the optimistic lock; an item that
        # was read (its version known) keeps it.
        locked = getattr(operation.item, "version", None) is not None
        if operation.kind == "save":
            write.save(operation.item, condition=operation.condition)
        elif operation.kind == "update":
            write.update(
                operation.item,
                actions=operation.actions or [],
                condition=operation.condition,
                add_version_condition=locked,
            )
        elif operation.kind == "delete":
            write.delete(operation.item, condition=operation.condition, add_version_condition=locked)
        else:
            assert operation.condition is not None
            write.condition_check(
                type(operation.item), operation.item.pk, operation.item.sk, condition=operation.condition
            )

    def _error_for(self, failure: TransactWriteError) -> BalcaoError | TransactWriteError:
        reasons: list[Any] = failure.cancellation_reasons or []
        # PynamoDB sends the actions grouped by kind (checks, deletes, puts, updates), each group in the order added;
        # the cancellation reasons follow that order.
        sent = sorted(self._operations, key=lambda operation: SENT_ORDER[operation.kind])
        for operation, reason in zip(sent, reasons, strict=False):
            if reason is not None and getattr(reason, "code", None) == "ConditionalCheckFailed":
                return operation.error or ConflictError()
        if failure.cause_response_code in ("TransactionCanceledException", "TransactionConflictException"):
            return ConflictError()
        return failure
