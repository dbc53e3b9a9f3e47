"""Dunning in the single table: the workflow record beside the invoice lookup, the invoice's dunning fields (under the
invoice's own version), the unpaid invoices from their GSI3 work queues, and the products of services."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date

from pynamodb.expressions.update import Action

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.invoices import invoice_from_item
from balcao.adapters.dynamodb.models import BalcaoItem, DunningItem, InvoiceItem, LookupItem, ServiceItem
from balcao.adapters.dynamodb.transaction import Transaction
from balcao.domain.calendar import format_timestamp, parse_timestamp
from balcao.domain.dunning import (
    ClosedReason,
    DunningRecord,
    DunningStep,
    HistoryEntry,
    PlannedStep,
    WorkflowStatus,
)
from balcao.domain.invoices import Invoice, InvoiceChangedError, InvoiceKind
from balcao.services.dunning import DunningChange, DunningChangedError

BATCH_GET_LIMIT = 100


def record_item(record: DunningRecord) -> DunningItem:
    item = DunningItem(
        pk=keys.dunning_pk(record.invoice_id),
        sk=keys.DUNNING,
        invoice_id=record.invoice_id,
        account_id=record.account_id,
        kind=record.kind.value,
        due_date=record.due_date.isoformat(),
        execution=record.execution,
        status=record.status.value,
        closed_reason=record.closed_reason.value if record.closed_reason else None,
        done={step.value: format_timestamp(at) for step, at in record.done.items()},
        skipped=[step.value for step in record.skipped],
        next_step=record.next_step.value if record.next_step else None,
        next_at=record.next_at,
        planned=[{"step": p.step.value, "at": format_timestamp(p.at)} for p in record.planned],
        services=list(record.services),
        pending_checks=record.pending_checks,
        history=[{"at": format_timestamp(h.at), "what": h.what, "detail": dict(h.detail)} for h in record.history],
        started_by=record.started_by,
        updated_at=record.updated_at,
    )
    if record.version is not None:
        item.version = record.version
    return item


def record_from_item(item: DunningItem) -> DunningRecord:
    return DunningRecord(
        invoice_id=item.invoice_id,
        account_id=item.account_id,
        kind=InvoiceKind(item.kind),
        due_date=date.fromisoformat(item.due_date),
        execution=item.execution,
        status=WorkflowStatus(item.status),
        closed_reason=ClosedReason(item.closed_reason) if item.closed_reason else None,
        done={DunningStep(step): parse_timestamp(at) for step, at in (item.done or {}).items()},
        skipped=tuple(DunningStep(str(step)) for step in item.skipped or ()),
        next_step=DunningStep(item.next_step) if item.next_step else None,
        next_at=item.next_at,
        planned=tuple(PlannedStep(DunningStep(p["step"]), parse_timestamp(p["at"])) for p in item.planned or ()),
        services=tuple(str(service) for service in item.services or ()),
        pending_checks=int(item.pending_checks or 0),
        history=tuple(
            HistoryEntry(parse_timestamp(h["at"]), str(h["what"]), dict(h.get("detail") or {}))
            for h in item.history or ()
        ),
        started_by=item.started_by,
        updated_at=item.updated_at,
        version=item.version,
    )


class DynamoDunningStore:
    def invoice(self, account_id: str, invoice_id: str) -> Invoice | None:
        try:
            item = InvoiceItem.get(keys.account_pk(account_id), keys.invoice_sk(invoice_id), consistent_read=True)
        except InvoiceItem.DoesNotExist:
            return None
        return invoice_from_item(item)

    def record(self, invoice_id: str) -> DunningRecord | None:
        try:
            item = DunningItem.get(keys.dunning_pk(invoice_id), keys.DUNNING, consistent_read=True)
        except DunningItem.DoesNotExist:
            return None
        return record_from_item(item)

    def lookup(self, invoice_id: str) -> tuple[str | None, DunningRecord | None]:
        """One query on ``INVOICEID#{id}``: the lookup (the account) and the workflow record."""
        account_id: str | None = None
        record: DunningRecord | None = None
        for item in BalcaoItem.query(keys.dunning_pk(invoice_id)):
            if isinstance(item, LookupItem):
                account_id = str(item.target["account_id"])
            elif isinstance(item, DunningItem):
                record = record_from_item(item)
        return account_id, record

    def commit(self, change: DunningChange) -> None:
        transaction = Transaction()
        if change.record is not None:
            transaction.save(record_item(change.record), error=DunningChangedError())
        if change.invoice is not None and change.invoice_fields is not None:
            invoice = change.invoice
            skeleton = InvoiceItem(pk=keys.account_pk(invoice.account_id), sk=keys.invoice_sk(invoice.invoice_id))
            skeleton.version = invoice.version
            fields = change.invoice_fields
            actions: list[Action] = [
                InvoiceItem.dunning_execution.set(fields.execution)
                if fields.execution
                else InvoiceItem.dunning_execution.remove(),
                InvoiceItem.suspension_date.set(fields.suspension_date.isoformat())
                if fields.suspension_date
                else InvoiceItem.suspension_date.remove(),
            ]
            transaction.update(skeleton, actions=actions, error=InvoiceChangedError())
        if change.unchanged is not None:
            read = change.unchanged
            transaction.check(
                InvoiceItem(pk=keys.account_pk(read.account_id), sk=keys.invoice_sk(read.invoice_id)),
                InvoiceItem.version == read.version,
                error=InvoiceChangedError(),
            )
        for event in change.events:
            transaction.emit(event)
        transaction.commit()

    def open_invoices(self) -> Iterator[Invoice]:
        """GSI3 ``open_invoices`` and ``unpaid_funds``, every page (the unpaid invoices; no Scan)."""
        for queue in (keys.QUEUE_OPEN_INVOICES, keys.QUEUE_UNPAID_FUNDS):
            for item in InvoiceItem.by_gsi3.query(queue):
                if isinstance(item, InvoiceItem):
                    yield invoice_from_item(item)

    def products(self, account_id: str, service_ids: Sequence[str]) -> Mapping[str, str | None]:
        wanted = list(dict.fromkeys(service_ids))
        found: dict[str, str | None] = {}
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            chunk = wanted[start : start + BATCH_GET_LIMIT]
            for item in ServiceItem.batch_get([(keys.account_pk(account_id), keys.service_sk(s)) for s in chunk]):
                found[item.service_id] = item.product_id
        return found
