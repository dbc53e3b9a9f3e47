"""Payments: charges at the providers (card and SEPA through Stripe, PIX and boleto through Mercado Pago, the sandbox
locally), provider events settled exactly once through the invoices' settlement core, saved methods and automatic
charging, paying with credit, reversals and staff refunds.

Exactly once (API.md "Payments: what webhooks accept"): each provider event is applied in one transaction together
with its dedupe item (``WEBHOOK#{provider}#{event id}``, a conditional put), the payment (one per provider
reference, a guard of the settlement core), the invoice, the credit, the charge's status and the outbox event. A
duplicate changes nothing; the provider gets a 2xx only after the commit. Charges move forward only; the one
backward move is a reversal (refund, dispute, SEPA return after success), which takes back the credit the payment
made first and leaves what the balance cannot cover due on the invoice.

Nothing here reads the environment or builds a client: providers, the store and the invoices' use-cases come in as
ports.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar

from balcao.domain.audit import AuditEntry
from balcao.domain.calendar import local_date, start_of_local_day
from balcao.domain.credit import CreditBalance, CreditEntry, CreditKind, InsufficientCreditError
from balcao.domain.errors import N_, BalcaoError, NotFoundError, ProviderUnavailableError
from balcao.domain.events import DomainEvent, new_event
from balcao.domain.ids import new_ulid
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.invoices import (
    UNPAID_STATUSES,
    AppliedPayment,
    Buyer,
    Invoice,
    InvoiceChangedError,
    InvoiceKind,
    InvoiceStatus,
)
from balcao.domain.money import Currency, Money
from balcao.domain.payments.boleto import BoletoInvalidError, parse_digitable_line
from balcao.domain.payments.charges import (
    MAX_INVOICES_PER_PAYMENT,
    Charge,
    ChargeOrigin,
    ChargeStatus,
    NothingToPayError,
    PayableService,
    PaymentMethodUnavailableError,
    Provider,
    ProviderAnswerInvalidError,
    SavedMethod,
    SavedMethodInvalidError,
    SavedMethodKind,
    SavedMethodNotFoundError,
    boleto_due_date,
    boleto_pause_until,
    charge_idempotency_key,
    expiry_month,
    method_for,
    moves_forward,
)
from balcao.domain.payments.events import EventKind, ProviderEvent, WebhookAlreadyHandledError
from balcao.domain.payments.pix import PixPayloadInvalidError, validate_pix_payload
from balcao.services.invoices import (
    CREDIT_SOURCE,
    BillingChange,
    ChangePart,
    InvoiceNumberTakenError,
    Invoices,
    InvoiceWrite,
    ReceivedPayment,
)
from balcao.services.payment_settings import PaymentSettings
from balcao.services.ports import Clock

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
REVERSAL_SOURCE = "reversal"
SERVICES_TO_CHOOSE = 100  # the services a saved method's page offers (the account's first, by id)
T = TypeVar("T")


# --- what providers and the store give us -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Payer:
    """Who pays, as the provider needs it: a boleto is registered with the payer's CPF or CNPJ (DDA)."""

    account_id: str
    name: str
    email: str
    language: str
    country: str
    tax_id_kind: str | None = None  # "CPF" or "CNPJ" (Brazil), "NIF"… (Spain)
    tax_id_number: str | None = None  # digits (a CNPJ may be alphanumeric)
    address_lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    charge_id: str
    account_id: str
    invoice_ids: tuple[str, ...]
    method: PaymentMethod
    amount: Money
    description: str
    payer: Payer
    idempotency_key: str
    expires_at: datetime | None = None
    due_date: date | None = None  # a boleto's due date
    saved_method: SavedMethod | None = None
    customer_ref: str | None = None
    off_session: bool = False


@dataclass(frozen=True, slots=True)
class ProviderCharge:
    """What a provider answered to a new charge. ``details`` keys: ``copy_paste``, ``txid`` (PIX);
    ``digitable_line``, ``barcode``, ``pdf_url``, ``due_date`` (boleto); ``client_secret`` (card, SEPA);
    ``mandate_status``, ``mandate_reference`` (SEPA)."""

    provider_ref: str
    status: ChargeStatus
    expires_at: datetime | None = None
    details: Mapping[str, str] = field(default_factory=dict)
    failure: str | None = None
    amount_received: int | None = None


@dataclass(frozen=True, slots=True)
class NewMethod:
    """A method to save: a card already tokenised by the provider's form (``provider_ref`` = ``pm_…``), or a SEPA
    mandate given by IBAN with the customer's acceptance (IP address and user agent)."""

    kind: SavedMethodKind
    provider_ref: str | None = None
    iban: str | None = None
    holder_name: str | None = None
    accepted_from_ip: str | None = None
    accepted_user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class VaultedMethod:
    provider_ref: str
    brand: str | None = None
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    mandate_reference: str | None = None
    mandate_status: str | None = None


class ChargeProvider(Protocol):
    """One provider's charges. Failures to reach it raise ``ProviderUnavailableError`` (503)."""

    provider: Provider

    def create(self, request: ChargeRequest) -> ProviderCharge: ...

    def cancel(self, charge: Charge) -> None:
        """Cancel an open charge (a PIX code, a boleto, an unconfirmed intent); already final ones are left."""
        ...

    def refund(self, charge: Charge, amount: Money, idempotency_key: str) -> str:
        """Refund part or all of a succeeded charge; returns the provider's refund id."""
        ...


class MethodVault(Protocol):
    """Saved methods at a provider (Stripe customers and payment methods; the sandbox locally)."""

    provider: Provider

    def customer(self, payer: Payer) -> str: ...

    def save(self, customer_ref: str, method: NewMethod, payer: Payer) -> VaultedMethod: ...

    def remove(self, method: SavedMethod) -> None: ...


class Providers(Protocol):
    def for_method(self, method: PaymentMethod) -> ChargeProvider:
        """The provider serving ``method``; ``PaymentMethodUnavailableError`` (422) when none is configured."""
        ...

    def for_provider(self, provider: Provider) -> ChargeProvider: ...

    def vault(self) -> MethodVault:
        """Where cards and mandates are saved; ``PaymentMethodUnavailableError`` when it is not configured."""
        ...


class FlagKind(StrEnum):
    UNKNOWN_INVOICE = "unknown_invoice"
    CURRENCY_MISMATCH = "currency_mismatch"
    OVERPAYMENT = "overpayment"  # a payment for an invoice already paid
    LATE_PAYMENT = "late_payment"  # a payment for a cancelled invoice (staff may reinstate a recent order)
    REVERSAL_UNCOVERED = "reversal_uncovered"  # a reversal larger than what it could take back
    PROVIDER_ANSWER = "provider_answer"  # a provider's PIX code or boleto line failed our checks


@dataclass(frozen=True, slots=True)
class PaymentFlag:
    """Something staff must look at. ``flag_id`` is derived from what it is about: flagging twice is one flag."""

    flag_id: str
    kind: FlagKind
    at: datetime
    provider: str
    provider_ref: str | None = None
    event_id: str | None = None
    account_id: str | None = None
    invoice_id: str | None = None
    amount: Money | None = None
    note: str | None = None


