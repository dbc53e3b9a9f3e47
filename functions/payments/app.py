"""Payments: pay an invoice (card, PIX, boleto, SEPA or credit), several at once, a payment's status, saved cards and
SEPA mandates; staff refunds through the provider (``Idempotency-Key`` required) and the payments staff must look
at. Account routes need the ``invoices`` permission; staff routes the finance role (admins always)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.adapters.clock import app_clock
from balcao.adapters.dynamodb.audit import DynamoAuditLog
from balcao.contracts.invoices import BillingMoney, InvoiceOut
from balcao.contracts.payments import (
    FlagList,
    FlagOut,
    PaymentIn,
    PaymentOut,
    RefundIn,
    RefundOut,
    SavedMethodIn,
    SavedMethodList,
    SavedMethodOut,
    SavedMethodPatch,
    SeveralPaymentsIn,
)
from balcao.domain.accounts import Permission
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.payments.charges import SavedMethodKind
from balcao.domain.principal import StaffRole
from balcao.runtime import access, idempotency
from balcao.runtime.audit import RequestAuditor
from balcao.runtime.http import rest_resolver
from balcao.runtime.observability import logger, tracer
from balcao.runtime.payments_composition import payments, public_base_url, registry
from balcao.services.payments import ChargeResult, NewMethod

app = rest_resolver(audit=RequestAuditor(DynamoAuditLog(), app_clock()))
AccountId = Annotated[str, Path(max_length=64)]
ItemId = Annotated[str, Path(max_length=64)]
INVOICES = access.account(Permission.INVOICES)
FINANCE = access.staff(StaffRole.FINANCE)
NO_CONTENT = Response(204, "application/json", "")


def _payment(result: ChargeResult) -> PaymentOut:
    return PaymentOut.of(result.charge, registry().publishable_key, public_base_url())


def _header(name: str) -> str | None:
    headers = app.current_event.headers or {}
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


# --- paying ----------------------------------------------------------------------------------------------------------
@app.post(
    "/api/accounts/<account_id>/invoices/<invoice_id>/payments",
    status_code=201,
    responses={201: {"description": "The payment", "content": {"application/json": {"model": PaymentOut}}}},
    **INVOICES,
)
def pay_invoice(account_id: AccountId, invoice_id: ItemId, body: PaymentIn) -> Response[str]:
    """Pay the open amount: a PIX code (QR and copy-paste), a boleto (line, barcode, PDF), a card form's client
    secret, a SEPA debit (with a saved mandate) or the credit balance. An open charge for the same invoice and method
    is answered again."""

    def work() -> Response[str]:
        result = payments().pay(account_id, [invoice_id], PaymentMethod(body.method), body.payment_method_id)
        return idempotency.json_response(201, _payment(result))

    return idempotency.once(app, work)


@app.post(
    "/api/accounts/<account_id>/payments",
    status_code=201,
    responses={201: {"description": "The payment", "content": {"application/json": {"model": PaymentOut}}}},
    **INVOICES,
)
def pay_several(account_id: AccountId, body: SeveralPaymentsIn) -> Response[str]:
    """Several invoices at once: one charge for their open amounts, allocated oldest due date first when paid (each
    up to its amount due, the rest to credit)."""

    def work() -> Response[str]:
        result = payments().pay(account_id, body.invoice_ids, PaymentMethod(body.method), body.payment_method_id)
        return idempotency.json_response(201, _payment(result))

    return idempotency.once(app, work)


@app.get("/api/accounts/<account_id>/payments/<payment_id>", **INVOICES)
def get_payment(account_id: AccountId, payment_id: ItemId) -> PaymentOut:
    """A payment's current status (what the pay page polls after showing a PIX code)."""
    return PaymentOut.of(payments().charge(account_id, payment_id), registry().publishable_key, public_base_url())


