"""Paying in the portal: an invoice (card, PIX, boleto, SEPA Direct Debit, credit), several invoices at once, a
payment's page (PIX QR code with a copy button, the boleto's line with its printable page, the card form, the SEPA
mandate), and the saved cards and mandates.

Every page calls the same use-cases as the JSON API after the account's ``invoices`` permission was checked;
another account's invoice or payment is the 404 page. Without JavaScript everything works except the card form,
which is Stripe's (Stripe Elements, shown where Stripe keys exist): the page then says so. On the local stack the
sandbox stands in for the providers and the page says how to settle a payment (``/_dev/pay``).
"""

from __future__ import annotations

from datetime import date

from aws_lambda_powertools.event_handler import Response

from balcao.contracts.payments import qr_svg
from balcao.domain.accounts import Membership
from balcao.domain.errors import N_, InvalidInputError, NotFoundError
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.invoices import InvoiceStatus
from balcao.domain.money import Currency, Money
from balcao.domain.payments.charges import Charge, ChargeStatus, SavedMethodKind
from balcao.services.payments import NewMethod, Payments
from balcao.web.portal import content_security_policy, page, redirect, with_query
from balcao.web.views.forms import field_errors
from balcao.web.views.identity import Visit

METHOD_LABELS = {
    PaymentMethod.PIX.value: N_("PIX"),
    PaymentMethod.BOLETO.value: N_("Boleto"),
    PaymentMethod.CARD.value: N_("Card"),
    PaymentMethod.SEPA.value: N_("SEPA Direct Debit"),
    PaymentMethod.CREDIT.value: N_("Account credit"),
}
METHOD_HINTS = {
    PaymentMethod.PIX.value: N_("Instant: scan the QR code or paste the code in your bank's app."),
    PaymentMethod.BOLETO.value: N_("Pay at any bank or in your bank's app; it takes up to 3 business days to clear."),
    PaymentMethod.CARD.value: N_("Credit or debit card."),
    PaymentMethod.SEPA.value: N_("We debit your bank account with the mandate you gave us."),
    PaymentMethod.CREDIT.value: N_("Use the credit of your account."),
}
STATUS_LABELS = {
    "pending": N_("Waiting for the payment"),
    "succeeded": N_("Paid"),
    "failed": N_("Not paid"),
    "refunded": N_("Refunded"),
    "charged_back": N_("Charged back"),
}
MANDATE_LABELS = {
    "active": N_("Active"),
    "pending": N_("Being confirmed"),
    "inactive": N_("Inactive"),
    "missing": N_("No mandate yet"),
}
DONE = {
    "method_added": N_("The payment method was saved."),
    "method_removed": N_("The payment method was removed."),
    "method_default": N_("This is now your default payment method."),
    "method_services": N_("The services this method pays were saved."),
}
LOCAL_TEST_CARDS = (
    ("pm_card_visa", "Visa 4242"),
    ("pm_card_mastercard", "Mastercard 4444"),
    ("pm_card_chargeDeclined", "Visa 0002"),
)
STRIPE_SCRIPT = "https://js.stripe.com"
STRIPE_API = "https://api.stripe.com"


def methods_for(currency: Currency, credit: Money | None) -> list[str]:
    """The methods an invoice in ``currency`` can be paid with (credit when there is some, or when unknown)."""
    if currency is Currency.BRL:
        found = [PaymentMethod.PIX, PaymentMethod.BOLETO, PaymentMethod.CARD]
    else:
        found = [PaymentMethod.CARD, PaymentMethod.SEPA]
    if credit is None or credit.amount > 0:
        found.append(PaymentMethod.CREDIT)
    return [m.value for m in found]


def _with_stripe(response: Response[str], form_actions: tuple[str, ...]) -> Response[str]:
    """The card form loads Stripe's script and frames (only on the pages that show it)."""
    policy = content_security_policy(form_actions)
    policy = policy.replace("script-src 'self'", f"script-src 'self' {STRIPE_SCRIPT}")
    policy = policy.replace("connect-src 'self'", f"connect-src 'self' {STRIPE_API}")
    policy = policy.replace("frame-ancestors", f"frame-src {STRIPE_SCRIPT}; frame-ancestors")
    headers = dict(response.headers or {})
    headers["Content-Security-Policy"] = policy
    response.headers = headers
    return response