class PaymentStore(Protocol):
    # charges
    def charge(self, account_id: str, charge_id: str) -> Charge | None: ...

    def charge_for(self, provider: str, provider_ref: str) -> Charge | None: ...

    def charges_of(self, account_id: str, invoice_id: str) -> list[Charge]: ...

    def add_charge(self, charge: Charge) -> None: ...

    def invoice_with_credit(self, account_id: str, invoice_id: str) -> tuple[Invoice | None, CreditBalance | None]:
        """An invoice and the account's credit balance, in one read."""
        ...

    def charge_part(self, charge: Charge) -> ChangePart:
        """Write the charge's new status, only if the stored one may still move there (forward only)."""
        ...

    # webhooks and flags
    def webhook_seen(self, provider: str, event_id: str) -> bool: ...

    def webhook_part(self, provider: str, event_id: str, kind: str, at: datetime) -> ChangePart:
        """The dedupe item: a conditional put (``WebhookAlreadyHandledError`` when it exists)."""
        ...

    def flag_part(self, flag: PaymentFlag) -> ChangePart: ...

    def flags(self, limit: int, cursor: str | None) -> tuple[list[PaymentFlag], str | None]: ...

    def event_part(self, event: DomainEvent) -> ChangePart: ...

    def audit_part(self, entry: AuditEntry) -> ChangePart: ...

    def commit(self, parts: Sequence[ChangePart]) -> None: ...

    # payments (of the settlement core) being reversed
    def payment(self, account_id: str, payment_id: str) -> ReceivedPayment | None: ...

    def reversed_amount(self, account_id: str, payment_id: str) -> int: ...

    def reversal_part(self, account_id: str, payment_id: str, reversed_total: int, status: str) -> ChangePart: ...

    def credit_debit_parts(self, entry: CreditEntry) -> list[ChangePart]:
        """A negative ledger entry and the balance's decrease (condition: enough credit)."""
        ...

    # saved methods
    def methods(self, account_id: str) -> list[SavedMethod]: ...

    def method_with_services(
        self, account_id: str, method_id: str, limit: int
    ) -> tuple[SavedMethod | None, list[PayableService]]:
        """A saved method and the account's first ``limit`` services (those it may pay by default), in one read."""
        ...

    def save_method(self, method: SavedMethod) -> None: ...

    def delete_method(self, method: SavedMethod) -> None: ...

    def customer_ref(self, account_id: str, provider: Provider) -> str | None: ...

    def set_customer_ref(self, account_id: str, provider: Provider, ref: str) -> None: ...

    def cards_expiring(self, month: str) -> Iterator[SavedMethod]: ...

    # jobs
    def claim_autocharge(self, invoice_id: str, attempt: int, at: datetime) -> bool: ...

    def open_invoices_due_between(self, start: date, end: date) -> Iterator[Invoice]: ...


class OverdueServices(Protocol):
    """The services capability's side of "after payment" (its use-case implements it)."""

    def suspended_for_overdue(self, account_id: str, service_ids: Sequence[str]) -> list[str]: ...

    def unsuspend(self, account_id: str, service_id: str) -> None: ...

    def existing(self, account_id: str, service_ids: Sequence[str]) -> list[str]:
        """Which of these ids are services of the account (what a saved method may pay by default)."""
        ...


# --- results ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChargeResult:
    charge: Charge
    invoices: list[Invoice]


class EventOutcome(StrEnum):
    SETTLED = "settled"
    DUPLICATE = "duplicate"
    PENDING = "pending"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REVERSED = "reversed"
    FLAGGED = "flagged"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class Refund:
    refund_id: str
    charge: Charge
    amount: Money
    invoices: list[Invoice]


# --- the use-cases ---------------------------------------------------------------------------------------------------
def _pause(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.004 * (attempt + 1)))  # noqa: S311 - jitter, not a secret


_TAX_ID = re.compile(r"^(CPF|CNPJ|NIF|NIE|CIF)\s+(.+)$")


def payer_of(invoice: Invoice) -> Payer:
    if invoice.buyer is None:
        raise NotFoundError()
    return payer_from(invoice.buyer)


def payer_from(buyer: Buyer) -> Payer:
    kind = number = None
    if buyer.tax_id:
        found = _TAX_ID.match(buyer.tax_id)
        if found:
            kind, number = found.group(1), re.sub(r"[^0-9A-Z]", "", found.group(2).upper())
    return Payer(
        account_id=buyer.account_id,
        name=buyer.name,
        email=buyer.email,
        language=buyer.language,
        country=buyer.country,
        tax_id_kind=kind,
        tax_id_number=number,
        address_lines=buyer.address_lines,
    )