# --- saved methods ---------------------------------------------------------------------------------------------------
@app.get("/api/accounts/<account_id>/payment-methods", **INVOICES)
def list_methods(account_id: AccountId) -> SavedMethodList:
    """Saved cards and SEPA mandates, the default first."""
    return SavedMethodList(items=[SavedMethodOut.of(m) for m in payments().methods(account_id)])


@app.post(
    "/api/accounts/<account_id>/payment-methods",
    status_code=201,
    responses={201: {"description": "The saved method", "content": {"application/json": {"model": SavedMethodOut}}}},
    **INVOICES,
)
def add_method(account_id: AccountId, body: SavedMethodIn) -> Response[str]:
    """Save a card (tokenised by the payment form) or a SEPA mandate (IBAN; this request's IP address and browser
    are the mandate's acceptance). The first method becomes the account's default."""
    service = payments()
    event = app.current_event
    new = NewMethod(
        kind=SavedMethodKind(body.type),
        provider_ref=body.provider_payment_method,
        iban=body.iban,
        holder_name=body.holder_name,
        accepted_from_ip=event.request_context.identity.source_ip,
        accepted_user_agent=_header("User-Agent"),
    )
    method = service.add_method(account_id, new, service.payer(account_id), body.default)
    return idempotency.json_response(201, SavedMethodOut.of(method))


@app.patch("/api/accounts/<account_id>/payment-methods/<payment_method_id>", **INVOICES)
def update_method(account_id: AccountId, payment_method_id: ItemId, body: SavedMethodPatch) -> SavedMethodOut:
    """The account's default (``default``) and the services it pays by default (``service_ids``)."""
    method = payments().update_method(account_id, payment_method_id, body.default, body.service_ids)
    return SavedMethodOut.of(method)


@app.delete("/api/accounts/<account_id>/payment-methods/<payment_method_id>", status_code=204, **INVOICES)
def remove_method(account_id: AccountId, payment_method_id: ItemId) -> Response[str]:
    payments().remove_method(account_id, payment_method_id)
    return NO_CONTENT


# --- staff -----------------------------------------------------------------------------------------------------------
@app.post(
    "/api/staff/invoices/<invoice_id>/refunds",
    status_code=201,
    responses={201: {"description": "The refund", "content": {"application/json": {"model": RefundOut}}}},
    **FINANCE,
)
def staff_refund(invoice_id: ItemId, body: RefundIn) -> Response[str]:
    """Refund a provider payment (all of it, or ``amount``) through the provider; ``Idempotency-Key`` is required.
    The credit the payment made is taken back first; the invoice is due again for the rest."""
    key = _header(idempotency.HEADER) or ""

    def work() -> Response[str]:
        service = payments()
        staff_id = access.current_principal(app).user_id
        amount = body.amount.money() if body.amount else None
        refund = service.refund(invoice_id, body.payment_id, amount, body.reason, staff_id, key)
        invoice = service.invoices.invoice(refund.charge.account_id, invoice_id, include_drafts=True)
        app.context["audit_account_id"] = invoice.account_id
        answer = RefundOut(
            refund_id=refund.refund_id,
            amount=BillingMoney.of(refund.amount),
            payment=PaymentOut.of(refund.charge, None, public_base_url()),
            invoice=InvoiceOut.of(invoice, service.today()),
        )
        return idempotency.json_response(201, answer)

    return idempotency.once(app, work, required=True)


@app.get("/api/staff/payment-flags", **FINANCE)
def staff_flags(
    limit: Annotated[int, Query(ge=1, le=100)] = 25, cursor: Annotated[str | None, Query(max_length=4000)] = None
) -> FlagList:
    """Payments staff must look at, newest first: unknown invoices, another currency, payments for paid or cancelled
    invoices, reversals larger than what they could take back, provider answers that failed our checks."""
    flags, next_cursor = payments().flags(limit, cursor)
    return FlagList(items=[FlagOut.of(f) for f in flags], next=next_cursor)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
