"""Charges, saved methods, provider customers, webhook dedupe items and staff flags in the single table.

Writes that must land with a settlement are returned as ``ChangePart``s (``add_to(transaction)``): the invoices'
store commits them in the same TransactWrite as the payment, the invoice and the outbox event.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from pynamodb.expressions.update import Action

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.invoices import (
    credit_balance_from_item,
    credit_entry_item,
    invoice_from_item,
    one_page,
    payment_from_item,
)
from balcao.adapters.dynamodb.models import (
    AuditItem,
    BalcaoItem,
    ChargeItem,
    ChargeRefItem,
    CreditBalanceItem,
    InvoiceItem,
    LookupItem,
    PaymentCustomerItem,
    PaymentFlagItem,
    PaymentItem,
    SavedMethodItem,
    ServiceItem,
    WebhookEventItem,
)
from balcao.adapters.dynamodb.transaction import Transaction
from balcao.domain.audit import AuditEntry
from balcao.domain.calendar import epoch_seconds
from balcao.domain.credit import CreditBalance, CreditEntry, InsufficientCreditError
from balcao.domain.errors import N_, ConflictError, InvalidInputError
from balcao.domain.events import DomainEvent
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.invoices import Invoice, InvoiceChangedError
from balcao.domain.money import Currency, Money
from balcao.domain.payments.charges import (
    Charge,
    ChargeOrigin,
    ChargeStatus,
    PayableService,
    Provider,
    SavedMethod,
    SavedMethodKind,
    expiry_month,
    predecessors,
)
from balcao.domain.payments.events import WebhookAlreadyHandledError
from balcao.services.invoices import ChangePart, ReceivedPayment
from balcao.services.payments import FlagKind, PaymentFlag

WEBHOOK_RETENTION = timedelta(days=35)
AUTOCHARGE_GUARD_RETENTION = timedelta(days=400)
BATCH_GET_LIMIT = 100


class ChargeMovedError(ConflictError):
    """The charge moved on concurrently (another event got there first); the provider retries this one."""

    default_message = N_("This payment changed at the same time. Please try again.")


class InvalidFlagCursorError(InvalidInputError):
    pass


class Part:
    """A write added to someone else's transaction (``ChangePart``)."""

    def __init__(self, add: Callable[[Transaction], None]) -> None:
        self._add = add

    def add_to(self, transaction: object) -> None:
        assert isinstance(transaction, Transaction)
        self._add(transaction)


# --- mapping -------------------------------------------------------------------------------------------------------
def charge_item(charge: Charge) -> ChargeItem:
    return ChargeItem(
        pk=keys.account_pk(charge.account_id),
        sk=keys.charge_sk(charge.charge_id),
        charge_id=charge.charge_id,
        account_id=charge.account_id,
        invoice_ids=list(charge.invoice_ids),
        method=charge.method.value,
        provider=charge.provider.value,
        provider_ref=charge.provider_ref,
        amount=charge.amount.amount,
        currency=charge.amount.currency.value,
        status=charge.status.value,
        created_at=charge.created_at,
        updated_at=charge.updated_at,
        expires_at=charge.expires_at,
        origin=charge.origin.value,
        attempt=charge.attempt,
        saved_method_id=charge.saved_method_id,
        details=dict(charge.details),
        failure=charge.failure,
        amount_received=charge.amount_received.amount if charge.amount_received else None,
        amount_reversed=charge.amount_reversed.amount if charge.amount_reversed else None,
    )


def charge_from_item(item: ChargeItem) -> Charge:
    currency = Currency(item.currency)
    return Charge(
        charge_id=item.charge_id,
        account_id=item.account_id,
        invoice_ids=tuple(str(i) for i in item.invoice_ids or ()),
        method=PaymentMethod(item.method),
        provider=Provider(item.provider),
        amount=Money(int(item.amount), currency),
        status=ChargeStatus(item.status),
        created_at=item.created_at,
        provider_ref=item.provider_ref,
        expires_at=item.expires_at,
        origin=ChargeOrigin(item.origin),
        attempt=int(item.attempt or 1),
        saved_method_id=item.saved_method_id,
        details={str(k): str(v) for k, v in (item.details or {}).items()},
        failure=item.failure,
        amount_received=Money(int(item.amount_received), currency) if item.amount_received is not None else None,
        amount_reversed=Money(int(item.amount_reversed), currency) if item.amount_reversed is not None else None,
        updated_at=item.updated_at,
    )