@dataclass
class Payments:
    store: PaymentStore
    invoices: Invoices
    providers: Providers
    clock: Clock
    settings: PaymentSettings
    timezone: str
    public_base_url: str
    services: OverdueServices | None = None
    suspension_after_days: int | None = 7  # dunning's: None when services are never suspended

    # --- time ----------------------------------------------------------------------------------------------------
    def today(self) -> date:
        return local_date(self.clock.now(), self.timezone)

    def suspension_day(self, invoice: Invoice) -> date | None:
        if self.suspension_after_days is None:
            return None
        return invoice.due_date + timedelta(days=self.suspension_after_days)

    def cancellation_day(self, invoice: Invoice) -> date | None:
        """When an unpaid invoice is cancelled, if it ever is: orders and upgrades after ``unpaid_order_days``,
        add funds on their due date. A boleto is never due after it."""
        if invoice.kind in (InvoiceKind.ORDER, InvoiceKind.UPGRADE):
            issued = invoice.issue_date or invoice.due_date
            return issued + timedelta(days=self.settings.unpaid_order_days)
        if invoice.kind is InvoiceKind.ADD_FUNDS:
            return invoice.due_date
        return None

    # --- paying --------------------------------------------------------------------------------------------------
    def pay(
        self,
        account_id: str,
        invoice_ids: Sequence[str],
        method: PaymentMethod,
        saved_method_id: str | None = None,
        origin: ChargeOrigin = ChargeOrigin.CUSTOMER,
        attempt: int | None = None,
    ) -> ChargeResult:
        """A charge for the open amount of one or several invoices of the account (API.md's allocation applies
        when it is paid); with ``credit`` the balance pays at once. An open charge for the same invoices and
        method is answered again instead of opening another."""
        wanted = list(dict.fromkeys(invoice_ids))
        if not wanted or len(wanted) > MAX_INVOICES_PER_PAYMENT:
            raise NothingToPayError.single("invoice_ids", N_("Choose between 1 and 10 invoices."))
        invoices = [self.invoices.invoice(account_id, invoice_id) for invoice_id in wanted]
        open_ones = [i for i in invoices if i.is_unpaid and not i.amount_due.is_zero]
        if not open_ones:
            raise NothingToPayError.single("invoice_ids", N_("These invoices have nothing left to pay."), "invalid")
        currencies = {i.currency for i in open_ones}
        if len(currencies) > 1:
            raise PaymentMethodUnavailableError.single(
                "invoice_ids", N_("Invoices in different currencies are paid separately.")
            )
        (currency,) = currencies
        _check_method_currency(method, currency)
        if method is PaymentMethod.CREDIT:
            return self._pay_with_credit(account_id, open_ones)
        amount = sum((i.amount_due for i in open_ones), Money.zero(currency))
        ids = tuple(i.invoice_id for i in sorted(open_ones, key=lambda i: (i.due_date, i.invoice_id)))
        existing = self._reusable(account_id, ids, method, amount)
        if existing is not None and saved_method_id is None:
            return ChargeResult(existing, open_ones)
        saved = (
            self._saved_method(account_id, method, saved_method_id)
            if saved_method_id or method in (PaymentMethod.SEPA,)
            else None
        )
        provider = self.providers.for_method(method)
        tries = attempt if attempt is not None else len(self.store.charges_of(account_id, ids[0])) + 1
        now = self.clock.now()
        first = open_ones[0]
        payer = payer_of(first)
        due_date = self._boleto_due_date(open_ones, payer) if method is PaymentMethod.BOLETO else None
        customer = None
        if saved is not None or method in (PaymentMethod.CARD, PaymentMethod.SEPA):
            customer = self._customer(account_id, payer) if saved is not None else None
        charge_id = new_ulid()
        request = ChargeRequest(
            charge_id=charge_id,
            account_id=account_id,
            invoice_ids=ids,
            method=method,
            amount=amount,
            description=", ".join(i.number or i.invoice_id for i in open_ones),
            payer=payer,
            idempotency_key=charge_idempotency_key(ids, tries, f"{method.value}:{origin.value}"),
            expires_at=now + timedelta(minutes=self.settings.pix_expiry_minutes)
            if method is PaymentMethod.PIX
            else None,
            due_date=due_date,
            saved_method=saved,
            customer_ref=customer,
            off_session=origin is ChargeOrigin.AUTOCHARGE,
        )
        answer = provider.create(request)
        details = dict(answer.details)
        details["numbers"] = request.description  # what the payment's page shows, without reading the invoices
        if method is PaymentMethod.BOLETO:
            details["payer_name"] = payer.name
            details["payer_tax_id"] = first.buyer.tax_id if first.buyer and first.buyer.tax_id else ""
        try:
            self._check_answer(method, amount, due_date, details)
        except ProviderAnswerInvalidError:
            self._flag_bad_answer(provider.provider, answer, account_id, ids[0], amount)
            raise
        expires_at = answer.expires_at
        if expires_at is None and due_date is not None:
            expires_at = datetime.combine(due_date + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo)
        charge = Charge(
            charge_id=charge_id,
            account_id=account_id,
            invoice_ids=ids,
            method=method,
            provider=provider.provider,
            amount=amount,
            status=answer.status,
            created_at=now,
            provider_ref=answer.provider_ref,
            expires_at=expires_at,
            origin=origin,
            attempt=tries,
            saved_method_id=saved.method_id if saved else None,
            details=details,
            failure=answer.failure,
            updated_at=now,
        )
        self.store.add_charge(charge)
        updated = self._after_charge(charge, open_ones, answer)
        return ChargeResult(charge, updated)

    def _boleto_due_date(self, invoices: list[Invoice], payer: Payer) -> date:
        """A boleto is registered with the payer's CPF or CNPJ (DDA) and is never due after a cancellation day."""
        if payer.tax_id_kind not in ("CPF", "CNPJ"):
            raise PaymentMethodUnavailableError.single(
                "method", N_("A boleto needs the CPF or CNPJ of the account. Add it to your profile first.")
            )
        cancellation = min((day for day in map(self.cancellation_day, invoices) if day is not None), default=None)
        return boleto_due_date(self.today(), self.settings.boleto_days, cancellation)

    def _reusable(self, account_id: str, ids: tuple[str, ...], method: PaymentMethod, amount: Money) -> Charge | None:
        if method not in (PaymentMethod.PIX, PaymentMethod.BOLETO, PaymentMethod.CARD):
            return None
        now = self.clock.now()
        for charge in self.store.charges_of(account_id, ids[0]):
            if (
                charge.status is ChargeStatus.PENDING
                and charge.method is method
                and charge.invoice_ids == ids
                and charge.amount == amount
                and charge.origin is ChargeOrigin.CUSTOMER
                and charge.saved_method_id is None
                and (charge.expires_at is None or charge.expires_at > now + timedelta(minutes=5))
            ):
                return charge
        return None

    def _saved_method(self, account_id: str, method: PaymentMethod, saved_method_id: str | None) -> SavedMethod | None:
        methods = self.store.methods(account_id)
        if saved_method_id is not None:
            found = next((m for m in methods if m.method_id == saved_method_id), None)
            if found is None:
                raise SavedMethodNotFoundError()
            if found.payment_method is not method:
                raise SavedMethodInvalidError.single(
                    "payment_method_id", N_("This saved method is for another method.")
                )
            return found
        if method is PaymentMethod.SEPA:
            mandates = [m for m in methods if m.kind is SavedMethodKind.SEPA]
            return next((m for m in mandates if m.is_default), mandates[0] if mandates else None)
        return None

    def _customer(self, account_id: str, payer: Payer) -> str:
        vault = self.providers.vault()
        known = self.store.customer_ref(account_id, vault.provider)
        if known:
            return known
        ref = vault.customer(payer)
        self.store.set_customer_ref(account_id, vault.provider, ref)
        return ref

    def _check_answer(
        self, method: PaymentMethod, amount: Money, due_date: date | None, details: dict[str, str]
    ) -> None:
        """Our own checks of what a provider gives us to show: a PIX code (TLV structure, CRC16/CCITT-FALSE) and a
        boleto line (mod-10 fields, mod-11 general digit, due-date factor across the 2025 rollover). A code that
        fails is never shown."""
        try:
            if method is PaymentMethod.PIX:
                payload = validate_pix_payload(details.get("copy_paste", ""))
                if payload.amount is not None and payload.amount != amount:
                    raise ProviderAnswerInvalidError()
                if payload.txid and not details.get("txid"):
                    details["txid"] = payload.txid
            elif method is PaymentMethod.BOLETO:
                boleto = parse_digitable_line(details.get("digitable_line", ""), due_date or self.today())
                if boleto.amount != amount or (due_date is not None and boleto.due_date != due_date):
                    raise ProviderAnswerInvalidError()
                if details.get("barcode") and details["barcode"] != boleto.barcode:
                    raise ProviderAnswerInvalidError()
                details["digitable_line"] = boleto.digitable_line
                details["barcode"] = boleto.barcode
                if boleto.due_date is not None:
                    details["due_date"] = boleto.due_date.isoformat()
        except (PixPayloadInvalidError, BoletoInvalidError) as error:
            logger.warning("provider answer refused", extra={"method": method.value, "detail": error.detail})
            raise ProviderAnswerInvalidError() from error

    def _flag_bad_answer(
        self, provider: Provider, answer: ProviderCharge, account_id: str, invoice_id: str, amount: Money
    ) -> None:
        flag = PaymentFlag(
            flag_id=f"{provider.value}:{answer.provider_ref}:{FlagKind.PROVIDER_ANSWER.value}",
            kind=FlagKind.PROVIDER_ANSWER,
            at=self.clock.now(),
            provider=provider.value,
            provider_ref=answer.provider_ref,
            account_id=account_id,
            invoice_id=invoice_id,
            amount=amount,
        )
        self.store.commit([self.store.flag_part(flag)])
        try:
            self.providers.for_provider(provider).cancel(
                Charge(
                    new_ulid(),
                    account_id,
                    (invoice_id,),
                    PaymentMethod.PIX,
                    provider,
                    amount,
                    ChargeStatus.PENDING,
                    self.clock.now(),
                    provider_ref=answer.provider_ref,
                )
            )
        except BalcaoError:
            logger.warning("refused charge not cancelled", extra={"provider_ref": answer.provider_ref})

    def _after_charge(self, charge: Charge, invoices: list[Invoice], answer: ProviderCharge) -> list[Invoice]:
        """Print the instructions on the invoices (and a boleto's pause); a SEPA debit in processing makes them
        payment pending; a charge that succeeded at once (a saved card) is settled now."""
        instructions = _instructions(charge, self.public_base_url)
        updated: list[Invoice] = []
        for invoice in invoices:
            pause = None
            if charge.method is PaymentMethod.BOLETO and charge.details.get("due_date"):
                due = date.fromisoformat(charge.details["due_date"])
                suspension = self.suspension_day(invoice)
                if suspension is not None:
                    pause = boleto_pause_until(due, suspension, invoice.boleto_pause_used)
            if charge.status is ChargeStatus.PROCESSING:
                current = self.invoices.invoice(charge.account_id, invoice.invoice_id)
                if current.status is not InvoiceStatus.PAYMENT_PENDING and current.is_unpaid:
                    updated.append(
                        self.invoices.mark_payment_pending(
                            charge.account_id, invoice.invoice_id, charge.method, instructions
                        )
                    )
                    continue
            updated.append(
                self.invoices.record_charge(charge.account_id, invoice.invoice_id, charge.method, instructions, pause)
            )
        if charge.status is ChargeStatus.SUCCEEDED and charge.provider_ref:
            amount = answer.amount_received if answer.amount_received is not None else charge.amount.amount
            self.handle_event(
                ProviderEvent(
                    provider=charge.provider.value,
                    event_id=f"sync:{charge.provider_ref}",
                    kind=EventKind.SUCCEEDED,
                    provider_ref=charge.provider_ref,
                    amount=amount,
                    currency=charge.amount.currency.value,
                    charge_id=charge.charge_id,
                    account_id=charge.account_id,
                    invoice_ids=charge.invoice_ids,
                    method=charge.method,
                )
            )
            updated = [self.invoices.invoice(charge.account_id, i.invoice_id) for i in invoices]
        elif charge.status is ChargeStatus.FAILED:
            self._failed_notice(charge)
        return updated

    def _pay_with_credit(self, account_id: str, invoices: list[Invoice]) -> ChargeResult:
        """The credit balance pays the invoices, oldest due date first, each up to what is due."""
        now = self.clock.now()
        charge_id = new_ulid()
        spent = Money.zero(invoices[0].currency)
        paid: list[Invoice] = []
        for invoice in sorted(invoices, key=lambda i: (i.due_date, i.invoice_id)):
            balance = self.invoices.store.credit(account_id)
            available = balance.amount_in(invoice.currency) if balance is not None else Money.zero(invoice.currency)
            if available.is_zero:
                break
            spend = available if available <= invoice.amount_due else invoice.amount_due

            def extra(payment: ReceivedPayment, before: Invoice, after: Invoice) -> list[ChangePart]:
                if not payment.credited.is_zero:
                    raise NothingToPayError.single("invoice_ids", N_("These invoices have nothing left to pay."))
                entry = CreditEntry(
                    new_ulid(),
                    account_id,
                    CreditKind.APPLIED,
                    -payment.amount,
                    now,
                    before.invoice_id,
                    payment.payment_id,
                )
                return self.store.credit_debit_parts(entry)

            try:
                settled = self.invoices.settle_payment(
                    account_id,
                    invoice.invoice_id,
                    spend,
                    CREDIT_SOURCE,
                    f"{charge_id}:{invoice.invoice_id}",
                    PaymentMethod.CREDIT,
                    extra,
                )
            except InsufficientCreditError:
                break
            spent += settled.payment.amount
            paid.append(settled.invoice)
        if spent.is_zero:
            raise PaymentMethodUnavailableError.single("method", N_("The credit balance is not enough for this."))
        charge = Charge(
            charge_id=charge_id,
            account_id=account_id,
            invoice_ids=tuple(i.invoice_id for i in paid),
            method=PaymentMethod.CREDIT,
            provider=Provider.CREDIT,
            amount=spent,
            status=ChargeStatus.SUCCEEDED,
            created_at=now,
            provider_ref=charge_id,
            amount_received=spent,
            updated_at=now,
        )
        self.store.add_charge(charge)
        return ChargeResult(charge, paid)

    # --- provider events -------------------------------------------------------------------------------------
    def handle_event(self, event: ProviderEvent) -> EventOutcome:
        """Apply one verified provider event exactly once (see the module docstring)."""
        if self.store.webhook_seen(event.provider, event.event_id):
            return EventOutcome.DUPLICATE
        try:
            return self._handle(event)
        except WebhookAlreadyHandledError:
            return EventOutcome.DUPLICATE

    def _handle(self, event: ProviderEvent) -> EventOutcome:
        now = self.clock.now()
        marker = self.store.webhook_part(event.provider, event.event_id, event.kind.value, now)
        if event.kind is EventKind.IGNORED:
            self.store.commit([marker])
            return EventOutcome.IGNORED
        charge = self._charge_of_event(event)
        account_id = charge.account_id if charge else event.account_id
        invoice_ids = charge.invoice_ids if charge else event.invoice_ids
        if event.kind is EventKind.SUCCEEDED:
            return self._settle_event(event, charge, account_id, invoice_ids, marker)
        if event.kind in (EventKind.REFUNDED, EventKind.DISPUTED):
            return self._reversal_event(event, charge, marker)
        if charge is None and (account_id is None or not invoice_ids):
            self.store.commit([marker])
            return EventOutcome.IGNORED
        assert account_id is not None
        if event.kind is EventKind.PROCESSING:
            return self._processing(event, charge, account_id, invoice_ids, marker)
        if event.kind is EventKind.FAILED:
            if charge is not None and charge.status is ChargeStatus.SUCCEEDED:
                return self._reverse_event(event, charge, ChargeStatus.CHARGED_BACK, marker)
            return self._failed(event, charge, account_id, invoice_ids, marker)
        parts = [marker]
        if charge is not None and moves_forward(charge.status, ChargeStatus.CANCELLED):
            parts.append(self.store.charge_part(charge.moved(ChargeStatus.CANCELLED, now)))
        self.store.commit(parts)
        return EventOutcome.CANCELLED

    def _charge_of_event(self, event: ProviderEvent) -> Charge | None:
        """Our charge the event is about: by the provider's reference, else by the id its metadata carries."""
        if event.provider_ref:
            found = self.store.charge_for(event.provider, event.provider_ref)
            if found is not None:
                return found
        if event.charge_id and event.account_id:
            candidate = self.store.charge(event.account_id, event.charge_id)
            if candidate is not None and candidate.provider_ref in (None, event.provider_ref):
                return candidate
        return None

    def _reversal_event(self, event: ProviderEvent, charge: Charge | None, marker: ChangePart) -> EventOutcome:
        found = charge or self._charge_from_payments(event)
        if found is None:
            return self._flag_only(event, FlagKind.UNKNOWN_INVOICE, marker, None, None)
        status = ChargeStatus.REFUNDED if event.kind is EventKind.REFUNDED else ChargeStatus.CHARGED_BACK
        return self._reverse_event(event, found, status, marker)

    def _charge_from_payments(self, event: ProviderEvent) -> Charge | None:
        """A reversal of a payment we settled without a charge record (an event that named the invoice)."""
        if not event.provider_ref:
            return None
        payment = self.invoices.store.payment_by_reference(event.provider, event.provider_ref)
        if payment is None:
            return None
        return Charge(
            charge_id=payment.payment_id,
            account_id=payment.account_id,
            invoice_ids=(payment.invoice_id,),
            method=payment.method or PaymentMethod.CARD,
            provider=Provider(event.provider),
            amount=payment.amount,
            status=ChargeStatus.SUCCEEDED,
            created_at=payment.received_at,
            provider_ref=event.provider_ref,
            amount_received=payment.amount,
        )

    def _flag_only(
        self,
        event: ProviderEvent,
        kind: FlagKind,
        marker: ChangePart,
        account_id: str | None,
        invoice_id: str | None,
        note: str | None = None,
    ) -> EventOutcome:
        amount = None
        if event.amount is not None and event.currency and event.currency.upper() in Currency.__members__:
            amount = Money(event.amount, Currency(event.currency.upper()))
        flag = PaymentFlag(
            flag_id=f"{event.provider}:{event.provider_ref or event.event_id}:{kind.value}",
            kind=kind,
            at=self.clock.now(),
            provider=event.provider,
            provider_ref=event.provider_ref,
            event_id=event.event_id,
            account_id=account_id,
            invoice_id=invoice_id,
            amount=amount,
            note=note,
        )
        self.store.commit([marker, self.store.flag_part(flag)])
        return EventOutcome.FLAGGED

    def _settle_event(
        self,
        event: ProviderEvent,
        charge: Charge | None,
        account_id: str | None,
        invoice_ids: Sequence[str],
        marker: ChangePart,
    ) -> EventOutcome:
        found: list[Invoice] = []
        if account_id is not None:
            for invoice_id in invoice_ids:
                invoice = self.invoices.store.invoice(account_id, invoice_id)
                if invoice is not None and invoice.status is not InvoiceStatus.DRAFT:
                    found.append(invoice)
        if not found or len(found) != len(invoice_ids) or event.amount is None or account_id is None:
            first = invoice_ids[0] if invoice_ids else None
            return self._flag_only(event, FlagKind.UNKNOWN_INVOICE, marker, account_id, first)
        currency = (event.currency or "").upper()
        if any(invoice.currency.value != currency for invoice in found):
            note = f"paid in {currency}"
            return self._flag_only(event, FlagKind.CURRENCY_MISMATCH, marker, account_id, found[0].invoice_id, note)
        amount = Money(event.amount, found[0].currency)
        final: list[ChangePart] = [marker]
        if charge is not None and moves_forward(charge.status, ChargeStatus.SUCCEEDED):
            final.append(
                self.store.charge_part(charge.moved(ChargeStatus.SUCCEEDED, self.clock.now(), amount_received=amount))
            )
        written = self._settle_pieces(event, account_id, found, amount, final)
        if not written:
            try:
                self.store.commit(final)
            except WebhookAlreadyHandledError:
                return EventOutcome.DUPLICATE
        return EventOutcome.SETTLED

    def _settle_pieces(
        self, event: ProviderEvent, account_id: str, invoices: list[Invoice], amount: Money, final: list[ChangePart]
    ) -> bool:
        """Settle ``amount`` over the invoices (API.md's allocation: oldest due date first, each up to its amount
        due, the rest with the last — to credit). Each invoice's share is one payment, idempotent per (provider,
        reference); the last carries ``final`` (the dedupe item, the charge's status). True when it wrote them."""
        ordered = sorted(invoices, key=lambda i: (i.due_date, i.invoice_id))
        single = len(ordered) == 1
        method = event.method
        remaining = amount
        for position, invoice in enumerate(ordered):
            last = position == len(ordered) - 1
            reference = event.provider_ref or event.event_id
            if not single:
                reference = f"{reference}#{invoice.invoice_id}"
            existing = self.invoices.store.payment_by_reference(event.provider, reference)
            if existing is not None:
                remaining -= existing.amount
                continue
            share = remaining
            if not last:
                current = self.invoices.store.invoice(account_id, invoice.invoice_id) or invoice
                due = current.amount_due if current.is_unpaid else Money.zero(amount.currency)
                share = remaining if remaining <= due else due
            if share.is_zero or share.is_negative:
                continue
            settled = self.invoices.settle_payment(
                account_id,
                invoice.invoice_id,
                share,
                event.provider,
                reference,
                method,
                self._settlement_parts(event, final if last else []),
            )
            remaining -= share
            if last:
                return not settled.duplicate
        return False

    def _settlement_parts(
        self, event: ProviderEvent, parts: list[ChangePart]
    ) -> Callable[[ReceivedPayment, Invoice, Invoice], list[ChangePart]]:
        def extra(payment: ReceivedPayment, before: Invoice, after: Invoice) -> list[ChangePart]:
            written = list(parts)
            if payment.applied.is_zero and before.status in (
                InvoiceStatus.PAID,
                InvoiceStatus.CANCELLED,
                InvoiceStatus.REFUNDED,
            ):
                kind = FlagKind.LATE_PAYMENT if before.status is InvoiceStatus.CANCELLED else FlagKind.OVERPAYMENT
                written.append(
                    self.store.flag_part(
                        PaymentFlag(
                            flag_id=f"{event.provider}:{payment.provider_ref}:{kind.value}",
                            kind=kind,
                            at=payment.received_at,
                            provider=event.provider,
                            provider_ref=payment.provider_ref,
                            event_id=event.event_id,
                            account_id=payment.account_id,
                            invoice_id=payment.invoice_id,
                            amount=payment.amount,
                        )
                    )
                )
            return written

        return extra

    def _processing(
        self,
        event: ProviderEvent,
        charge: Charge | None,
        account_id: str | None,
        invoice_ids: Sequence[str],
        marker: ChangePart,
    ) -> EventOutcome:
        """A SEPA debit presented: the invoices become payment pending (dunning pauses) until it settles or fails."""
        now = self.clock.now()
        parts: list[ChangePart] = [marker]
        if charge is not None:
            if not moves_forward(charge.status, ChargeStatus.PROCESSING):
                self.store.commit(parts)
                return EventOutcome.IGNORED
            parts.append(self.store.charge_part(charge.moved(ChargeStatus.PROCESSING, now)))
        method = event.method or (charge.method if charge else PaymentMethod.SEPA)
        assert account_id is not None
        pending = [
            i
            for i in (self.invoices.store.invoice(account_id, invoice_id) for invoice_id in invoice_ids)
            if i is not None and i.is_unpaid and i.status is not InvoiceStatus.PAYMENT_PENDING
        ]
        if not pending:
            self.store.commit(parts)
            return EventOutcome.PENDING
        for position, invoice in enumerate(pending):
            last = position == len(pending) - 1
            instructions = dict(invoice.instructions)
            self.invoices.mark_payment_pending(
                account_id, invoice.invoice_id, method, instructions, extra=parts if last else ()
            )
        return EventOutcome.PENDING

    def _failed(
        self,
        event: ProviderEvent,
        charge: Charge | None,
        account_id: str | None,
        invoice_ids: Sequence[str],
        marker: ChangePart,
    ) -> EventOutcome:
        now = self.clock.now()
        parts: list[ChangePart] = [marker]
        if charge is not None:
            if not moves_forward(charge.status, ChargeStatus.FAILED):
                self.store.commit(parts)
                return EventOutcome.IGNORED
            failed = charge.moved(ChargeStatus.FAILED, now, failure=event.reason or "failed")
            parts.append(self.store.charge_part(failed))
            if failed.origin is ChargeOrigin.AUTOCHARGE or failed.method is PaymentMethod.SEPA:
                parts.append(self.store.event_part(self._failed_event(failed)))
        assert account_id is not None
        pending = [
            invoice_id
            for invoice_id in invoice_ids
            if (found := self.invoices.store.invoice(account_id, invoice_id)) is not None
            and found.status is InvoiceStatus.PAYMENT_PENDING
        ]
        if not pending:
            self.store.commit(parts)
            return EventOutcome.FAILED
        for position, invoice_id in enumerate(pending):
            last = position == len(pending) - 1
            self.invoices.release_pending(account_id, invoice_id, extra=parts if last else ())
        return EventOutcome.FAILED

    def _failed_event(self, charge: Charge) -> DomainEvent:
        """``payment.failed``: the "payment failed" email, with a link to pay the invoice another way."""
        first = charge.invoice_ids[0]
        return DomainEvent(
            event_id=f"{charge.charge_id}-failed",
            type="payment.failed",
            occurred_at=self.clock.now(),
            account_id=charge.account_id,
            data={
                "payment_id": charge.charge_id,
                "invoice_id": first,
                "invoice_ids": list(charge.invoice_ids),
                "method": charge.method.value,
                "amount": charge.amount.to_json(),
                "attempt": charge.attempt,
                "pay_url": f"{self.public_base_url}/invoices/{first}/pay",
                "automatic": charge.origin is ChargeOrigin.AUTOCHARGE,
            },
        )

    def _failed_notice(self, charge: Charge) -> None:
        if charge.origin is ChargeOrigin.AUTOCHARGE or charge.method is PaymentMethod.SEPA:
            self.store.commit([self.store.event_part(self._failed_event(charge))])

    # --- reversals -------------------------------------------------------------------------------------------------
    def _reverse_event(
        self, event: ProviderEvent, charge: Charge, status: ChargeStatus, marker: ChangePart
    ) -> EventOutcome:
        received = charge.amount_received or charge.amount
        reversed_before = self._reversed_total(charge, event.provider)
        if event.kind is EventKind.REFUNDED and event.amount is not None:
            wanted = event.amount - reversed_before  # Stripe sends the total refunded so far
        elif event.amount is not None:
            wanted = min(event.amount, received.amount - reversed_before)
        else:
            wanted = received.amount - reversed_before
        parts: list[ChangePart] = [marker]
        now = self.clock.now()
        if wanted <= 0:
            stored = self.store.charge(charge.account_id, charge.charge_id)
            if stored is not None and moves_forward(stored.status, status) and reversed_before >= received.amount:
                parts.append(self.store.charge_part(stored.moved(status, now)))
            self.store.commit(parts)
            return EventOutcome.IGNORED
        reason = event.reason or event.kind.value
        self.reverse(charge, Money(wanted, received.currency), status, reason, event.provider, parts)
        return EventOutcome.REVERSED

    def _reversed_total(self, charge: Charge, source: str) -> int:
        total = 0
        for payment in self._payments_of(charge, source):
            total += self.store.reversed_amount(payment.account_id, payment.payment_id)
        return total

    def _payments_of(self, charge: Charge, source: str) -> list[ReceivedPayment]:
        if not charge.provider_ref:
            return []
        refs = (
            [charge.provider_ref]
            if len(charge.invoice_ids) == 1
            else [f"{charge.provider_ref}#{invoice_id}" for invoice_id in charge.invoice_ids]
        )
        found = [self.invoices.store.payment_by_reference(source, ref) for ref in refs]
        return [payment for payment in found if payment is not None]

    def reverse(
        self,
        charge: Charge,
        amount: Money,
        status: ChargeStatus,
        reason: str,
        source: str,
        final: Sequence[ChangePart] = (),
        actor: str = "system:payments",
    ) -> list[Invoice]:
        """Reverse ``amount`` of a settled charge (API.md's one backward move): for each of its payments, newest
        invoice first, the credit it made is taken back first (never below zero), the rest is due again on the
        invoice, which returns to issued or partially paid (audited; ``invoice.payment_reversed`` restarts dunning).
        What neither can take back is flagged for staff."""
        payments = list(reversed(self._payments_of(charge, source)))
        remaining = amount.amount
        touched: list[Invoice] = []
        now = self.clock.now()
        for position, payment in enumerate(payments):
            last = position == len(payments) - 1
            parts = list(final) if last else []
            wanted = remaining

            def attempt(
                payment: ReceivedPayment = payment, wanted: int = wanted, parts: list[ChangePart] = parts
            ) -> tuple[Invoice, int]:
                return self._reverse_payment(payment, wanted, status, reason, parts, actor)

            invoice, taken = self._retrying(attempt)
            touched.append(invoice)
            remaining -= taken
        if not payments:
            self.store.commit(list(final))
        charge_now = self.store.charge(charge.account_id, charge.charge_id)
        if charge_now is not None and moves_forward(charge_now.status, status):
            reversed_total = self._reversed_total(charge_now, source)
            moved = charge_now.moved(status, now, amount_reversed=Money(reversed_total, amount.currency))
            self.store.commit([self.store.charge_part(moved)])
        return touched

    def _reverse_payment(
        self,
        payment: ReceivedPayment,
        wanted: int,
        status: ChargeStatus,
        reason: str,
        parts: list[ChangePart],
        actor: str,
    ) -> tuple[Invoice, int]:
        now = self.clock.now()
        currency = payment.amount.currency
        already = self.store.reversed_amount(payment.account_id, payment.payment_id)
        take = max(0, min(payment.amount.amount - already, wanted))
        invoice = self.invoices.invoice(payment.account_id, payment.invoice_id, include_drafts=True)
        if take == 0:
            if parts:
                self.store.commit(parts)
            return invoice, 0
        credited = payment.credited.amount
        if invoice.kind is InvoiceKind.ADD_FUNDS:
            credited = payment.amount.amount  # the funds themselves became credit
        credit_left = max(0, credited - min(already, credited))
        credit_share = min(take, credit_left)
        invoice_share = take - credit_share
        balance = self.invoices.store.credit(payment.account_id)
        available = balance.amount_in(currency).amount if balance is not None else 0
        from_credit = min(credit_share, available)
        owed = invoice_share + (credit_share - from_credit)
        change = BillingChange()
        after = invoice
        if owed > 0 and invoice.status not in (InvoiceStatus.CANCELLED, InvoiceStatus.REFUNDED, InvoiceStatus.DRAFT):
            after = invoice.reverse(
                AppliedPayment(payment.payment_id, Money(owed, currency), payment.method, REVERSAL_SOURCE, now), now
            )
        if after != invoice:
            change.invoices.append(InvoiceWrite(after, invoice))
        uncovered = owed - (invoice.amount_paid - after.amount_paid).amount
        if from_credit > 0:
            change.credit.append(
                CreditEntry(
                    new_ulid(),
                    payment.account_id,
                    CreditKind.REVERSAL,
                    Money(-from_credit, currency),
                    now,
                    payment.invoice_id,
                    payment.payment_id,
                    reason,
                )
            )
        total_reversed = already + take
        payment_status = status.value if total_reversed > 0 else payment.status
        change.extra.append(
            self.store.reversal_part(payment.account_id, payment.payment_id, total_reversed, payment_status)
        )
        change.events.append(
            new_event(
                "invoice.payment_reversed",
                now,
                account_id=payment.account_id,
                invoice_id=payment.invoice_id,
                number=after.number,
                payment_id=payment.payment_id,
                status=status.value,
                amount=Money(take, currency).to_json(),
                from_credit=Money(from_credit, currency).to_json(),
                amount_due=after.amount_due.to_json(),
                invoice_status=after.status.value,
                due_date=after.due_date.isoformat(),
                reason=reason,
            )
        )
        change.extra.append(
            self.store.audit_part(
                AuditEntry(
                    audit_id=new_ulid(),
                    at=now,
                    actor_user_id=actor,
                    actor_email=None,
                    account_id=payment.account_id,
                    action=f"payment.{status.value}",
                    target={
                        "invoice_id": payment.invoice_id,
                        "payment_id": payment.payment_id,
                        "amount": str(take),
                        "from_credit": str(from_credit),
                        "invoice_status": after.status.value,
                    },
                    staff=actor.startswith("staff:"),
                )
            )
        )
        if uncovered > 0:
            change.extra.append(
                self.store.flag_part(
                    PaymentFlag(
                        flag_id=f"{payment.source}:{payment.provider_ref}:{FlagKind.REVERSAL_UNCOVERED.value}:{take}",
                        kind=FlagKind.REVERSAL_UNCOVERED,
                        at=now,
                        provider=payment.source,
                        provider_ref=payment.provider_ref,
                        account_id=payment.account_id,
                        invoice_id=payment.invoice_id,
                        amount=Money(uncovered, currency),
                        note=reason,
                    )
                )
            )
        change.extra.extend(parts)
        self.invoices.store.commit(change)
        return after, take

    def _retrying(self, attempt: Callable[[], T]) -> T:
        retried = (InvoiceChangedError, InvoiceNumberTakenError, InsufficientCreditError)
        for number in range(MAX_ATTEMPTS):
            try:
                return attempt()
            except retried:
                if number == MAX_ATTEMPTS - 1:
                    raise
                _pause(number)
        raise AssertionError("unreachable")

    # --- staff refunds ------------------------------------------------------------------------------------------
    def refund(
        self, invoice_id: str, payment_id: str, amount: Money | None, reason: str, staff_id: str, request_key: str
    ) -> Refund:
        """A staff refund through the provider (Idempotency-Key required at the edge): the provider refunds first
        (its idempotency key derives from the charge and the request's key, so a retried request refunds once),
        then the reversal is recorded — the provider's own ``charge.refunded`` event later changes nothing."""
        account_id = self.invoices.store.locate(invoice_id)
        if account_id is None:
            raise NotFoundError()
        payment = self.store.payment(account_id, payment_id)
        if payment is None or payment.invoice_id != invoice_id:
            raise NotFoundError()
        charge = None
        if payment.source in {p.value for p in Provider} and payment.source != Provider.CREDIT.value:
            reference = payment.provider_ref.split("#", 1)[0]
            charge = self.store.charge_for(payment.source, reference) or self._charge_from_payments(
                ProviderEvent(provider=payment.source, event_id="", kind=EventKind.REFUNDED, provider_ref=reference)
            )
        if charge is None:
            raise PaymentMethodUnavailableError.single(
                "payment_id", N_("This payment was not made through a provider and cannot be refunded here.")
            )
        already = self._reversed_total(charge, payment.source)
        received = (charge.amount_received or charge.amount).amount
        refundable = received - already
        wanted = amount.amount if amount is not None else refundable
        if wanted <= 0 or wanted > refundable:
            raise PaymentMethodUnavailableError.single(
                "amount.amount",
                N_("The refund must be more than zero and at most what is left of the payment."),
                "too_large",
            )
        currency = charge.amount.currency
        provider = self.providers.for_provider(charge.provider)
        key = f"balcao:refund:{charge.charge_id}:{request_key}"[:255]
        refund_id = provider.refund(charge, Money(wanted, currency), key)
        touched = self.reverse(
            charge, Money(wanted, currency), ChargeStatus.REFUNDED, reason, payment.source, actor=f"staff:{staff_id}"
        )
        current = self.store.charge(charge.account_id, charge.charge_id) or charge
        return Refund(refund_id, current, Money(wanted, currency), touched)

    # --- saved methods --------------------------------------------------------------------------------------------
    def payer(self, account_id: str) -> Payer:
        buyer = self.invoices.store.buyer(account_id)
        if buyer is None:
            raise NotFoundError()
        return payer_from(buyer)

    def invoice_to_pay(self, account_id: str, invoice_id: str) -> tuple[Invoice, Money]:
        """An invoice (no drafts) and the account's credit in its currency, in one read (the pay page)."""
        invoice, balance = self.store.invoice_with_credit(account_id, invoice_id)
        if invoice is None or invoice.status is InvoiceStatus.DRAFT:
            raise NotFoundError()
        credit = balance.amount_in(invoice.currency) if balance is not None else Money.zero(invoice.currency)
        return invoice, credit

    def charge(self, account_id: str, charge_id: str) -> Charge:
        found = self.store.charge(account_id, charge_id)
        if found is None:
            raise NotFoundError()
        return found

    def flags(self, limit: int, cursor: str | None) -> tuple[list[PaymentFlag], str | None]:
        return self.store.flags(limit, cursor)

    def methods(self, account_id: str) -> list[SavedMethod]:
        return sorted(self.store.methods(account_id), key=lambda m: (not m.is_default, m.created_at))

    def method_and_services(self, account_id: str, method_id: str) -> tuple[SavedMethod, list[PayableService]]:
        """A saved method and the services it may pay by default (the account's, up to ``SERVICES_TO_CHOOSE``)."""
        method, services = self.store.method_with_services(account_id, method_id, SERVICES_TO_CHOOSE)
        if method is None:
            raise SavedMethodNotFoundError()
        return method, services

    def add_method(self, account_id: str, new: NewMethod, payer: Payer, make_default: bool = False) -> SavedMethod:
        vault = self.providers.vault()
        if new.kind is SavedMethodKind.SEPA and not new.iban:
            raise SavedMethodInvalidError.single("iban", N_("Give the IBAN of the account to debit."), "required")
        if new.kind is SavedMethodKind.CARD and not new.provider_ref:
            raise SavedMethodInvalidError.single(
                "provider_payment_method", N_("Enter the card in the payment form first."), "required"
            )
        customer = self._customer(account_id, payer)
        vaulted = vault.save(customer, new, payer)
        existing = self.store.methods(account_id)
        method = SavedMethod(
            method_id=new_ulid(),
            account_id=account_id,
            kind=new.kind,
            provider=vault.provider,
            provider_ref=vaulted.provider_ref,
            created_at=self.clock.now(),
            customer_ref=customer,
            brand=vaulted.brand,
            last4=vaulted.last4,
            exp_month=vaulted.exp_month,
            exp_year=vaulted.exp_year,
            mandate_reference=vaulted.mandate_reference,
            mandate_status=vaulted.mandate_status,
            is_default=make_default or not existing,
        )
        if method.is_default:
            for other in existing:
                if other.is_default:
                    self.store.save_method(replace(other, is_default=False))
        self.store.save_method(method)
        return method

    def update_method(
        self, account_id: str, method_id: str, make_default: bool | None, services: Sequence[str] | None
    ) -> SavedMethod:
        methods = self.store.methods(account_id)
        method = next((m for m in methods if m.method_id == method_id), None)
        if method is None:
            raise SavedMethodNotFoundError()
        changed = method
        if make_default is not None:
            changed = replace(changed, is_default=make_default)
            if make_default:
                for other in methods:
                    if other.method_id != method_id and other.is_default:
                        self.store.save_method(replace(other, is_default=False))
        if services is not None:
            wanted = tuple(dict.fromkeys(services))
            known = set(self.services.existing(account_id, wanted)) if self.services and wanted else set()
            if set(wanted) - known:
                raise SavedMethodInvalidError.single("service_ids", N_("Choose among the services of this account."))
            changed = replace(changed, services=wanted)
            for other in methods:
                if other.method_id != method_id and set(other.services) & set(wanted):
                    kept = tuple(s for s in other.services if s not in wanted)
                    self.store.save_method(replace(other, services=kept))
        self.store.save_method(changed)
        return changed

    def remove_method(self, account_id: str, method_id: str) -> None:
        method = next((m for m in self.store.methods(account_id) if m.method_id == method_id), None)
        if method is None:
            raise SavedMethodNotFoundError()
        try:
            self.providers.vault().remove(method)
        except PaymentMethodUnavailableError:
            logger.warning("saved method removed locally only", extra={"method_id": method_id})
        self.store.delete_method(method)

    # --- cancelling ------------------------------------------------------------------------------------------------
    def cancel_open_charges(self, invoice: Invoice) -> int:
        """Before an invoice is cancelled: its open provider charges (PIX codes, boletos, unconfirmed intents) are
        cancelled at the provider. A provider that cannot be reached stops the cancellation (retried later)."""
        cancelled = 0
        now = self.clock.now()
        for charge in self.store.charges_of(invoice.account_id, invoice.invoice_id):
            if charge.status is not ChargeStatus.PENDING or charge.provider is Provider.CREDIT:
                continue
            self.providers.for_provider(charge.provider).cancel(charge)
            self.store.commit([self.store.charge_part(charge.moved(ChargeStatus.CANCELLED, now))])
            cancelled += 1
        return cancelled

    # --- after payment ---------------------------------------------------------------------------------------------
    def unsuspend_after_payment(self, account_id: str, invoice_id: str) -> list[str]:
        """Services suspended for ``overdue`` whose invoice was paid are unsuspended — unless another unpaid
        invoice of the service has reached its suspension day (and is not paused by a payment in flight)."""
        if self.services is None:
            return []
        invoice = self.invoices.store.invoice(account_id, invoice_id)
        if invoice is None or invoice.status is not InvoiceStatus.PAID:
            return []
        service_ids = sorted({line.service_id for line in invoice.lines if line.service_id})
        if not service_ids:
            return []
        suspended = self.services.suspended_for_overdue(account_id, service_ids)
        if not suspended:
            return []
        today = self.today()
        open_invoices = self.invoices.page(account_id, "unpaid", 100, None).items
        lifted: list[str] = []
        for service_id in suspended:
            if any(self._blocks(other, service_id, invoice_id, today) for other in open_invoices):
                continue
            self.services.unsuspend(account_id, service_id)
            lifted.append(service_id)
        return lifted

    def _blocks(self, other: Invoice, service_id: str, paid_id: str, today: date) -> bool:
        if other.invoice_id == paid_id or other.status not in UNPAID_STATUSES:
            return False
        if other.status is InvoiceStatus.PAYMENT_PENDING:
            return False
        if other.suspension_paused_until is not None and other.suspension_paused_until >= today:
            return False
        if service_id not in {line.service_id for line in other.lines}:
            return False
        suspension = self.suspension_day(other)
        return suspension is not None and suspension <= today

    # --- jobs --------------------------------------------------------------------------------------------------
    def autocharge(self) -> dict[str, int]:
        """Job ``autocharge`` (daily): invoices of services with a saved method are charged off-session
        ``days_before`` the due date, then retried (default +3 and +5 days); each attempt once (a guard)."""
        counts = {"charged": 0, "pending": 0, "failed": 0, "skipped": 0, "errors": 0}
        schedule = self.settings.schedule()
        today = self.today()
        start, end = schedule.window(today)
        methods_by_account: dict[str, list[SavedMethod]] = {}
        for invoice in self.store.open_invoices_due_between(start, end):
            if invoice.status is InvoiceStatus.PAYMENT_PENDING or invoice.kind is InvoiceKind.ADD_FUNDS:
                counts["skipped"] += 1
                continue
            attempt = schedule.attempt_due(invoice.due_date, today)
            if attempt is None:
                counts["skipped"] += 1
                continue
            if invoice.account_id not in methods_by_account:
                methods_by_account[invoice.account_id] = self.store.methods(invoice.account_id)
            services = [line.service_id for line in invoice.lines if line.service_id]
            method = method_for(methods_by_account[invoice.account_id], services, invoice.currency, today)
            if method is None or (not services and not method.is_default):
                counts["skipped"] += 1
                continue
            if not self.store.claim_autocharge(invoice.invoice_id, attempt, self.clock.now()):
                counts["skipped"] += 1
                continue
            try:
                result = self.pay(
                    invoice.account_id,
                    [invoice.invoice_id],
                    method.payment_method,
                    saved_method_id=method.method_id,
                    origin=ChargeOrigin.AUTOCHARGE,
                    attempt=attempt + 1,
                )
            except (BalcaoError, ProviderUnavailableError):
                logger.exception("autocharge failed", extra={"invoice_id": invoice.invoice_id})
                counts["errors"] += 1
                continue
            status = result.charge.status
            if status is ChargeStatus.SUCCEEDED:
                counts["charged"] += 1
            elif status is ChargeStatus.FAILED:
                counts["failed"] += 1
            else:
                counts["pending"] += 1
        return counts

    def card_expiry(self) -> dict[str, int]:
        """Job ``card_expiry`` (monthly): a notice for each saved card expiring this month, once per card and month."""
        counts = {"notified": 0}
        if not self.settings.card_expiry_notices:
            return counts
        today = self.today()
        month = expiry_month(today)
        # The event's id and time are fixed per card and month: a second run writes the same outbox item (refused).
        announced_at = start_of_local_day(date(today.year, today.month, 1), self.timezone)
        parts: list[ChangePart] = []
        for card in self.store.cards_expiring(month):
            event = DomainEvent(
                event_id=f"{card.method_id}-expiring-{month}",
                type="payment_method.expiring",
                occurred_at=announced_at,
                account_id=card.account_id,
                data={
                    "method_id": card.method_id,
                    "brand": card.brand,
                    "last4": card.last4,
                    "exp_month": card.exp_month,
                    "exp_year": card.exp_year,
                    "methods_url": f"{self.public_base_url}/payment-methods",
                },
            )
            parts = [self.store.event_part(event)]
            try:
                self.store.commit(parts)
            except BalcaoError:
                continue  # announced already this month
            counts["notified"] += 1
        return counts


