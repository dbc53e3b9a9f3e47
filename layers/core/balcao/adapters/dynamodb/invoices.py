"""Invoices, credit notes, payments, the credit ledger and balance, the account SUMMARY and the number sequences in
the single table; ``commit`` turns one ``BillingChange`` into one TransactWrite."""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.pagination import ResultIterator

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import (
    AccountItem,
    BalcaoItem,
    CreditBalanceItem,
    CreditEntryItem,
    CreditNoteItem,
    InvoiceItem,
    LookupItem,
    PaymentItem,
    SequenceItem,
    SummaryItem,
)
from balcao.adapters.dynamodb.transaction import Transaction
from balcao.domain.addresses import Address
from balcao.domain.credit import (
    CreditBalance,
    CreditCurrencyMismatchError,
    CreditEntry,
    CreditKind,
    InsufficientCreditError,
)
from balcao.domain.errors import N_, BalcaoError, ConflictError, InvalidInputError
from balcao.domain.events import DomainEvent
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.invoice_numbering import SequenceState
from balcao.domain.invoices import (
    COUNTRY_BY_CURRENCY,
    AppliedPayment,
    Buyer,
    CreditNote,
    CreditNoteRef,
    Invoice,
    InvoiceChangedError,
    InvoiceKind,
    InvoiceLine,
    InvoiceNotDraftError,
    InvoiceStatus,
    NumberAt,
    SummaryDelta,
    TaxAmount,
    Totals,
    summary_delta,
)
from balcao.domain.money import Currency, Money
from balcao.domain.tax_ids import TaxId, TaxIdKind
from balcao.services.invoices import (
    BillingChange,
    GuardKind,
    InvoiceNumberTakenError,
    InvoicePage,
    ReceivedPayment,
)

BATCH_GET_LIMIT = 100
TAX_ID_LABELS: Mapping[TaxIdKind, str] = {
    TaxIdKind.CPF: "CPF",
    TaxIdKind.CNPJ: "CNPJ",
    TaxIdKind.NIF: "NIF",
    TaxIdKind.NIE: "NIE",
    TaxIdKind.CIF: "CIF",
}
COUNT_ATTRIBUTES: Mapping[InvoiceStatus, str] = {
    InvoiceStatus.ISSUED: "invoices_issued",
    InvoiceStatus.PAYMENT_PENDING: "invoices_payment_pending",
    InvoiceStatus.PARTIALLY_PAID: "invoices_partially_paid",
    InvoiceStatus.PAID: "invoices_paid",
    InvoiceStatus.CANCELLED: "invoices_cancelled",
    InvoiceStatus.REFUNDED: "invoices_refunded",
}
DUE_ATTRIBUTES: Mapping[Currency, str] = {Currency.BRL: "due_brl", Currency.EUR: "due_eur"}


class InvalidCursorError(InvalidInputError):
    """A list cursor that this list did not hand out."""


# --- conversions -----------------------------------------------------------------------------------------------------
def _money(amount: int | float | Decimal, currency: Currency) -> Money:
    return Money(int(amount), currency)


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def line_json(line: InvoiceLine) -> dict[str, Any]:
    return {
        "description": line.description,
        "quantity": line.quantity,
        "unit_price": line.unit_price.amount,
        "tax_category": line.tax_category,
        "tax_label": line.tax_label,
        "tax_rate": str(line.tax_rate_percent),
        "service_id": line.service_id,
        "period_start": line.period_start.isoformat() if line.period_start else None,
        "period_end": line.period_end.isoformat() if line.period_end else None,
    }


def line_from_json(data: Mapping[str, Any], currency: Currency) -> InvoiceLine:
    return InvoiceLine(
        description=str(data["description"]),
        quantity=int(data["quantity"]),
        unit_price=_money(data["unit_price"], currency),
        tax_category=data.get("tax_category"),
        tax_label=data.get("tax_label"),
        tax_rate_percent=Decimal(str(data.get("tax_rate") or "0")),
        service_id=data.get("service_id"),
        period_start=_day(data.get("period_start")),
        period_end=_day(data.get("period_end")),
    )