def method_item(method: SavedMethod) -> SavedMethodItem:
    item = SavedMethodItem(
        pk=keys.account_pk(method.account_id),
        sk=keys.payment_method_sk(method.method_id),
        method_id=method.method_id,
        account_id=method.account_id,
        kind=method.kind.value,
        provider=method.provider.value,
        provider_ref=method.provider_ref,
        customer_ref=method.customer_ref,
        brand=method.brand,
        last4=method.last4,
        exp_month=method.exp_month,
        exp_year=method.exp_year,
        mandate_reference=method.mandate_reference,
        mandate_status=method.mandate_status,
        is_default=method.is_default,
        services=list(method.services),
        created_at=method.created_at,
    )
    expires = method.expires_on
    if method.kind is SavedMethodKind.CARD and expires is not None:
        item.gsi3pk = keys.QUEUE_EXPIRING_CARDS
        item.gsi3sk = keys.gsi3_expiring_card_sk(expiry_month(expires), method.method_id)
    return item


def method_from_item(item: SavedMethodItem) -> SavedMethod:
    return SavedMethod(
        method_id=item.method_id,
        account_id=item.account_id,
        kind=SavedMethodKind(item.kind),
        provider=Provider(item.provider),
        provider_ref=item.provider_ref,
        created_at=item.created_at,
        customer_ref=item.customer_ref,
        brand=item.brand,
        last4=item.last4,
        exp_month=int(item.exp_month) if item.exp_month is not None else None,
        exp_year=int(item.exp_year) if item.exp_year is not None else None,
        mandate_reference=item.mandate_reference,
        mandate_status=item.mandate_status,
        is_default=bool(item.is_default),
        services=tuple(str(s) for s in item.services or ()),
    )


def flag_from_item(item: PaymentFlagItem) -> PaymentFlag:
    amount = None
    if item.amount is not None and item.currency:
        amount = Money(int(item.amount), Currency(item.currency))
    return PaymentFlag(
        flag_id=item.flag_id,
        kind=FlagKind(item.kind),
        at=item.at,
        provider=item.provider,
        provider_ref=item.provider_ref,
        event_id=item.event_id,
        account_id=item.account_id,
        invoice_id=item.invoice_id,
        amount=amount,
        note=item.note,
    )


