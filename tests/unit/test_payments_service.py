"""The payments use-cases with in-memory fakes: a provider's PIX code or boleto line that breaks its rules is never
shown (refused, flagged, cancelled at the provider); a valid one is printed on the invoice; and after payment, a
service suspended for ``overdue`` is unsuspended only when no other invoice of it has reached its suspension day."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from balcao.adapters.payments.mercadopago import MercadoPagoProvider
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.invoices import Buyer, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, NumberAt, TaxPolicy
from balcao.domain.money import Currency, Money
from balcao.domain.payments.charges import (
    Provider,
    ProviderAnswerInvalidError,
    SavedMethod,
    SavedMethodInvalidError,
    SavedMethodKind,
)
from balcao.services.payment_settings import PaymentSettings
from balcao.services.payments import FlagKind, Payments
from support.clocks import FixedClock
from support.payments import ReplayTransport

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
BUYER = Buyer("ACC", "Ana Souza", "ana@example.com", "pt-BR", "BR", "CPF 529.982.247-25", currency=Currency.BRL)


def invoice(invoice_id: str, due: date, *, service_id: str | None = None, amount: int = 4990) -> Invoice:
    line = InvoiceLine(
        "Hospedagem",
        1,
        Money.of(amount, "BRL"),
        service_id=service_id,
        period_start=due,
        period_end=due + timedelta(days=30),
    )
    draft = Invoice.draft(
        invoice_id=invoice_id,
        account_id="ACC",
        kind=InvoiceKind.RENEWAL,
        currency=Currency.BRL,
        language="pt-BR",
        lines=[line],
        due_date=due,
        created_at=NOW,
    )
    return draft.issue(at=NOW, issue_date=due, buyer=BUYER, taxes=TaxPolicy(), number_at=NumberAt.ISSUE)


@dataclass
class Page:
    items: list[Invoice]


@dataclass
class FakeInvoiceStore:
    invoices: dict[str, Invoice]

    def invoice(self, account_id: str, invoice_id: str) -> Invoice | None:
        return self.invoices.get(invoice_id)

    def credit(self, account_id: str) -> None:
        return None


@dataclass
class FakeInvoices:
    """What the payments use-cases ask of the invoices' use-cases."""

    store: FakeInvoiceStore
    recorded: list[tuple[str, dict[str, str], date | None]] = field(default_factory=list)

    def invoice(self, account_id: str, invoice_id: str, include_drafts: bool = False) -> Invoice:
        return self.store.invoices[invoice_id]

    def page(self, account_id: str, status: str | None, limit: int, cursor: str | None) -> Page:
        return Page([i for i in self.store.invoices.values() if i.is_unpaid])

    def record_charge(self, account_id, invoice_id, method, instructions, pause_until=None, extra=()) -> Invoice:
        self.recorded.append((invoice_id, dict(instructions), pause_until))
        updated = self.store.invoices[invoice_id].record_charge(method, instructions, pause_until)
        self.store.invoices[invoice_id] = updated
        return updated


@dataclass
class FakePaymentStore:
    charges: list[Any] = field(default_factory=list)
    flags: list[Any] = field(default_factory=list)

    def charges_of(self, account_id: str, invoice_id: str) -> list[Any]:
        return []

    def methods(self, account_id: str) -> list[Any]:
        return []

    def add_charge(self, charge: Any) -> None:
        self.charges.append(charge)

    def flag_part(self, flag: Any) -> Any:
        return ("flag", flag)

    def commit(self, parts: list[Any]) -> None:
        self.flags += [part[1] for part in parts if part[0] == "flag"]


@dataclass
class FakeProviders:
    provider: Any

    def for_method(self, method: PaymentMethod) -> Any:
        return self.provider

    def for_provider(self, provider: Any) -> Any:
        return self.provider


@dataclass
class FakeServices:
    """The services capability's port: which services are suspended for overdue, and unsuspension."""

    suspended: set[str]
    lifted: list[str] = field(default_factory=list)
    known: set[str] = field(default_factory=set)

    def suspended_for_overdue(self, account_id: str, service_ids: list[str]) -> list[str]:
        return [s for s in service_ids if s in self.suspended]

    def unsuspend(self, account_id: str, service_id: str) -> None:
        self.lifted.append(service_id)
        self.suspended.discard(service_id)

    def existing(self, account_id: str, service_ids: list[str]) -> list[str]:
        return [s for s in service_ids if s in self.known]