# --- paying one invoice --------------------------------------------------------------------------------------------
def pay_page(
    visit: Visit,
    membership: Membership,
    payments: Payments,
    invoice_id: str,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    invoice, credit = payments.invoice_to_pay(membership.account_id, invoice_id)
    payable = invoice.is_unpaid and not invoice.amount_due.is_zero
    methods = methods_for(invoice.currency, credit)
    posted = visit.request.value("method") if errors else None  # after an error, the method the customer chose
    saved = invoice.payment_method.value if invoice.payment_method else None
    chosen = next((m for m in (posted, saved) if m in methods), methods[0])
    return page(
        visit.request,
        "payments/pay.html",
        status=status,
        title=N_("Pay an invoice"),
        invoice=invoice,
        payable=payable,
        pending=invoice.status is InvoiceStatus.PAYMENT_PENDING,
        methods=[(m, METHOD_LABELS[m], METHOD_HINTS[m]) for m in methods],
        chosen=chosen,
        errors=errors or {},
    )


def start_payment(visit: Visit, membership: Membership, payments: Payments, invoice_id: str) -> Response[str]:
    request = visit.request
    method = request.value("method")
    if method not in {m.value for m in PaymentMethod}:
        errors = {"method": request.gettext(N_("Choose how to pay."))}
        return pay_page(visit, membership, payments, invoice_id, errors, 422)
    try:
        result = payments.pay(membership.account_id, [invoice_id], PaymentMethod(method))
    except InvalidInputError as error:
        return pay_page(visit, membership, payments, invoice_id, field_errors(request, error) or {"method": ""}, 422)
    visit.record(
        "POST /api/accounts/{account_id}/invoices/{invoice_id}/payments",
        membership.account_id,
        invoice_id=invoice_id,
        payment_id=result.charge.charge_id,
    )
    return redirect(request, f"/payments/{result.charge.charge_id}")


# --- paying several ------------------------------------------------------------------------------------------------
def several_page(
    visit: Visit, membership: Membership, payments: Payments, errors: dict[str, str] | None = None, status: int = 200
) -> Response[str]:
    found = payments.invoices.page(membership.account_id, "unpaid", 100, None)
    open_invoices = [i for i in found.items if not i.amount_due.is_zero]
    currencies = sorted({i.currency for i in open_invoices}, key=lambda c: c.value)
    currency = currencies[0] if currencies else Currency.BRL
    methods = methods_for(currency, None)  # credit is offered; a balance too small is refused with its message
    return page(
        visit.request,
        "payments/several.html",
        status=status,
        title=N_("Pay several invoices"),
        invoices=open_invoices,
        today=payments.invoices.today(),
        methods=[(m, METHOD_LABELS[m], METHOD_HINTS[m]) for m in methods],
        chosen=next((m for m in (visit.request.value("method"),) if m in methods), methods[0]),
        selected=set(visit.request.values("invoice_id")),
        errors=errors or {},
    )


def pay_several(visit: Visit, membership: Membership, payments: Payments) -> Response[str]:
    request = visit.request
    chosen = request.values("invoice_id")
    method = request.value("method")
    if not chosen:
        return several_page(
            visit, membership, payments, {"invoice_id": request.gettext(N_("Choose the invoices to pay."))}, 422
        )
    if method not in {m.value for m in PaymentMethod}:
        return several_page(visit, membership, payments, {"method": request.gettext(N_("Choose how to pay."))}, 422)
    try:
        result = payments.pay(membership.account_id, chosen, PaymentMethod(method))
    except InvalidInputError as error:
        return several_page(visit, membership, payments, field_errors(request, error) or {"method": ""}, 422)
    except NotFoundError:
        return several_page(
            visit, membership, payments, {"invoice_id": request.gettext(N_("Choose the invoices to pay."))}, 422
        )
    visit.record("POST /api/accounts/{account_id}/payments", membership.account_id, payment_id=result.charge.charge_id)
    return redirect(request, f"/payments/{result.charge.charge_id}")


# --- a payment -----------------------------------------------------------------------------------------------------
def _charge(payments: Payments, membership: Membership, payment_id: str) -> Charge:
    return payments.charge(membership.account_id, payment_id)


def payment_page(
    visit: Visit,
    membership: Membership,
    payments: Payments,
    payment_id: str,
    publishable_key: str | None,
    local: bool,
) -> Response[str]:
    charge = _charge(payments, membership, payment_id)
    details = charge.details
    card_form = charge.method is PaymentMethod.CARD and bool(publishable_key) and bool(details.get("client_secret"))
    response = page(
        visit.request,
        "payments/payment.html",
        title=N_("Your payment"),
        charge=charge,
        payment_status=charge.status.api_status,
        status_label=STATUS_LABELS.get(charge.status.api_status, ""),
        method_label=METHOD_LABELS[charge.method.value],
        invoices=_invoice_links(charge),
        open=charge.status in (ChargeStatus.PENDING, ChargeStatus.PROCESSING),
        pix_qr=qr_svg(details["copy_paste"]) if details.get("copy_paste") else None,
        mandate_label=MANDATE_LABELS.get(details.get("mandate_status", ""), ""),
        card_form=card_form,
        publishable_key=publishable_key if card_form else None,
        local=local,
        expires=visit.moment(charge.expires_at) if charge.expires_at else "",
        boleto_due=date.fromisoformat(details["due_date"]) if details.get("due_date") else None,
    )
    return _with_stripe(response, visit.request.form_actions) if card_form else response


def boleto_page(visit: Visit, membership: Membership, payments: Payments, payment_id: str) -> Response[str]:
    """A printable boleto: the line, the barcode (Interleaved 2 of 5) and what it pays."""
    charge = _charge(payments, membership, payment_id)
    if charge.method is not PaymentMethod.BOLETO or not charge.details.get("digitable_line"):
        raise NotFoundError()
    return page(
        visit.request,
        "payments/boleto.html",
        title=N_("Boleto"),
        charge=charge,
        invoices=_invoice_links(charge),
        barcode_svg=itf_svg(charge.details.get("barcode", "")),
        boleto_due=date.fromisoformat(charge.details["due_date"]) if charge.details.get("due_date") else None,
    )


def _invoice_links(charge: Charge) -> list[dict[str, str]]:
    """The charge's invoices as its page links them (ids, and the numbers stored with the charge: no reads)."""
    numbers = [n.strip() for n in charge.details.get("numbers", "").split(",")]
    return [
        {"invoice_id": invoice_id, "label": numbers[i] if i < len(numbers) and numbers[i] else invoice_id}
        for i, invoice_id in enumerate(charge.invoice_ids)
    ]


def itf_svg(digits: str, narrow: int = 1, wide: int = 3, height: int = 50) -> str:
    """The boleto's barcode: Interleaved 2 of 5 (FEBRABAN), as an inline SVG (empty for anything else)."""
    if len(digits) != 44 or not digits.isdigit():
        return ""
    patterns = ["nnwwn", "wnnnw", "nwnnw", "wwnnn", "nnwnw", "wnwnn", "nwwnn", "nnnww", "wnnwn", "nwnwn"]
    bars: list[tuple[int, int]] = []
    x = 0
    for bar in (True, False, True, False):  # start: narrow bar, space, bar, space
        if bar:
            bars.append((x, narrow))
        x += narrow
    for index in range(0, len(digits), 2):
        first, second = patterns[int(digits[index])], patterns[int(digits[index + 1])]
        for bar_width, space_width in zip(first, second, strict=True):
            width = wide if bar_width == "w" else narrow
            bars.append((x, width))
            x += width + (wide if space_width == "w" else narrow)
    bars.append((x, wide))  # stop: wide bar, space, narrow bar
    x += wide + narrow
    bars.append((x, narrow))
    x += narrow
    rects = "".join(f'<rect x="{left}" y="0" width="{width}" height="{height}"/>' for left, width in bars)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {x} {height}" width="{x * 2}" height="{height}" '
        f'role="img" aria-hidden="true" preserveAspectRatio="none">{rects}</svg>'
    )