def _taxes_json(totals: Totals) -> list[dict[str, Any]]:
    return [
        {"label": t.label, "rate": str(t.rate_percent), "base": t.base.amount, "tax": t.tax.amount}
        for t in totals.taxes
    ]


def _totals(subtotal: float, tax: float, total: float, taxes: list[dict[str, Any]], currency: Currency) -> Totals:
    return Totals(
        subtotal=_money(subtotal, currency),
        taxes=tuple(
            TaxAmount(str(t["label"]), Decimal(str(t["rate"])), _money(t["base"], currency), _money(t["tax"], currency))
            for t in taxes
        ),
        tax=_money(tax, currency),
        total=_money(total, currency),
    )


def buyer_json(buyer: Buyer) -> dict[str, Any]:
    return {
        "account_id": buyer.account_id,
        "name": buyer.name,
        "email": buyer.email,
        "language": buyer.language,
        "country": buyer.country,
        "tax_id": buyer.tax_id,
        "address_lines": list(buyer.address_lines),
        "consumer": buyer.consumer,
        "currency": buyer.currency.value if buyer.currency else None,
    }


def buyer_from_json(data: Mapping[str, Any]) -> Buyer:
    return Buyer(
        account_id=str(data["account_id"]),
        name=str(data["name"]),
        email=str(data["email"]),
        language=str(data["language"]),
        country=str(data["country"]),
        tax_id=data.get("tax_id"),
        address_lines=tuple(data.get("address_lines") or ()),
        consumer=bool(data.get("consumer", True)),
        currency=Currency(data["currency"]) if data.get("currency") else None,
    )


def _address_lines(address: Address | None) -> tuple[str, ...]:
    if address is None:
        return ()
    street = ", ".join(part for part in (address.line1, address.number) if part)
    if address.line2:
        street = f"{street} – {address.line2}"
    city = " – ".join(part for part in (address.city, address.state) if part)
    if address.postal_code:
        city = f"{city}, {address.postal_code}"
    return tuple(part for part in (street, address.district, city, address.country) if part)


def buyer_from_account(item: AccountItem) -> Buyer:
    """The buyer snapshot of an account: its company (or name), tax id, address, contract email and language."""
    address = Address(**item.address) if item.address else None
    currency = Currency(item.currency)
    tax_id = None
    if item.tax_id and item.tax_kind:
        kind = TaxIdKind(item.tax_kind)
        tax_id = f"{TAX_ID_LABELS[kind]} {TaxId(item.tax_country or '', kind, item.tax_id).formatted}"
    country = (address.country if address else None) or item.tax_country or COUNTRY_BY_CURRENCY[currency]
    return Buyer(
        account_id=item.account_id,
        name=item.company or item.name,
        email=item.notice_email,
        language=item.language,
        country=country,
        tax_id=tax_id,
        address_lines=_address_lines(address),
        consumer=item.tax_kind in (None, TaxIdKind.CPF.value, TaxIdKind.NIF.value, TaxIdKind.NIE.value),
        currency=currency,
    )


def _payment_json(payment: AppliedPayment) -> dict[str, Any]:
    return {
        "payment_id": payment.payment_id,
        "amount": payment.amount.amount,
        "method": payment.method.value if payment.method else None,
        "source": payment.source,
        "received_at": payment.received_at.isoformat(),
    }


def _payment_from_json(data: Mapping[str, Any], currency: Currency) -> AppliedPayment:
    return AppliedPayment(
        payment_id=str(data["payment_id"]),
        amount=_money(data["amount"], currency),
        method=PaymentMethod(data["method"]) if data.get("method") else None,
        source=str(data["source"]),
        received_at=_moment(str(data["received_at"])),
    )


def _note_json(note: CreditNoteRef) -> dict[str, Any]:
    return {
        "credit_note_id": note.credit_note_id,
        "number": note.number,
        "total": note.total.amount,
        "issued_at": note.issued_at.isoformat(),
    }


def _note_from_json(data: Mapping[str, Any], currency: Currency) -> CreditNoteRef:
    return CreditNoteRef(
        str(data["credit_note_id"]),
        str(data["number"]),
        _money(data["total"], currency),
        _moment(str(data["issued_at"])),
    )