def _check_method_currency(method: PaymentMethod, currency: Currency) -> None:
    if method in (PaymentMethod.PIX, PaymentMethod.BOLETO) and currency is not Currency.BRL:
        raise PaymentMethodUnavailableError.single(
            "method", N_("PIX and boleto are only available for invoices in reais.")
        )
    if method is PaymentMethod.SEPA and currency is not Currency.EUR:
        raise PaymentMethodUnavailableError.single(
            "method", N_("SEPA Direct Debit is only available for invoices in euros.")
        )


def _instructions(charge: Charge, public_base_url: str) -> dict[str, str]:
    """What the invoice's PDF prints for this charge (``PaymentInstructions`` fields)."""
    details = charge.details
    found: dict[str, str] = {"pay_url": f"{public_base_url}/invoices/{charge.invoice_ids[0]}/pay"}
    if charge.method is PaymentMethod.PIX and details.get("copy_paste"):
        found["pix_copy_paste"] = details["copy_paste"]
    if charge.method is PaymentMethod.BOLETO and details.get("digitable_line"):
        found["boleto_digitable_line"] = details["digitable_line"]
        if details.get("due_date"):
            found["boleto_due_date"] = details["due_date"]
    if charge.method is PaymentMethod.SEPA and details.get("mandate_reference"):
        found["sepa_mandate_reference"] = details["mandate_reference"]
        if details.get("creditor_identifier"):
            found["sepa_creditor_identifier"] = details["creditor_identifier"]
    return found