# --- saved methods -----------------------------------------------------------------------------------------------
def methods_page(
    visit: Visit,
    membership: Membership,
    payments: Payments,
    publishable_key: str | None,
    local: bool,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    request = visit.request
    methods = payments.methods(membership.account_id)
    response = page(
        request,
        "payments/methods.html",
        status=status,
        title=N_("Payment methods"),
        methods=methods,
        mandate_labels=MANDATE_LABELS,
        publishable_key=publishable_key,
        test_cards=LOCAL_TEST_CARDS if local and not publishable_key else (),
        errors=errors or {},
        values={"holder_name": request.value("holder_name"), "iban": request.value("iban")},
        done=DONE.get(request.query.get("done", "")),
    )
    return _with_stripe(response, request.form_actions) if publishable_key else response


def add_method(
    visit: Visit, membership: Membership, payments: Payments, publishable_key: str | None, local: bool
) -> Response[str]:
    request = visit.request
    kind = request.value("type")
    if kind not in {k.value for k in SavedMethodKind}:
        errors = {"type": request.gettext(N_("Choose a card or a SEPA mandate."))}
        return methods_page(visit, membership, payments, publishable_key, local, errors, 422)
    if kind == SavedMethodKind.SEPA.value and request.value("accept_mandate") != "yes":
        message = request.gettext(N_("Accept the mandate to let us debit your account."))
        return methods_page(visit, membership, payments, publishable_key, local, {"accept_mandate": message}, 422)
    new = NewMethod(
        kind=SavedMethodKind(kind),
        provider_ref=request.value("provider_payment_method") or None,
        iban=request.value("iban") or None,
        holder_name=request.value("holder_name") or None,
        accepted_from_ip=visit.origin.ip,
        accepted_user_agent=visit.origin.device,
    )
    try:
        method = payments.add_method(
            membership.account_id, new, payments.payer(membership.account_id), request.value("default") == "yes"
        )
    except InvalidInputError as error:
        errors = field_errors(request, error)
        return methods_page(visit, membership, payments, publishable_key, local, errors, 422)
    visit.record(
        "POST /api/accounts/{account_id}/payment-methods", membership.account_id, payment_method_id=method.method_id
    )
    return redirect(request, with_query("/payment-methods", done="method_added"))


def make_default(visit: Visit, membership: Membership, payments: Payments, method_id: str) -> Response[str]:
    payments.update_method(membership.account_id, method_id, True, None)
    visit.record(
        "PATCH /api/accounts/{account_id}/payment-methods/{payment_method_id}",
        membership.account_id,
        payment_method_id=method_id,
    )
    return redirect(visit.request, with_query("/payment-methods", done="method_default"))


def remove_method(visit: Visit, membership: Membership, payments: Payments, method_id: str) -> Response[str]:
    payments.remove_method(membership.account_id, method_id)
    visit.record(
        "DELETE /api/accounts/{account_id}/payment-methods/{payment_method_id}",
        membership.account_id,
        payment_method_id=method_id,
    )
    return redirect(visit.request, with_query("/payment-methods", done="method_removed"))


def method_services_page(
    visit: Visit,
    membership: Membership,
    payments: Payments,
    method_id: str,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    """Which services a saved method pays by default, among the account's (the method and the services: one read)."""
    method, services = payments.method_and_services(membership.account_id, method_id)
    return page(
        visit.request,
        "payments/method_services.html",
        status=status,
        title=N_("Services paid by this method"),
        method=method,
        services=[(s.service_id, s.label) for s in services],
        chosen=set(visit.request.values("service_id")) if errors else set(method.services),
        errors=errors or {},
    )


def set_method_services(visit: Visit, membership: Membership, payments: Payments, method_id: str) -> Response[str]:
    """Save the services a method pays by default (none: the account's default pays them); a service moves here
    from the method that paid it before."""
    request = visit.request
    chosen = list(dict.fromkeys(request.values("service_id")))
    _, services = payments.method_and_services(membership.account_id, method_id)
    if set(chosen) - {s.service_id for s in services}:
        errors = {"service_id": request.gettext(N_("Choose among the services of this account."))}
        return method_services_page(visit, membership, payments, method_id, errors, 422)
    payments.update_method(membership.account_id, method_id, None, chosen)
    visit.record(
        "PATCH /api/accounts/{account_id}/payment-methods/{payment_method_id}",
        membership.account_id,
        payment_method_id=method_id,
    )
    return redirect(request, with_query("/payment-methods", done="method_services"))