def invoice_item(invoice: Invoice) -> InvoiceItem:
    item = InvoiceItem(
        pk=keys.account_pk(invoice.account_id),
        sk=keys.invoice_sk(invoice.invoice_id),
        invoice_id=invoice.invoice_id,
        account_id=invoice.account_id,
        kind=invoice.kind.value,
        status=invoice.status.value,
        currency=invoice.currency.value,
        language=invoice.language,
        lines=[line_json(line) for line in invoice.lines],
        taxes=_taxes_json(invoice.totals),
        subtotal=invoice.totals.subtotal.amount,
        tax=invoice.totals.tax.amount,
        total=invoice.total.amount,
        amount_paid=invoice.amount_paid.amount,
        amount_credited=invoice.amount_credited.amount,
        amount_due=invoice.amount_due.amount,
        due_date=invoice.due_date.isoformat(),
        created_at=invoice.created_at,
        number=invoice.number,
        series=invoice.series,
        number_at=invoice.number_at.value,
        issued_at=invoice.issued_at,
        issue_date=invoice.issue_date.isoformat() if invoice.issue_date else None,
        buyer=buyer_json(invoice.buyer) if invoice.buyer else None,
        payment_method=invoice.payment_method.value if invoice.payment_method else None,
        instructions=dict(invoice.instructions),
        payments=[_payment_json(p) for p in invoice.payments],
        credit_notes=[_note_json(n) for n in invoice.credit_notes],
        refers_to=invoice.refers_to,
        notes=list(invoice.notes),
        paid_at=invoice.paid_at,
        cancelled_at=invoice.cancelled_at,
        record_hash=invoice.record_hash,
        previous_hash=invoice.previous_hash,
        suspension_paused_until=(
            invoice.suspension_paused_until.isoformat() if invoice.suspension_paused_until else None
        ),
        boleto_pause_used=invoice.boleto_pause_used or None,
        dunning_execution=invoice.dunning_execution,
        suspension_date=invoice.suspension_date.isoformat() if invoice.suspension_date else None,
    )
    if invoice.version is not None:
        item.version = invoice.version
    if invoice.status is not InvoiceStatus.DRAFT:
        item.gsi1pk = keys.gsi1_invoices_pk(invoice.account_id)
        item.gsi1sk = keys.gsi1_invoice_sk(invoice.invoice_id)
    if invoice.is_unpaid:
        queue = keys.QUEUE_UNPAID_FUNDS if invoice.kind is InvoiceKind.ADD_FUNDS else keys.QUEUE_OPEN_INVOICES
        item.gsi3pk = queue
        item.gsi3sk = keys.gsi3_queue_sk(invoice.due_date.isoformat(), invoice.invoice_id)
    return item


def invoice_from_item(item: InvoiceItem) -> Invoice:
    currency = Currency(item.currency)
    return Invoice(
        invoice_id=item.invoice_id,
        account_id=item.account_id,
        kind=InvoiceKind(item.kind),
        status=InvoiceStatus(item.status),
        currency=currency,
        language=item.language,
        lines=tuple(line_from_json(line, currency) for line in item.lines or []),
        totals=_totals(item.subtotal, item.tax, item.total, list(item.taxes or []), currency),
        amount_paid=_money(item.amount_paid, currency),
        amount_credited=_money(item.amount_credited, currency),
        due_date=date.fromisoformat(item.due_date),
        created_at=item.created_at,
        number=item.number,
        series=item.series,
        number_at=NumberAt(item.number_at),
        issued_at=item.issued_at,
        issue_date=_day(item.issue_date),
        buyer=buyer_from_json(item.buyer) if item.buyer else None,
        payment_method=PaymentMethod(item.payment_method) if item.payment_method else None,
        payments=tuple(_payment_from_json(p, currency) for p in item.payments or []),
        credit_notes=tuple(_note_from_json(n, currency) for n in item.credit_notes or []),
        refers_to=item.refers_to,
        notes=tuple(str(note) for note in item.notes or ()),
        paid_at=item.paid_at,
        cancelled_at=item.cancelled_at,
        record_hash=item.record_hash,
        previous_hash=item.previous_hash,
        version=item.version,
        instructions=dict(item.instructions or {}),
        suspension_paused_until=_day(item.suspension_paused_until),
        boleto_pause_used=bool(item.boleto_pause_used),
        dunning_execution=item.dunning_execution,
        suspension_date=_day(item.suspension_date),
    )