def payments(invoices: dict[str, Invoice], provider: Any = None, services: FakeServices | None = None) -> Payments:
    return Payments(
        store=FakePaymentStore(),  # type: ignore[arg-type]
        invoices=FakeInvoices(FakeInvoiceStore(invoices)),  # type: ignore[arg-type]
        providers=FakeProviders(provider),  # type: ignore[arg-type]
        clock=FixedClock(NOW),
        settings=PaymentSettings(),
        timezone="America/Sao_Paulo",
        public_base_url="https://central.example.com",
        services=services,
        suspension_after_days=7,
    )


# --- what a provider gives us is checked before it is shown ---------------------------------------------------------
def test_a_malformed_pix_code_from_the_provider_is_refused_flagged_and_cancelled():
    # Given Mercado Pago answers a PIX code whose TLV lengths are wrong (vector N1: the CRC itself is right)
    transport = (
        ReplayTransport()
        .on("POST", "/v1/payments", "mercadopago/payment_pix_malformed.json", status=201)
        .on("PUT", "/v1/payments/155287493022", "mercadopago/cancelled.json")
    )
    service = payments({"I1": invoice("I1", date(2026, 11, 30))}, MercadoPagoProvider("APP_USR-test", transport))
    # When the customer asks for PIX
    with pytest.raises(ProviderAnswerInvalidError):
        service.pay("ACC", ["I1"], PaymentMethod.PIX)
    # Then nothing is stored or printed, staff get a flag, and the charge is cancelled at the provider
    assert service.store.charges == [] and service.invoices.recorded == []
    assert [f.kind for f in service.store.flags] == [FlagKind.PROVIDER_ANSWER]
    assert transport.sent[-1].method == "PUT" and transport.sent[-1].json == {"status": "cancelled"}


def test_a_valid_pix_code_is_stored_and_printed_on_the_invoice():
    transport = ReplayTransport().on("POST", "/v1/payments", "mercadopago/payment_pix_created.json", status=201)
    service = payments({"I1": invoice("I1", date(2026, 11, 30))}, MercadoPagoProvider("APP_USR-test", transport))
    result = service.pay("ACC", ["I1"], PaymentMethod.PIX)
    assert result.charge.details["txid"].startswith("E182")
    [(invoice_id, instructions, pause)] = service.invoices.recorded
    assert invoice_id == "I1" and instructions["pix_copy_paste"].startswith("000201") and pause is None


def test_a_boleto_whose_line_does_not_match_the_amount_is_refused():
    # Given a recorded boleto of R$ 100,00 and an invoice of R$ 49,90 (the provider answered another payment)
    transport = (
        ReplayTransport()
        .on("POST", "/v1/payments", "mercadopago/payment_boleto_created.json", status=201)
        .on("PUT", "/v1/payments/155287493100", "mercadopago/cancelled.json")
    )
    service = payments({"I1": invoice("I1", date(2026, 11, 22))}, MercadoPagoProvider("APP_USR-test", transport))
    with pytest.raises(ProviderAnswerInvalidError):
        service.pay("ACC", ["I1"], PaymentMethod.BOLETO)


def test_a_boleto_due_before_the_suspension_day_pauses_it_for_three_business_days():
    # Given an invoice of R$ 100,00 due on the 22nd (suspension on the 29th) and a boleto due on the 25th
    transport = ReplayTransport().on("POST", "/v1/payments", "mercadopago/payment_boleto_created.json", status=201)
    service = payments(
        {"I1": invoice("I1", date(2026, 11, 22), amount=10000)}, MercadoPagoProvider("APP_USR-test", transport)
    )
    # When the boleto is issued
    service.pay("ACC", ["I1"], PaymentMethod.BOLETO)
    # Then the invoice prints its line and pauses suspension until Monday the 30th
    [(_, instructions, pause)] = service.invoices.recorded
    assert instructions["boleto_due_date"] == "2026-11-25" and pause == date(2026, 11, 30)
    assert service.invoices.store.invoices["I1"].suspension_paused_until == date(2026, 11, 30)


# --- after payment ---------------------------------------------------------------------------------------------------
def paid(found: Invoice) -> Invoice:
    return replace(found, status=InvoiceStatus.PAID, amount_paid=found.total, paid_at=NOW)