# --- the store -------------------------------------------------------------------------------------------------------
class DynamoPaymentStore:
    # --- charges ---------------------------------------------------------------------------------------------------
    def charge(self, account_id: str, charge_id: str) -> Charge | None:
        try:
            item = ChargeItem.get(keys.account_pk(account_id), keys.charge_sk(charge_id), consistent_read=True)
        except ChargeItem.DoesNotExist:
            return None
        return charge_from_item(item)

    def charge_for(self, provider: str, provider_ref: str) -> Charge | None:
        try:
            lookup = LookupItem.get(keys.provider_charge_pk(provider, provider_ref), keys.LOOKUP, consistent_read=True)
        except LookupItem.DoesNotExist:
            return None
        return self.charge(str(lookup.target["account_id"]), str(lookup.target["charge_id"]))

    def charges_of(self, account_id: str, invoice_id: str) -> list[Charge]:
        """The invoice's charges, newest first: one query of its pointers, one BatchGet of the charges."""
        pk = keys.account_pk(account_id)
        refs = list(
            ChargeRefItem.query(
                pk, ChargeRefItem.sk.startswith(keys.charges_of_prefix(invoice_id)), consistent_read=True
            )
        )
        ids = [ref.charge_id for ref in refs if isinstance(ref, ChargeRefItem)]
        found: list[Charge] = []
        for start in range(0, len(ids), BATCH_GET_LIMIT):
            chunk = ids[start : start + BATCH_GET_LIMIT]
            for item in ChargeItem.batch_get([(pk, keys.charge_sk(i)) for i in chunk], consistent_read=True):
                found.append(charge_from_item(item))
        return sorted(found, key=lambda c: c.charge_id, reverse=True)

    def add_charge(self, charge: Charge) -> None:
        transaction = Transaction()
        transaction.save(charge_item(charge), condition=ChargeItem.pk.does_not_exist())
        for invoice_id in charge.invoice_ids:
            transaction.save(
                ChargeRefItem(
                    pk=keys.account_pk(charge.account_id),
                    sk=keys.charge_of_sk(invoice_id, charge.charge_id),
                    charge_id=charge.charge_id,
                )
            )
        if charge.provider_ref:
            transaction.save(
                LookupItem(
                    pk=keys.provider_charge_pk(charge.provider.value, charge.provider_ref),
                    sk=keys.LOOKUP,
                    target={"account_id": charge.account_id, "charge_id": charge.charge_id},
                )
            )
        transaction.commit()

    def charge_part(self, charge: Charge) -> Part:
        allowed = sorted(status.value for status in predecessors(charge.status))

        def add(transaction: Transaction) -> None:
            actions: list[Action] = [ChargeItem.status.set(charge.status.value)]
            if charge.updated_at is not None:
                actions.append(ChargeItem.updated_at.set(charge.updated_at))
            if charge.amount_received is not None:
                actions.append(ChargeItem.amount_received.set(charge.amount_received.amount))
            if charge.amount_reversed is not None:
                actions.append(ChargeItem.amount_reversed.set(charge.amount_reversed.amount))
            if charge.failure is not None:
                actions.append(ChargeItem.failure.set(charge.failure))
            transaction.update(
                ChargeItem(pk=keys.account_pk(charge.account_id), sk=keys.charge_sk(charge.charge_id)),
                actions=actions,
                condition=ChargeItem.status.is_in(*allowed),
                error=ChargeMovedError(),
            )

        return Part(add)

    # --- webhooks, flags, events, audit -------------------------------------------------------------------------
    def webhook_seen(self, provider: str, event_id: str) -> bool:
        try:
            WebhookEventItem.get(keys.webhook_pk(provider, event_id), keys.WEBHOOK, consistent_read=True)
        except WebhookEventItem.DoesNotExist:
            return False
        return True

    def webhook_part(self, provider: str, event_id: str, kind: str, at: datetime) -> Part:
        def add(transaction: Transaction) -> None:
            transaction.save(
                WebhookEventItem(
                    pk=keys.webhook_pk(provider, event_id),
                    sk=keys.WEBHOOK,
                    provider=provider,
                    event_id=event_id,
                    kind=kind,
                    at=at,
                    ttl=epoch_seconds(datetime.now(at.tzinfo) + WEBHOOK_RETENTION),
                ),
                condition=WebhookEventItem.pk.does_not_exist(),
                error=WebhookAlreadyHandledError(),
            )

        return Part(add)

    def flag_part(self, flag: PaymentFlag) -> Part:
        def add(transaction: Transaction) -> None:
            transaction.save(
                PaymentFlagItem(
                    pk=keys.payment_flag_pk(flag.flag_id),
                    sk=keys.FLAG,
                    flag_id=flag.flag_id,
                    kind=flag.kind.value,
                    at=flag.at,
                    provider=flag.provider,
                    provider_ref=flag.provider_ref,
                    event_id=flag.event_id,
                    account_id=flag.account_id,
                    invoice_id=flag.invoice_id,
                    amount=flag.amount.amount if flag.amount else None,
                    currency=flag.amount.currency.value if flag.amount else None,
                    note=flag.note,
                    gsi3pk=keys.QUEUE_PAYMENT_FLAGS,
                    gsi3sk=keys.gsi3_queue_sk(keys.sortable_moment(flag.at), keys.payment_flag_pk(flag.flag_id)),
                )
            )

        return Part(add)

    def flags(self, limit: int, cursor: str | None) -> tuple[list[PaymentFlag], str | None]:
        start = _decode(cursor)
        items, last = one_page(
            BalcaoItem.by_gsi3.query(
                keys.QUEUE_PAYMENT_FLAGS, scan_index_forward=False, page_size=limit, last_evaluated_key=start
            )
        )
        flags = [flag_from_item(item) for item in items if isinstance(item, PaymentFlagItem)]
        return flags, _encode(last)

    def event_part(self, event: DomainEvent) -> Part:
        return Part(lambda transaction: transaction.emit(event))

    def audit_part(self, entry: AuditEntry) -> Part:
        def add(transaction: Transaction) -> None:
            assert entry.account_id is not None
            transaction.save(
                AuditItem(
                    pk=keys.account_pk(entry.account_id),
                    sk=keys.audit_sk(entry.audit_id),
                    audit_id=entry.audit_id,
                    at=entry.at,
                    actor_user_id=entry.actor_user_id,
                    actor_email=entry.actor_email,
                    account_id=entry.account_id,
                    action=entry.action,
                    target=dict(entry.target),
                    staff=1 if entry.staff else 0,
                    gsi3pk=keys.retention_bucket("audit", entry.at.strftime("%Y-%m")),
                    gsi3sk=keys.gsi3_queue_sk(entry.at.isoformat(), entry.audit_id),
                )
            )

        return Part(add)

    def commit(self, parts: Sequence[Any]) -> None:
        transaction = Transaction()
        for part in parts:
            part.add_to(transaction)
        transaction.commit()

    def invoice_with_credit(self, account_id: str, invoice_id: str) -> tuple[Invoice | None, CreditBalance | None]:
        """An invoice and the account's credit balance in one BatchGet (the pay page's one read)."""
        pk = keys.account_pk(account_id)
        found_invoice: Invoice | None = None
        found_credit: CreditBalance | None = None
        for item in BalcaoItem.batch_get([(pk, keys.invoice_sk(invoice_id)), (pk, keys.CREDIT_BALANCE)]):
            if isinstance(item, InvoiceItem):
                found_invoice = invoice_from_item(item)
            elif isinstance(item, CreditBalanceItem):
                found_credit = credit_balance_from_item(account_id, item)
        return found_invoice, found_credit

    # --- payments being reversed, credit spent --------------------------------------------------------------------
    def payment(self, account_id: str, payment_id: str) -> ReceivedPayment | None:
        try:
            return payment_from_item(
                PaymentItem.get(keys.account_pk(account_id), keys.payment_sk(payment_id), consistent_read=True)
            )
        except PaymentItem.DoesNotExist:
            return None

    def reversed_amount(self, account_id: str, payment_id: str) -> int:
        try:
            item = PaymentItem.get(keys.account_pk(account_id), keys.payment_sk(payment_id), consistent_read=True)
        except PaymentItem.DoesNotExist:
            return 0
        return int(item.amount_reversed or 0)

    def reversal_part(self, account_id: str, payment_id: str, reversed_total: int, status: str) -> Part:
        def add(transaction: Transaction) -> None:
            transaction.update(
                PaymentItem(pk=keys.account_pk(account_id), sk=keys.payment_sk(payment_id)),
                actions=[PaymentItem.amount_reversed.set(reversed_total), PaymentItem.status.set(status)],
                condition=PaymentItem.pk.exists()
                & (PaymentItem.amount_reversed.does_not_exist() | (PaymentItem.amount_reversed < reversed_total)),
                error=InvoiceChangedError(),
            )

        return Part(add)

    def credit_debit_parts(self, entry: CreditEntry) -> list[ChangePart]:
        def add(transaction: Transaction) -> None:
            transaction.save(credit_entry_item(entry))
            transaction.update(
                CreditBalanceItem(pk=keys.account_pk(entry.account_id), sk=keys.CREDIT_BALANCE),
                actions=[CreditBalanceItem.amount.add(entry.amount.amount)],
                condition=(CreditBalanceItem.amount >= -entry.amount.amount)
                & (CreditBalanceItem.currency == entry.amount.currency.value),
                error=InsufficientCreditError(),
            )

        return [Part(add)]

    # --- saved methods and provider customers ------------------------------------------------------------------
    def methods(self, account_id: str) -> list[SavedMethod]:
        items = SavedMethodItem.query(
            keys.account_pk(account_id), SavedMethodItem.sk.startswith(keys.PAYMENT_METHOD_PREFIX)
        )
        return [method_from_item(item) for item in items if isinstance(item, SavedMethodItem)]

    def method_with_services(
        self, account_id: str, method_id: str, limit: int
    ) -> tuple[SavedMethod | None, list[PayableService]]:
        """One Query from ``PAYMETHOD#{id}`` to the last ``SERVICE#`` (the profile and the provisioning requests
        that sort between are filtered out): a page of it unless the account's history passes 1 MB."""
        first, last = keys.method_services_range(method_id)
        method: SavedMethod | None = None
        services: list[PayableService] = []
        for item in BalcaoItem.query(
            keys.account_pk(account_id),
            BalcaoItem.sk.between(first, last),
            filter_condition=BalcaoItem.entity.is_in(SavedMethodItem, ServiceItem),
        ):
            if isinstance(item, SavedMethodItem) and item.method_id == method_id:
                method = method_from_item(item)
            elif isinstance(item, ServiceItem):
                services.append(PayableService(item.service_id, item.name, item.domain))
                if len(services) >= limit:
                    break
        return method, services

    def save_method(self, method: SavedMethod) -> None:
        method_item(method).save()

    def delete_method(self, method: SavedMethod) -> None:
        SavedMethodItem(pk=keys.account_pk(method.account_id), sk=keys.payment_method_sk(method.method_id)).delete()

    def customer_ref(self, account_id: str, provider: Provider) -> str | None:
        try:
            item = PaymentCustomerItem.get(keys.account_pk(account_id), keys.payment_customer_sk(provider.value))
        except PaymentCustomerItem.DoesNotExist:
            return None
        return str(item.ref)

    def set_customer_ref(self, account_id: str, provider: Provider, ref: str) -> None:
        PaymentCustomerItem(
            pk=keys.account_pk(account_id),
            sk=keys.payment_customer_sk(provider.value),
            provider=provider.value,
            ref=ref,
        ).save()

    def cards_expiring(self, month: str) -> Iterator[SavedMethod]:
        for item in SavedMethodItem.by_gsi3.query(
            keys.QUEUE_EXPIRING_CARDS, SavedMethodItem.gsi3sk.startswith(f"{month}#")
        ):
            if isinstance(item, SavedMethodItem):
                yield method_from_item(item)

    # --- jobs ---------------------------------------------------------------------------------------------------
    def claim_autocharge(self, invoice_id: str, attempt: int, at: datetime) -> bool:
        transaction = Transaction()
        transaction.save(
            LookupItem(
                pk=keys.autocharge_guard_pk(invoice_id, attempt),
                sk=keys.LOOKUP,
                target={"invoice_id": invoice_id, "attempt": str(attempt)},
                ttl=epoch_seconds(at + AUTOCHARGE_GUARD_RETENTION),
            ),
            condition=LookupItem.pk.does_not_exist(),
        )
        try:
            transaction.commit()
        except ConflictError:
            return False
        return True

    def open_invoices_due_between(self, start: date, end: date) -> Iterator[Invoice]:
        """GSI3 ``open_invoices`` / ``{due}#{id}`` from ``start`` to ``end`` (both included), oldest first."""
        condition = InvoiceItem.gsi3sk.between(start.isoformat(), f"{end.isoformat()}#~")
        for item in InvoiceItem.by_gsi3.query(keys.QUEUE_OPEN_INVOICES, condition):
            if isinstance(item, InvoiceItem):
                yield invoice_from_item(item)


def _encode(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def _decode(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if payload["gsi3pk"]["S"] != keys.QUEUE_PAYMENT_FLAGS:
            raise ValueError("cursor of another list")
    except (ValueError, TypeError, KeyError):
        raise InvalidFlagCursorError.single("cursor", N_("This value is not valid.")) from None
    return payload