def credit_note_item(note: CreditNote) -> CreditNoteItem:
    assert note.number is not None and note.series is not None and note.record_hash is not None
    return CreditNoteItem(
        pk=keys.account_pk(note.account_id),
        sk=keys.credit_note_sk(note.credit_note_id),
        credit_note_id=note.credit_note_id,
        account_id=note.account_id,
        invoice_id=note.invoice_id,
        invoice_reference=note.invoice_reference,
        number=note.number,
        series=note.series,
        currency=note.currency.value,
        language=note.language,
        lines=[line_json(line) for line in note.lines],
        subtotal=note.totals.subtotal.amount,
        tax=note.totals.tax.amount,
        total=note.totals.total.amount,
        taxes=_taxes_json(note.totals),
        buyer=buyer_json(note.buyer),
        reason=note.reason,
        issued_at=note.issued_at,
        issue_date=note.issue_date.isoformat(),
        record_hash=note.record_hash,
        previous_hash=note.previous_hash,
    )


def credit_note_from_item(item: CreditNoteItem) -> CreditNote:
    currency = Currency(item.currency)
    return CreditNote(
        credit_note_id=item.credit_note_id,
        account_id=item.account_id,
        invoice_id=item.invoice_id,
        invoice_reference=item.invoice_reference,
        currency=currency,
        language=item.language,
        lines=tuple(line_from_json(line, currency) for line in item.lines or []),
        totals=_totals(item.subtotal, item.tax, item.total, list(item.taxes or []), currency),
        buyer=buyer_from_json(item.buyer),
        reason=item.reason,
        issued_at=item.issued_at,
        issue_date=date.fromisoformat(item.issue_date),
        number=item.number,
        series=item.series,
        record_hash=item.record_hash,
        previous_hash=item.previous_hash,
    )


def payment_item(payment: ReceivedPayment) -> PaymentItem:
    return PaymentItem(
        pk=keys.account_pk(payment.account_id),
        sk=keys.payment_sk(payment.payment_id),
        payment_id=payment.payment_id,
        account_id=payment.account_id,
        invoice_id=payment.invoice_id,
        amount=payment.amount.amount,
        applied=payment.applied.amount,
        credited=payment.credited.amount,
        currency=payment.amount.currency.value,
        source=payment.source,
        provider_ref=payment.provider_ref,
        method=payment.method.value if payment.method else None,
        status=payment.status,
        received_at=payment.received_at,
    )


def payment_from_item(item: PaymentItem) -> ReceivedPayment:
    currency = Currency(item.currency)
    return ReceivedPayment(
        payment_id=item.payment_id,
        account_id=item.account_id,
        invoice_id=item.invoice_id,
        amount=_money(item.amount, currency),
        applied=_money(item.applied, currency),
        credited=_money(item.credited, currency),
        source=item.source,
        provider_ref=item.provider_ref,
        method=PaymentMethod(item.method) if item.method else None,
        received_at=item.received_at,
        status=item.status,
    )


def credit_entry_item(entry: CreditEntry) -> CreditEntryItem:
    return CreditEntryItem(
        pk=keys.account_pk(entry.account_id),
        sk=keys.credit_entry_sk(entry.entry_id),
        entry_id=entry.entry_id,
        account_id=entry.account_id,
        kind=entry.kind.value,
        amount=entry.amount.amount,
        currency=entry.amount.currency.value,
        at=entry.at,
        invoice_id=entry.invoice_id,
        payment_id=entry.payment_id,
        note=entry.note,
    )


