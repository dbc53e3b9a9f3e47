"""Invoices and the account's credit: the list (status filter, the store's cursors, the total due), the detail
(lines, taxes, totals, payments, credit applied, credit notes), the PDFs, the credit balance with its ledger and
the automatic use of credit, and the add-funds form.

Every page calls the same use-cases as ``/api/accounts/{id}/invoices`` and ``…/credit`` after the account's
``invoices`` permission was checked; another account's invoice is the 404 page, like a missing one. A link from an
email names the invoice only: when it belongs to another account of the signed-in user (with the permission), the
page switches to that account and comes back, otherwise it is the 404 page too.

Paying is the payments capability's page (``/invoices/{invoice_id}/pay``): the detail links to it only when the
portal serves that route.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from aws_lambda_powertools.event_handler import Response
from babel.numbers import NumberFormatError, format_percent, parse_decimal

from balcao.domain.accounts import Membership
from balcao.domain.calendar import local_date
from balcao.domain.credit import CreditEntry, CreditKind
from balcao.domain.dunning import suspension_notice_date
from balcao.domain.errors import N_, InvalidInputError, NotFoundError
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.invoices import Invoice, InvoiceKind, InvoiceStatus
from balcao.domain.money import Currency, Money
from balcao.services.accounts import Accounts
from balcao.services.invoice_documents import InvoiceDocuments
from balcao.services.invoices import Invoices
from balcao.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, babel_locale
from balcao.web.portal import PortalRequest, page, redirect, with_query
from balcao.web.views.forms import field_errors
from balcao.web.views.identity import PAGE_SIZE, Visit, cursor_of
from balcao.web.views.links import Elsewhere, known_id

PAY_ROUTE = re.compile(r"^/invoices/\{[^/{}]+\}/pay$")

# What the customer reads for each status (``issued`` is an invoice waiting for its payment).
STATUS_LABELS = {
    InvoiceStatus.ISSUED.value: N_("Unpaid"),
    InvoiceStatus.PAYMENT_PENDING.value: N_("Payment pending"),
    InvoiceStatus.PARTIALLY_PAID.value: N_("Partially paid"),
    InvoiceStatus.PAID.value: N_("Paid"),
    InvoiceStatus.CANCELLED.value: N_("Cancelled"),
    InvoiceStatus.REFUNDED.value: N_("Refunded"),
}
# The list's filter, in the order it offers them ("" is every invoice).
STATUS_FILTERS: tuple[tuple[str, str], ...] = (
    ("", N_("All invoices")),
    ("unpaid", N_("To pay")),
    (InvoiceStatus.PAID.value, N_("Paid")),
    (InvoiceStatus.PAYMENT_PENDING.value, N_("Payment pending")),
    (InvoiceStatus.PARTIALLY_PAID.value, N_("Partially paid")),
    (InvoiceStatus.CANCELLED.value, N_("Cancelled")),
    (InvoiceStatus.REFUNDED.value, N_("Refunded")),
)
# What kind of charge an invoice is, when it is more than a plain invoice (manual invoices say nothing more).
KIND_LABELS = {
    InvoiceKind.ORDER.value: N_("New order"),
    InvoiceKind.RENEWAL.value: N_("Renewal"),
    InvoiceKind.UPGRADE.value: N_("Plan change"),
    InvoiceKind.ADD_FUNDS.value: N_("Add funds"),
    InvoiceKind.LATE_FEE.value: N_("Late fee"),
}
METHOD_LABELS = {
    PaymentMethod.CARD.value: N_("Card"),
    PaymentMethod.PIX.value: N_("PIX"),
    PaymentMethod.BOLETO.value: N_("Boleto"),
    PaymentMethod.SEPA.value: N_("SEPA Direct Debit"),
    PaymentMethod.CREDIT.value: N_("Account credit"),
}
CREDIT_KIND_LABELS = {
    CreditKind.OVERPAYMENT.value: N_("Paid beyond the amount due"),
    CreditKind.LATE_PAYMENT.value: N_("Paid after the invoice was cancelled"),
    CreditKind.FUNDS_ADDED.value: N_("Funds added"),
    CreditKind.DOWNGRADE.value: N_("Unused time of a downgraded plan"),
    CreditKind.REFUND.value: N_("Credit note kept as credit"),
    CreditKind.MANUAL.value: N_("Adjustment by our team"),
    CreditKind.APPLIED.value: N_("Used to pay an invoice"),
}
# Messages shown once after a form of these pages redirects (``?done=<key>``).
DONE = {
    "auto_apply_on": N_("Your credit now pays new invoices automatically."),
    "auto_apply_off": N_("Your credit no longer pays new invoices automatically."),
    "funds_invoice": N_("We created an invoice for the funds: once it is paid, the amount becomes credit."),
}
AMOUNT_EXAMPLES = {"pt-BR": "50,00", "es": "50,00", "en": "50.00"}


def pay_route_served(app: Any) -> bool:
    """Whether the portal serves ``GET /invoices/{id}/pay`` (the payments capability's page)."""
    routes = [*getattr(app, "_static_routes", []), *getattr(app, "_dynamic_routes", [])]
    return any(
        route.method == "GET" and PAY_ROUTE.match(route.path.replace("<", "{").replace(">", "}")) for route in routes
    )


def status_label(invoice: Invoice) -> str:
    return STATUS_LABELS.get(invoice.status.value, invoice.status.value)


def _locale(language: str) -> str:
    """Babel's name of the visitor's locale (English for the pseudo-locale of the translation checks)."""
    return babel_locale(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def percent(rate: Decimal, language: str) -> str:
    """A tax rate as the visitor's locale writes it (``21 %`` in Spanish, ``21%`` in Portuguese and English)."""
    return format_percent(rate / 100, locale=_locale(language), decimal_quantization=False)


def _done(request: PortalRequest) -> str | None:
    return DONE.get(request.query.get("done", ""))


# --- the list --------------------------------------------------------------------------------------------------
def list_page(visit: Visit, membership: Membership, invoices: Invoices) -> Response[str]:
    request = visit.request
    status = request.query.get("status") or None
    cursor = cursor_of(request)
    found = invoices.page(membership.account_id, status, PAGE_SIZE, cursor)
    today = invoices.today()
    rows = [
        {
            "invoice": invoice,
            "status": status_label(invoice),
            "overdue": invoice.is_overdue(today),
            "kind": KIND_LABELS.get(invoice.kind.value, ""),
        }
        for invoice in found.items
    ]
    filters = {"status": status} if status else {}
    return page(
        request,
        "invoices/list.html",
        title=N_("Invoices"),
        rows=rows,
        chosen_status=status or "",
        status_filters=STATUS_FILTERS,
        total_due=[m for m in found.total_due if not m.is_zero],
        first=with_query("/invoices", **filters),
        older=with_query("/invoices", **filters, cursor=found.next) if found.next else None,
        paged=cursor is not None,
        done=_done(request),
    )


# --- one invoice -------------------------------------------------------------------------------------------------
def detail_page(
    visit: Visit,
    membership: Membership,
    invoices: Invoices,
    invoice_id: str,
    *,
    can_pay: bool,
    elsewhere: Elsewhere | None = None,
) -> Response[str]:
    request = visit.request
    try:
        invoice = invoices.invoice(membership.account_id, known_id(invoice_id))
    except NotFoundError:
        if elsewhere is None:
            raise
        return elsewhere.switch_to(request, invoice_id)
    today = invoices.today()
    credit_payments = [p for p in invoice.payments if p.method is PaymentMethod.CREDIT]
    credit_applied = sum((p.amount for p in credit_payments), Money.zero(invoice.currency))
    lines = [
        {
            "line": line,
            "tax": f"{line.tax_label} {percent(line.tax_rate_percent, request.language)}" if line.tax_label else "",
        }
        for line in invoice.lines
    ]
    taxes = [{"tax": tax, "rate": percent(tax.rate_percent, request.language)} for tax in invoice.totals.taxes]
    payments = [
        {
            "payment": payment,
            "received_at": visit.moment(payment.received_at),
            "method": METHOD_LABELS.get(payment.method.value, "") if payment.method else "",
        }
        for payment in invoice.payments
    ]
    credit_notes = [{"note": note, "issued_at": visit.moment(note.issued_at)} for note in invoice.credit_notes]
    payable = invoice.is_unpaid and not invoice.amount_due.is_zero
    paid_on = local_date(invoice.paid_at, visit.timezone) if invoice.paid_at else None
    return page(
        request,
        "invoices/detail.html",
        title=N_("Invoice"),
        invoice=invoice,
        status_label=status_label(invoice),
        kind=KIND_LABELS.get(invoice.kind.value, ""),
        overdue=invoice.is_overdue(today),
        method=METHOD_LABELS.get(invoice.payment_method.value, "") if invoice.payment_method else "",
        lines=lines,
        taxes=taxes,
        payments=payments,
        credit_applied=credit_applied,
        paid_otherwise=invoice.amount_paid - credit_applied,
        paid_on=paid_on,
        credit_notes=credit_notes,
        payable=payable,
        pay_path=f"/invoices/{invoice.invoice_id}/pay" if payable and can_pay else None,
        done=_done(request),
        suspension_date=suspension_notice_date(invoice, invoice.suspension_date, today),  # dunning
    )


def invoice_pdf(
    request: PortalRequest, membership: Membership, documents: InvoiceDocuments, invoice_id: str
) -> Response[str]:
    """The PDF (rendered again when the invoice changed) through a presigned URL valid for at most 300 s."""
    url = documents.invoice_pdf_url(membership.account_id, known_id(invoice_id))
    return redirect(request, url, status=302)


def credit_note_pdf(
    request: PortalRequest, membership: Membership, documents: InvoiceDocuments, credit_note_id: str
) -> Response[str]:
    url = documents.credit_note_pdf_url(membership.account_id, known_id(credit_note_id))
    return redirect(request, url, status=302)


# --- credit ------------------------------------------------------------------------------------------------------
def _entry_row(visit: Visit, entry: CreditEntry) -> dict[str, Any]:
    return {
        "entry": entry,
        "at": visit.moment(entry.at),
        "what": CREDIT_KIND_LABELS.get(entry.kind.value, entry.kind.value),
        "added": entry.amount.amount > 0,
    }


def credit_page(visit: Visit, membership: Membership, invoices: Invoices) -> Response[str]:
    """The balance, whether it pays new invoices automatically, and the ledger, newest first. A zero balance reads
    as no credit (before any credit the balance has no currency yet, so it is never shown in the wrong one)."""
    request = visit.request
    cursor = cursor_of(request)
    credit = invoices.credit(membership.account_id, PAGE_SIZE, cursor)
    balance = credit.balance.balance
    return page(
        request,
        "invoices/credit.html",
        title=N_("Credit"),
        balance=balance if balance is not None and not balance.is_zero else None,
        auto_apply=credit.balance.auto_apply,
        rows=[_entry_row(visit, entry) for entry in credit.entries],
        older=with_query("/credit", cursor=credit.next) if credit.next else None,
        paged=cursor is not None,
        done=_done(request),
    )


def set_auto_apply(visit: Visit, membership: Membership, invoices: Invoices) -> Response[str]:
    wanted = visit.request.value("auto_apply")
    if wanted not in ("on", "off"):
        raise InvalidInputError.single(
            "auto_apply", N_("This value is not one of the allowed choices."), "invalid_choice"
        )
    invoices.set_auto_apply(membership.account_id, wanted == "on")
    visit.record("PATCH /api/accounts/{account_id}/credit", membership.account_id)
    return redirect(visit.request, with_query("/credit", done=f"auto_apply_{wanted}"))


def _limits(invoices: Invoices, currency: Currency) -> tuple[Money, Money]:
    limits = invoices.settings.add_funds
    return (
        Money(limits.minimum.get(currency.value, 0), currency),
        Money(limits.maximum.get(currency.value, 0), currency),
    )


def add_funds_page(
    visit: Visit,
    membership: Membership,
    invoices: Invoices,
    accounts: Accounts,
    value: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    currency = Currency(accounts.profile(membership.account_id).currency)
    minimum, maximum = _limits(invoices, currency)
    return page(
        visit.request,
        "invoices/add_funds.html",
        status=status,
        title=N_("Add funds"),
        currency=currency.value,
        minimum=minimum,
        maximum=maximum,
        example=AMOUNT_EXAMPLES.get(visit.request.language, AMOUNT_EXAMPLES["en"]),
        value=value,
        errors=errors or {},
    )


class AmountNotUnderstood(Exception):
    """The amount typed is not a number of the visitor's locale."""


def parse_amount(text: str, currency: Currency, language: str) -> Money:
    """An amount as the visitor typed it in their locale (``1.234,56`` or ``1,234.56``; a currency sign is fine)."""
    cleaned = text.replace("\u00a0", " ")
    for sign in ("R$", "€", currency.value):
        cleaned = cleaned.replace(sign, "")
    cleaned = cleaned.strip()
    if not cleaned:
        raise InvalidInputError.single("amount", N_("This field is required."), "required")
    try:
        money = Money.from_decimal(parse_decimal(cleaned, locale=_locale(language), strict=True), currency)
    except (NumberFormatError, InvalidOperation, ValueError):
        raise AmountNotUnderstood(cleaned) from None
    if money.amount <= 0:
        raise InvalidInputError.single("amount", N_("The amount must be more than zero."), "too_small")
    return money


def add_funds(visit: Visit, membership: Membership, invoices: Invoices, accounts: Accounts) -> Response[str]:
    """An add-funds invoice (untaxed; the company's minimum and maximum apply), then its page to pay it."""
    request = visit.request
    typed = request.value("amount")
    currency = Currency(accounts.profile(membership.account_id).currency)
    try:
        invoice = invoices.add_funds(membership.account_id, parse_amount(typed, currency, request.language))
    except AmountNotUnderstood:
        example = AMOUNT_EXAMPLES.get(request.language, AMOUNT_EXAMPLES["en"])
        message = request.gettext(N_("Type an amount in numbers, such as {example}.")).format(example=example)
        return add_funds_page(visit, membership, invoices, accounts, typed, {"amount": message}, 422)
    except InvalidInputError as error:
        # ``amount.amount`` and ``amount.currency`` of the use-case are the one field of this form
        messages = field_errors(request, error)
        return add_funds_page(
            visit,
            membership,
            invoices,
            accounts,
            typed,
            {"amount": next(iter(messages.values()), request.gettext(error.message))},
            422,
        )
    visit.record("POST /api/accounts/{account_id}/credit", membership.account_id, invoice_id=invoice.invoice_id)
    return redirect(request, with_query(f"/invoices/{invoice.invoice_id}", done="funds_invoice"))