def test_paying_the_overdue_invoice_unsuspends_its_service():
    # Given service S1 suspended for overdue and its invoice now paid
    services = FakeServices({"S1"})
    service = payments({"I1": paid(invoice("I1", date(2026, 11, 1), service_id="S1"))}, services=services)
    # When the payment's consequences run
    lifted = service.unsuspend_after_payment("ACC", "I1")
    # Then S1 is unsuspended
    assert lifted == ["S1"] and services.lifted == ["S1"]


def test_another_invoice_of_the_service_past_its_suspension_day_keeps_it_suspended():
    # Given S1 suspended, one invoice paid and another still unpaid, due on the 10th (suspension day the 17th)
    services = FakeServices({"S1"})
    service = payments(
        {
            "I1": paid(invoice("I1", date(2026, 11, 1), service_id="S1")),
            "I2": invoice("I2", date(2026, 11, 10), service_id="S1"),
        },
        services=services,
    )
    # When the first payment's consequences run, then the service stays suspended
    assert service.unsuspend_after_payment("ACC", "I1") == [] and services.lifted == []


def test_an_unpaid_invoice_not_yet_at_its_suspension_day_or_paused_by_a_boleto_does_not_block():
    services = FakeServices({"S1", "S2"})
    recent = invoice("I2", date(2026, 11, 20), service_id="S1")  # suspension day: the 27th
    paused = replace(invoice("I3", date(2026, 11, 10), service_id="S2"), suspension_paused_until=date(2026, 11, 24))
    service = payments(
        {
            "I1": paid(
                replace(
                    invoice("I1", date(2026, 11, 1), service_id="S1"),
                    lines=(
                        *invoice("I1", date(2026, 11, 1), service_id="S1").lines,
                        *invoice("I1", date(2026, 11, 1), service_id="S2").lines,
                    ),
                )
            ),
            "I2": recent,
            "I3": paused,
        },
        services=services,
    )
    assert sorted(service.unsuspend_after_payment("ACC", "I1")) == ["S1", "S2"]


def test_abuse_suspensions_are_not_the_payments_business():
    # Given the services capability says S1 is not suspended for overdue (an abuse suspension)
    services = FakeServices(set())
    service = payments({"I1": paid(invoice("I1", date(2026, 11, 1), service_id="S1"))}, services=services)
    assert service.unsuspend_after_payment("ACC", "I1") == []


# --- the services a saved method pays by default ---------------------------------------------------------------------
@dataclass
class MethodsStore(FakePaymentStore):
    saved: dict[str, SavedMethod] = field(default_factory=dict)

    def methods(self, account_id: str) -> list[Any]:
        return [m for m in self.saved.values() if m.account_id == account_id]

    def save_method(self, method: SavedMethod) -> None:
        self.saved[method.method_id] = method


def saved(method_id: str, services: tuple[str, ...] = ()) -> SavedMethod:
    return SavedMethod(
        method_id, "ACC", SavedMethodKind.CARD, Provider.SANDBOX, f"pm_{method_id}", NOW, services=services
    )


def test_a_method_pays_only_services_of_its_account_and_takes_them_from_the_other_method():
    # Given two saved cards, the first paying S1, and an account whose services are S1 and S2
    store = MethodsStore(saved={"M1": saved("M1", ("S1",)), "M2": saved("M2")})
    service = replace(payments({}, services=FakeServices(set(), known={"S1", "S2"})), store=store)
    # When the second card is chosen for S1 and S2
    changed = service.update_method("ACC", "M2", None, ["S1", "S2", "S1"])
    # Then it pays both (once each) and the first card no longer pays S1
    assert changed.services == ("S1", "S2") and store.saved["M2"].services == ("S1", "S2")
    assert store.saved["M1"].services == ()
    # When a service that is not the account's is chosen, then it is refused on the field and nothing changes
    with pytest.raises(SavedMethodInvalidError) as refused:
        service.update_method("ACC", "M1", None, ["S1", "ANOTHER-ACCOUNTS"])
    assert [f.field for f in refused.value.fields] == ["service_ids"]
    assert store.saved["M1"].services == () and store.saved["M2"].services == ("S1", "S2")
    # And choosing none leaves the method to the account's default
    assert service.update_method("ACC", "M2", None, []).services == ()