def credit_entry_from_item(item: CreditEntryItem) -> CreditEntry:
    return CreditEntry(
        entry_id=item.entry_id,
        account_id=item.account_id,
        kind=CreditKind(item.kind),
        amount=_money(item.amount, Currency(item.currency)),
        at=item.at,
        invoice_id=item.invoice_id,
        payment_id=item.payment_id,
        note=item.note,
    )


def credit_balance_from_item(account_id: str, item: CreditBalanceItem) -> CreditBalance:
    balance = _money(item.amount or 0, Currency(item.currency)) if item.currency else None
    return CreditBalance(account_id, balance, auto_apply=item.auto_apply is not False)


def _total_due(item: SummaryItem) -> list[Money]:
    found = []
    for currency, attribute in DUE_ATTRIBUTES.items():
        amount = int(getattr(item, attribute) or 0)
        if amount:
            found.append(Money(amount, currency))
    return found


def one_page(results: ResultIterator[BalcaoItem]) -> tuple[list[BalcaoItem], dict[str, Any] | None]:
    """The first page of a query — exactly one DynamoDB call, even when a filter leaves it short."""
    page = next(results.page_iter)
    items = [BalcaoItem.from_raw_data(raw) for raw in page.get("Items", [])]
    return items, results.page_iter.last_evaluated_key


# --- cursors -------------------------------------------------------------------------------------------------------
def _encode(payload: dict[str, Any] | None) -> str | None:
    if not payload or not payload.get("key"):
        return None
    return base64.urlsafe_b64encode(json.dumps(payload, sort_keys=True).encode()).decode()


def _decode(cursor: str | None, partition: tuple[str, str]) -> dict[str, Any] | None:
    """A cursor of this list (its key must be in ``partition``: attribute name and value), else 422."""
    if not cursor:
        return None
    try:
        payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        attribute, value = partition
        if payload["key"][attribute]["S"] != value:
            raise ValueError("cursor of another list")
    except (ValueError, TypeError, KeyError):
        raise InvalidCursorError.single("cursor", N_("This value is not valid.")) from None
    return payload


