"""The invoice domain: money first (totals, rounding per currency, payments and credit notes), then the status
machine, overdue, the summary and late fees."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from balcao.domain.errors import CurrencyMismatchError
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.invoices import (
    AppliedPayment,
    Buyer,
    CreditNoteExceedsInvoiceError,
    CreditNoteRef,
    EmptyInvoiceError,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceLineInvalidError,
    InvoiceNotCreditableError,
    InvoiceNotDraftError,
    InvoiceNotOpenError,
    InvoiceStatus,
    LateFeeMode,
    LateFeePolicy,
    NumberAt,
    PaymentCurrencyMismatchError,
    PaymentMethodNotAvailableError,
    TaxPolicy,
    TaxRule,
    compute_totals,
    credit_note_lines,
    late_fee_amount,
    summary_delta,
)
from balcao.domain.money import Currency, Money

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 22)
SPAIN = TaxPolicy((TaxRule("ES", "*", "IVA", Decimal(21)), TaxRule("BR", "hosting", "ISS", Decimal(5))))


def brl(amount: int) -> Money:
    return Money.of(amount, Currency.BRL)


def eur(amount: int) -> Money:
    return Money.of(amount, Currency.EUR)


def buyer(country: str = "BR", *, consumer: bool = True, language: str = "pt-BR") -> Buyer:
    return Buyer("ACC", "João Araújo", "joao@example.com", language, country, consumer=consumer)


def draft(*lines: InvoiceLine, currency: Currency = Currency.BRL, kind: InvoiceKind = InvoiceKind.MANUAL) -> Invoice:
    return Invoice.draft(
        invoice_id="INV1",
        account_id="ACC",
        kind=kind,
        currency=currency,
        language="pt-BR",
        lines=lines or (InvoiceLine("Hospedagem", 1, brl(10000), "hosting"),),
        due_date=date(2026, 12, 1),
        created_at=NOW,
    )


def issued(*lines: InvoiceLine, country: str = "BR", currency: Currency = Currency.BRL, **buyer_options) -> Invoice:
    return draft(*lines, currency=currency).issue(
        at=NOW, issue_date=TODAY, buyer=buyer(country, **buyer_options), taxes=SPAIN, number_at=NumberAt.ISSUE
    )


def payment(amount: Money, payment_id: str = "P1") -> AppliedPayment:
    return AppliedPayment(payment_id, amount, PaymentMethod.PIX, "staff", NOW)


# --- money: totals and rounding ------------------------------------------------------------------------------------
def test_totals_round_the_tax_once_per_rate_on_the_sum_of_the_lines():
    # Given two lines of 2.52 € at 21 % (DGT V1369-06's case: per-line rounding would give 0.53 + 0.53)
    line = InvoiceLine("Dominio", 1, eur(252), "domain", "IVA", Decimal(21))
    # When the totals are computed
    totals = compute_totals([line, line], Currency.EUR)
    # Then the tax is rounded once on 5.04 € (1.0584 → 1.06) and the total adds up exactly
    assert totals.subtotal == eur(504) and totals.tax == eur(106) and totals.total == eur(610)
    assert [(t.label, t.rate_percent, t.base, t.tax) for t in totals.taxes] == [
        ("IVA", Decimal(21), eur(504), eur(106))
    ]


def test_eur_rounds_half_up_and_brl_half_even():
    # Given a tax base whose exact tax ends in a half cent (12.50 × 5 % = 0.625)
    euro_line = InvoiceLine("x", 1, eur(1250), "c", "IVA", Decimal(5))
    real_line = InvoiceLine("x", 1, brl(1250), "c", "ISS", Decimal(5))
    # When each is totalled in its currency
    # Then euros round half up (0.63) and reais half to even (0.62, ABNT NBR 5891)
    assert compute_totals([euro_line], Currency.EUR).tax == eur(63)
    assert compute_totals([real_line], Currency.BRL).tax == brl(62)


def test_lines_multiply_exactly_and_refuse_bad_quantities_prices_and_currencies():
    # Given lines
    # When they are priced or totalled
    # Then amounts are exact, bad quantities, prices and currencies are refused
    assert InvoiceLine("x", 3, brl(3333)).net == brl(9999)
    with pytest.raises(InvoiceLineInvalidError):
        InvoiceLine("x", 0, brl(100))
    with pytest.raises(InvoiceLineInvalidError):
        InvoiceLine("x", 1, brl(-1))
    with pytest.raises(CurrencyMismatchError):
        compute_totals([InvoiceLine("x", 1, eur(100))], Currency.BRL)


def test_issue_applies_the_buyers_country_taxes_and_copies_the_buyer():
    # Given a draft with a taxed and an untaxed line, priced for Brazil
    hosting = InvoiceLine("Alojamiento", 1, eur(1000), "hosting")
    deposit = InvoiceLine("Saldo", 1, eur(500), None)
    # When it is issued to a Spanish buyer
    invoice = issued(hosting, deposit, country="ES", currency=Currency.EUR, language="es")
    # Then IVA applies to the taxed line only, the buyer is copied and the language is the buyer's
    assert invoice.totals.tax == eur(210) and invoice.total == eur(1710) and invoice.amount_due == eur(1710)
    assert invoice.lines[0].tax_label == "IVA" and invoice.lines[1].tax_label is None
    assert invoice.buyer is not None and invoice.buyer.country == "ES" and invoice.language == "es"
    assert invoice.status is InvoiceStatus.ISSUED and invoice.number is None and invoice.needs_number


def test_brazil_taxes_only_the_categories_configured_for_it():
    # Given ISS on hosting in Brazil
    # When an invoice of hosting and a domain is issued
    invoice = issued(
        InvoiceLine("Hospedagem", 1, brl(10000), "hosting"), InvoiceLine("Domínio", 1, brl(4000), "domain")
    )
    # Then only the hosting line is taxed
    assert invoice.totals.tax == brl(500) and [t.label for t in invoice.totals.taxes] == ["ISS"]


# --- money: payments ---------------------------------------------------------------------------------------------
def test_a_partial_payment_leaves_the_rest_due():
    # Given an issued invoice of R$ 105,00
    # When R$ 50,00 arrive
    invoice = issued()  # R$ 105,00 with ISS
    settled = invoice.settle(payment(brl(5000)), NOW)
    # Then it is partially paid with R$ 55,00 due
    assert settled.applied == brl(5000) and settled.excess == brl(0)
    assert settled.invoice.status is InvoiceStatus.PARTIALLY_PAID and settled.invoice.amount_due == brl(5500)


def test_a_second_partial_payment_keeps_the_invoice_partially_paid():
    # Given an invoice of R$ 105,00 with R$ 50,00 paid
    invoice = issued().settle(payment(brl(5000)), NOW).invoice
    # When R$ 30,00 more arrive
    settled = invoice.settle(payment(brl(3000), "P2"), NOW)
    # Then it is still partially paid with R$ 25,00 due, both payments listed
    assert settled.applied == brl(3000) and settled.excess == brl(0)
    assert settled.invoice.status is InvoiceStatus.PARTIALLY_PAID and settled.invoice.amount_due == brl(2500)
    assert [p.amount for p in settled.invoice.payments] == [brl(5000), brl(3000)]


def test_an_overpayment_pays_the_invoice_and_the_excess_becomes_credit():
    # Given an invoice with R$ 55,00 due
    # When R$ 60,00 arrive
    invoice = issued().settle(payment(brl(5000)), NOW).invoice
    settled = invoice.settle(payment(brl(6000), "P2"), NOW)
    # Then R$ 55,00 pay it and R$ 5,00 are excess
    assert settled.applied == brl(5500) and settled.excess == brl(500)
    assert settled.invoice.status is InvoiceStatus.PAID and settled.invoice.amount_due == brl(0)
    assert [p.amount for p in settled.invoice.payments] == [brl(5000), brl(5500)]
    assert settled.invoice.paid_at == NOW


def test_a_payment_on_a_paid_or_cancelled_invoice_is_all_excess():
    # Given a paid and a cancelled invoice
    # When a payment arrives for each
    paid = issued().settle(payment(brl(10500)), NOW).invoice
    cancelled = issued().cancel(NOW)
    # Then neither changes and the whole payment is excess
    for closed in (paid, cancelled):
        settled = closed.settle(payment(brl(1000), "P9"), NOW)
        assert settled.invoice == closed and settled.applied == brl(0) and settled.excess == brl(1000)


def test_a_payment_in_another_currency_or_on_a_draft_is_refused():
    # Given an invoice in reais and a draft
    # When a payment in euros, and one for the draft, arrive
    # Then both are refused
    with pytest.raises(PaymentCurrencyMismatchError):
        issued().settle(payment(eur(100)), NOW)
    with pytest.raises(InvoiceNotOpenError):
        draft().settle(payment(brl(100)), NOW)


# --- money: credit notes -----------------------------------------------------------------------------------------
def test_a_full_credit_note_cancels_an_unpaid_invoice():
    # Given an unpaid invoice
    # When a credit note for all its lines is applied
    invoice = issued()
    lines = credit_note_lines(invoice, None)
    total = compute_totals(lines, Currency.BRL).total
    after, excess = invoice.credit(CreditNoteRef("CN1", "CN-2026-000001", total, NOW), NOW)
    # Then nothing is due and the invoice is cancelled
    assert total == brl(10500) and excess == brl(0)
    assert after.status is InvoiceStatus.CANCELLED and after.amount_due == brl(0) and after.amount_credited == total


def test_a_credit_note_on_a_paid_invoice_becomes_credit_and_keeps_it_paid():
    # Given a paid invoice
    # When it is credited in full
    paid = issued().settle(payment(brl(10500)), NOW).invoice
    after, excess = paid.credit(CreditNoteRef("CN1", "CN-1", brl(10500), NOW), NOW)
    # Then the whole note is excess (credit) and the invoice stays paid
    assert excess == brl(10500) and after.status is InvoiceStatus.PAID


def test_a_credit_note_covering_the_rest_of_a_partly_paid_invoice_settles_it():
    # Given an invoice paid in part
    # When a credit note covers the rest
    partly = issued().settle(payment(brl(5500)), NOW).invoice
    after, excess = partly.credit(CreditNoteRef("CN1", "CN-1", brl(5000), NOW), NOW)
    # Then it counts as paid
    assert excess == brl(0) and after.status is InvoiceStatus.PAID and after.amount_due == brl(0)


def test_credit_notes_take_original_lines_and_never_exceed_the_invoice():
    invoice = issued(InvoiceLine("Hospedagem", 2, brl(10000), "hosting"), InvoiceLine("SSL", 1, brl(5000), None))
    # Given one of the two hosting units credited
    lines = credit_note_lines(invoice, [(0, 1)])
    # Then the credit note's line is the original one (price, tax) in the credited quantity
    assert [(li.description, li.quantity, li.unit_price, li.tax_label) for li in lines] == [
        ("Hospedagem", 1, brl(10000), "ISS")
    ]
    assert compute_totals(lines, Currency.BRL).total == brl(10500)
    # And more than the line's quantity, or a line that does not exist, is refused
    with pytest.raises(CreditNoteExceedsInvoiceError):
        credit_note_lines(invoice, [(0, 3)])
    with pytest.raises(CreditNoteExceedsInvoiceError):
        credit_note_lines(invoice, [(5, 1)])
    # When everything was credited already, nothing more can be
    credited, _ = invoice.credit(CreditNoteRef("CN1", "CN-1", invoice.total, NOW), NOW)
    with pytest.raises(CreditNoteExceedsInvoiceError):
        credit_note_lines(credited, [(1, 1)])


# --- the status machine ----------------------------------------------------------------------------------------
def test_only_drafts_are_issued_and_only_issued_invoices_are_credited():
    # Given an issued invoice, a draft and a cancelled invoice
    # When they are issued or credited
    invoice = issued()
    # Then each wrong move raises its named error
    with pytest.raises(InvoiceNotDraftError):
        invoice.issue(at=NOW, issue_date=TODAY, buyer=buyer(), taxes=SPAIN, number_at=NumberAt.ISSUE)
    with pytest.raises(InvoiceNotCreditableError):
        draft().credit(CreditNoteRef("CN1", "CN-1", brl(1), NOW), NOW)
    with pytest.raises(InvoiceNotCreditableError):
        invoice.cancel(NOW).credit(CreditNoteRef("CN1", "CN-1", brl(1), NOW), NOW)
    with pytest.raises(EmptyInvoiceError):
        Invoice.draft(
            invoice_id="I",
            account_id="A",
            kind=InvoiceKind.MANUAL,
            currency=Currency.BRL,
            language="pt-BR",
            lines=[],
            due_date=TODAY,
            created_at=NOW,
        )


def test_payment_method_rules_and_pending_payments():
    # Given invoices in reais and in euros
    # When methods are chosen and a boleto goes pending
    invoice = issued()
    # Then methods follow the currency and a paid invoice takes no change
    with pytest.raises(PaymentMethodNotAvailableError):
        invoice.choose_payment_method(PaymentMethod.SEPA)
    chosen = invoice.choose_payment_method(PaymentMethod.PIX)
    pending = chosen.mark_payment_pending(PaymentMethod.BOLETO, {"boleto_digitable_line": "123"})
    assert pending.status is InvoiceStatus.PAYMENT_PENDING and pending.payment_method is PaymentMethod.BOLETO
    euro = issued(InvoiceLine("x", 1, eur(100), "c"), country="ES", currency=Currency.EUR)
    with pytest.raises(PaymentMethodNotAvailableError):
        euro.choose_payment_method(PaymentMethod.PIX)
    paid = invoice.settle(payment(brl(10500)), NOW).invoice
    with pytest.raises(InvoiceNotOpenError):
        paid.choose_payment_method(PaymentMethod.CARD)
    with pytest.raises(InvoiceNotOpenError):
        paid.cancel(NOW)


def test_numbering_waits_for_payment_on_series_numbered_at_payment():
    # Given an invoice of a series numbered at payment
    # When it is issued, then paid
    invoice = draft().issue(at=NOW, issue_date=TODAY, buyer=buyer(), taxes=SPAIN, number_at=NumberAt.PAYMENT)
    # Then it needs its number only once paid
    assert not invoice.needs_number
    assert invoice.settle(payment(brl(10500)), NOW).invoice.needs_number


def test_is_overdue_only_unpaid_after_the_due_date():
    # Given an invoice due on 2026-12-01
    # When it is read on and after its due date, unpaid and paid
    invoice = issued()  # due 2026-12-01
    # Then it is overdue only unpaid and after the due date
    assert not invoice.is_overdue(date(2026, 12, 1)) and invoice.is_overdue(date(2026, 12, 2))
    assert not invoice.settle(payment(brl(10500)), NOW).invoice.is_overdue(date(2027, 1, 1))


def test_the_summary_moves_counts_and_amounts_due_with_the_status():
    # Given a draft, an issued and a paid invoice
    # When their summary deltas are computed
    invoice = issued()
    # Then drafts count nowhere and amounts due follow the status
    assert summary_delta(None, draft()).is_empty
    opened = summary_delta(None, invoice)
    assert opened.counts == {InvoiceStatus.ISSUED: 1} and opened.due == {Currency.BRL: 10500}
    paid = invoice.settle(payment(brl(10500)), NOW).invoice
    moved = summary_delta(invoice, paid)
    assert moved.counts == {InvoiceStatus.ISSUED: -1, InvoiceStatus.PAID: 1} and moved.due == {Currency.BRL: -10500}


# --- late fees ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("country", "consumer", "policy", "expected"),
    [
        ("BR", True, LateFeePolicy(LateFeeMode.PERCENT, Decimal(10), {}), 210),  # capped at 2 % (CDC art. 52 §1)
        ("BR", False, LateFeePolicy(LateFeeMode.PERCENT, Decimal(10), {}), 1050),  # a company: not capped
        ("BR", True, LateFeePolicy(LateFeeMode.FIXED, Decimal(0), {Currency.BRL: 5000}), 210),  # fixed, capped too
        ("BR", True, LateFeePolicy(LateFeeMode.PERCENT, Decimal(1), {}), 105),  # under the cap
        ("ES", True, LateFeePolicy(LateFeeMode.PERCENT, Decimal(10), {}), 1050),
    ],
)
def test_late_fee_amounts(country, consumer, policy, expected):
    # Given an overdue invoice of R$ 105,00 and a policy
    # When its late fee is computed
    overdue = issued(country=country, consumer=consumer)  # R$ 105,00 due (ISS applies only in BR)
    if country == "ES":
        overdue = issued(InvoiceLine("x", 1, brl(10500), None), country="ES", consumer=consumer)
    # Then the fee is the policy's, capped at 2 % for Brazilian consumers
    assert late_fee_amount(overdue, policy) == brl(expected)