# --- the store -------------------------------------------------------------------------------------------------------
class DynamoInvoiceStore:
    def invoice(self, account_id: str, invoice_id: str) -> Invoice | None:
        try:
            item = InvoiceItem.get(keys.account_pk(account_id), keys.invoice_sk(invoice_id), consistent_read=True)
        except InvoiceItem.DoesNotExist:
            return None
        return invoice_from_item(item)

    def locate(self, invoice_id: str) -> str | None:
        try:
            lookup = LookupItem.get(keys.invoice_lookup_pk(invoice_id), keys.LOOKUP)
        except LookupItem.DoesNotExist:
            return None
        return str(lookup.target["account_id"])

    def invoices(
        self, account_id: str, statuses: frozenset[InvoiceStatus], limit: int, cursor: str | None
    ) -> InvoicePage:
        """One GSI1 query, newest first; the first page starts with the SUMMARY (the total due), which later pages
        carry in their cursor."""
        partition = keys.gsi1_invoices_pk(account_id)
        state = _decode(cursor, ("gsi1pk", partition))
        first_page = state is None
        status_filter = InvoiceItem.status.is_in(*sorted(s.value for s in statuses))
        items, last = one_page(
            BalcaoItem.by_gsi1.query(
                partition,
                filter_condition=status_filter | (BalcaoItem.entity == SummaryItem),
                scan_index_forward=False,
                page_size=limit + 1 if first_page else limit,
                last_evaluated_key=state["key"] if state else None,
            )
        )
        invoices: list[Invoice] = []
        total_due = [Money(int(a), Currency(c)) for a, c in state["due"]] if state is not None else []
        for item in items:
            if isinstance(item, SummaryItem):
                total_due = _total_due(item)
            elif isinstance(item, InvoiceItem):
                invoices.append(invoice_from_item(item))
        next_cursor = _encode({"key": last, "due": [[m.amount, m.currency.value] for m in total_due]}) if last else None
        return InvoicePage(invoices, next_cursor, total_due)

    def credit_note(self, account_id: str, credit_note_id: str) -> CreditNote | None:
        try:
            item = CreditNoteItem.get(keys.account_pk(account_id), keys.credit_note_sk(credit_note_id))
        except CreditNoteItem.DoesNotExist:
            return None
        return credit_note_from_item(item)

    def credit(self, account_id: str) -> CreditBalance | None:
        try:
            item = CreditBalanceItem.get(keys.account_pk(account_id), keys.CREDIT_BALANCE, consistent_read=True)
        except CreditBalanceItem.DoesNotExist:
            return None
        return credit_balance_from_item(account_id, item)

    def credit_page(
        self, account_id: str, limit: int, cursor: str | None
    ) -> tuple[CreditBalance | None, list[CreditEntry], str | None]:
        """One query over ``begins_with(sk, CREDIT)``, descending: the balance first, then the newest entries."""
        pk = keys.account_pk(account_id)
        state = _decode(cursor, ("pk", pk))
        items, last = one_page(
            BalcaoItem.query(
                pk,
                BalcaoItem.sk.startswith(keys.CREDIT_LEDGER_PREFIX),
                scan_index_forward=False,
                page_size=limit + 1 if state is None else limit,
                last_evaluated_key=state["key"] if state else None,
            )
        )
        balance: CreditBalance | None = None
        if state is not None and state.get("balance"):
            amount, currency, auto_apply = state["balance"]
            balance = CreditBalance(account_id, Money(int(amount), Currency(currency)), bool(auto_apply))
        entries: list[CreditEntry] = []
        for item in items:
            if isinstance(item, CreditBalanceItem):
                balance = credit_balance_from_item(account_id, item)
            elif isinstance(item, CreditEntryItem):
                entries.append(credit_entry_from_item(item))
        carried = None
        if balance is not None and balance.balance is not None:
            carried = [balance.balance.amount, balance.balance.currency.value, balance.auto_apply]
        return balance, entries, _encode({"key": last, "balance": carried}) if last else None

    def set_auto_apply(self, account_id: str, enabled: bool) -> None:
        CreditBalanceItem(pk=keys.account_pk(account_id), sk=keys.CREDIT_BALANCE).update(
            actions=[CreditBalanceItem.auto_apply.set(enabled), CreditBalanceItem.entity.set(CreditBalanceItem)]
        )

    def sequence(self, sequence_id: str) -> SequenceState:
        try:
            item = SequenceItem.get(keys.sequence_pk(sequence_id), keys.SEQUENCE, consistent_read=True)
        except SequenceItem.DoesNotExist:
            return SequenceState(sequence_id)
        return SequenceState(sequence_id, int(item.last), item.chain_head)

    def buyer(self, account_id: str) -> Buyer | None:
        try:
            return buyer_from_account(AccountItem.get(keys.account_pk(account_id), keys.PROFILE))
        except AccountItem.DoesNotExist:
            return None

    def buyers(self, account_ids: list[str]) -> dict[str, Buyer]:
        wanted = list(dict.fromkeys(account_ids))
        found: dict[str, Buyer] = {}
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            chunk = wanted[start : start + BATCH_GET_LIMIT]
            for item in AccountItem.batch_get([(keys.account_pk(a), keys.PROFILE) for a in chunk]):
                found[item.account_id] = buyer_from_account(item)
        return found

    def credits(self, account_ids: list[str]) -> dict[str, CreditBalance]:
        wanted = list(dict.fromkeys(account_ids))
        found: dict[str, CreditBalance] = {}
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            chunk = wanted[start : start + BATCH_GET_LIMIT]
            for item in CreditBalanceItem.batch_get([(keys.account_pk(a), keys.CREDIT_BALANCE) for a in chunk]):
                account_id = item.pk.removeprefix(keys.ACCOUNT_PREFIX)
                found[account_id] = credit_balance_from_item(account_id, item)
        return found

    def payment_by_reference(self, source: str, provider_ref: str) -> ReceivedPayment | None:
        try:
            lookup = LookupItem.get(keys.provider_payment_pk(source, provider_ref), keys.LOOKUP, consistent_read=True)
        except LookupItem.DoesNotExist:
            return None
        target = lookup.target
        item = PaymentItem.get(keys.account_pk(target["account_id"]), keys.payment_sk(target["payment_id"]))
        return payment_from_item(item)

    def open_invoices_due_before(self, day: date) -> Iterator[Invoice]:
        yield from self._queue(keys.QUEUE_OPEN_INVOICES, day)

    def unpaid_funds_due_before(self, day: date) -> Iterator[Invoice]:
        yield from self._queue(keys.QUEUE_UNPAID_FUNDS, day)

    def _queue(self, queue: str, day: date) -> Iterator[Invoice]:
        """GSI3 ``queue`` / ``{due}#{id}`` below ``day``: the unpaid invoices due before it, oldest first."""
        for item in InvoiceItem.by_gsi3.query(queue, InvoiceItem.gsi3sk < day.isoformat()):
            if isinstance(item, InvoiceItem):
                yield invoice_from_item(item)

    # --- the one transaction ----------------------------------------------------------------------------------
    def commit(self, change: BillingChange) -> None:
        transaction = Transaction()
        numbered = _numbered_documents(change)
        for claim in change.numbers:
            condition = (
                SequenceItem.pk.does_not_exist()
                if claim.expected_last == 0
                else SequenceItem.last == claim.expected_last
            )
            transaction.update(
                SequenceItem(pk=keys.sequence_pk(claim.sequence_id), sk=keys.SEQUENCE),
                actions=[
                    SequenceItem.entity.set(SequenceItem),
                    SequenceItem.sequence_id.set(claim.sequence_id),
                    SequenceItem.last.set(claim.number),
                    SequenceItem.chain_head.set(claim.record_hash),
                ],
                condition=condition,
                error=InvoiceNumberTakenError(),
            )
            transaction.save(
                LookupItem(
                    pk=keys.invoice_number_lookup_pk(claim.formatted),
                    sk=keys.LOOKUP,
                    target=numbered[claim.document_id],
                ),
                condition=LookupItem.pk.does_not_exist(),
                error=InvoiceNumberTakenError(),
            )
        deltas: dict[str, list[SummaryDelta]] = defaultdict(list)
        for write in change.invoices:
            # The version read is the write's condition (a new invoice: none may exist); PynamoDB increments it.
            item = invoice_item(replace(write.after, version=write.before.version if write.before else None))
            transaction.save(item, error=InvoiceChangedError())
            if write.before is None:
                transaction.save(
                    LookupItem(
                        pk=keys.invoice_lookup_pk(write.after.invoice_id),
                        sk=keys.LOOKUP,
                        target={"account_id": write.after.account_id},
                    ),
                    condition=LookupItem.pk.does_not_exist(),
                )
            delta = summary_delta(write.before, write.after)
            if not delta.is_empty:
                deltas[write.after.account_id].append(delta)
        if change.voided is not None:
            draft = change.voided
            skeleton = InvoiceItem(pk=keys.account_pk(draft.account_id), sk=keys.invoice_sk(draft.invoice_id))
            if draft.version is not None:
                skeleton.version = draft.version
            transaction.delete(
                skeleton, condition=InvoiceItem.status == InvoiceStatus.DRAFT.value, error=InvoiceNotDraftError()
            )
            transaction.delete(LookupItem(pk=keys.invoice_lookup_pk(draft.invoice_id), sk=keys.LOOKUP))
        for account_id, account_deltas in deltas.items():
            _summary(transaction, account_id, account_deltas)
        if change.credit_note is not None:
            transaction.save(credit_note_item(change.credit_note), condition=CreditNoteItem.pk.does_not_exist())
        for payment in change.payments:
            transaction.save(payment_item(payment), condition=PaymentItem.pk.does_not_exist())
        _credit(transaction, change)
        for guard in change.guards:
            transaction.save(
                LookupItem(pk=_guard_pk(guard.kind, guard.key), sk=keys.LOOKUP, target=dict(guard.target)),
                condition=LookupItem.pk.does_not_exist(),
                error=guard.error,
            )
        for event in change.events:
            transaction.emit(event)
        for part in change.extra:
            part.add_to(transaction)
        transaction.commit()


def _numbered_documents(change: BillingChange) -> dict[str, dict[str, str]]:
    """Document id → what its number's lookup points to."""
    found: dict[str, dict[str, str]] = {}
    for write in change.invoices:
        invoice = write.after
        found[invoice.invoice_id] = {"account_id": invoice.account_id, "invoice_id": invoice.invoice_id}
    if change.credit_note is not None:
        note = change.credit_note
        found[note.credit_note_id] = {"account_id": note.account_id, "credit_note_id": note.credit_note_id}
    return found


def _guard_pk(kind: GuardKind, key: tuple[str, ...]) -> str:
    if kind is GuardKind.RENEWAL:
        return keys.renewal_guard_pk(*key)
    if kind is GuardKind.LATE_FEE:
        return keys.late_fee_lookup_pk(*key)
    return keys.provider_payment_pk(*key)


def _summary(transaction: Transaction, account_id: str, deltas: list[SummaryDelta]) -> None:
    counts: dict[InvoiceStatus, int] = defaultdict(int)
    due: dict[Currency, int] = defaultdict(int)
    for delta in deltas:
        for status, n in delta.counts.items():
            counts[status] += n
        for currency, amount in delta.due.items():
            due[currency] += amount
    actions: list[Action] = [
        SummaryItem.entity.set(SummaryItem),
        SummaryItem.gsi1pk.set(keys.gsi1_invoices_pk(account_id)),
        SummaryItem.gsi1sk.set(keys.SUMMARY),
    ]
    attributes = SummaryItem.get_attributes()
    actions.extend(attributes[COUNT_ATTRIBUTES[s]].add(n) for s, n in counts.items() if n)
    actions.extend(attributes[DUE_ATTRIBUTES[c]].add(n) for c, n in due.items() if n)
    transaction.update(SummaryItem(pk=keys.account_pk(account_id), sk=keys.SUMMARY), actions=actions)


def _credit(transaction: Transaction, change: BillingChange) -> None:
    """Each ledger entry, and per account one update of ``CREDIT_BALANCE`` by their sum (never below zero)."""
    sums: dict[str, Money] = {}
    for entry in change.credit:
        transaction.save(credit_entry_item(entry), condition=CreditEntryItem.pk.does_not_exist())
        current = sums.get(entry.account_id)
        sums[entry.account_id] = entry.amount if current is None else current + entry.amount
    if change.open_credit is not None and change.open_credit[0] not in sums:
        account_id, currency = change.open_credit
        transaction.update(
            CreditBalanceItem(pk=keys.account_pk(account_id), sk=keys.CREDIT_BALANCE),
            actions=[
                CreditBalanceItem.entity.set(CreditBalanceItem),
                CreditBalanceItem.currency.set(CreditBalanceItem.currency | currency.value),
                CreditBalanceItem.amount.set(CreditBalanceItem.amount | 0),
            ],
        )
    for account_id, total in sums.items():
        same_currency = CreditBalanceItem.currency.does_not_exist() | (
            CreditBalanceItem.currency == total.currency.value
        )
        condition: Condition = same_currency
        error: BalcaoError = CreditCurrencyMismatchError.single(
            "amount.currency", N_("This account's credit is in another currency.")
        )
        if total.is_negative:
            condition = (CreditBalanceItem.amount >= -total.amount) & (
                CreditBalanceItem.currency == total.currency.value
            )
            error = InsufficientCreditError()
        transaction.update(
            CreditBalanceItem(pk=keys.account_pk(account_id), sk=keys.CREDIT_BALANCE),
            actions=[
                CreditBalanceItem.entity.set(CreditBalanceItem),
                CreditBalanceItem.currency.set(CreditBalanceItem.currency | total.currency.value),
                CreditBalanceItem.amount.add(total.amount),
            ],
            condition=condition,
            error=error,
        )


def emit_once(event: DomainEvent) -> bool:
    """Write ``event`` to the outbox unless an event with its id and time was written before."""
    transaction = Transaction()
    transaction.emit(event)
    try:
        transaction.commit()
    except ConflictError:
        return False
    return True
