"""Invoices and credit: the customer's invoice list (total due), detail, PDF, payment method, credit balance and add
funds; staff invoices (draft, issue, void), payments, credit notes and credit adjustments. Account routes need the
``invoices`` permission; staff routes the finance role (admins always). Money routes accept an Idempotency-Key."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.adapters.clock import app_clock
from balcao.adapters.dynamodb.audit import DynamoAuditLog
from balcao.contracts.dunning import WorkflowOut
from balcao.contracts.invoices import (
    AddFundsIn,
    AddFundsOut,
    BillingMoney,
    CreditEntryOut,
    CreditNoteIn,
    CreditNoteOut,
    CreditOut,
    CreditSettingsIn,
    InvoiceList,
    InvoiceOut,
    InvoiceSummaryOut,
    PaymentMethodIn,
    StaffCreditIn,
    StaffInvoiceIn,
    StaffPaymentIn,
    StaffPaymentOut,
    StatusFilter,
)
from balcao.domain.accounts import Permission
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.principal import StaffRole
from balcao.runtime import access, idempotency
from balcao.runtime.audit import RequestAuditor
from balcao.runtime.dunning_composition import dunning
from balcao.runtime.http import rest_resolver
from balcao.runtime.invoices_composition import documents, invoices
from balcao.runtime.observability import logger, tracer
from balcao.services.invoices import LineInput

app = rest_resolver(audit=RequestAuditor(DynamoAuditLog(), app_clock()))
AccountId = Annotated[str, Path(max_length=64)]
ItemId = Annotated[str, Path(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=4000)]
INVOICES = access.account(Permission.INVOICES)
FINANCE = access.staff(StaffRole.FINANCE)
NO_CONTENT = Response(204, "application/json", "")


def redirect(url: str) -> Response[str]:
    return Response(302, "text/plain; charset=utf-8", "", headers={"Location": url, "Cache-Control": "no-store"})


def created(model: Any) -> Response[str]:
    return idempotency.json_response(201, model)


# --- the customer's invoices ------------------------------------------------------------------------------------------
@app.get("/api/accounts/<account_id>/invoices", **INVOICES)
def list_invoices(
    account_id: AccountId,
    status: Annotated[StatusFilter | None, Query()] = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> InvoiceList:
    """Newest first; ``status`` is one status or ``unpaid``; ``total_due`` per currency (from the account summary)."""
    service = invoices()
    page = service.page(account_id, status, limit, cursor)
    today = service.today()
    return InvoiceList(
        items=[InvoiceSummaryOut.of(i, today) for i in page.items],
        next=page.next,
        total_due=[BillingMoney.of(m) for m in page.total_due],
    )


@app.get("/api/accounts/<account_id>/invoices/<invoice_id>", **INVOICES)
def get_invoice(account_id: AccountId, invoice_id: ItemId) -> InvoiceOut:
    service = invoices()
    return InvoiceOut.of(service.invoice(account_id, invoice_id), service.today())


@app.get(
    "/api/accounts/<account_id>/invoices/<invoice_id>/pdf",
    responses={302: {"description": "Redirect to a presigned download URL valid for at most 300 seconds."}},
    **INVOICES,
)
def invoice_pdf(account_id: AccountId, invoice_id: ItemId) -> Response[str]:
    return redirect(documents().invoice_pdf_url(account_id, invoice_id))


@app.get(
    "/api/accounts/<account_id>/credit-notes/<credit_note_id>/pdf",
    responses={302: {"description": "Redirect to a presigned download URL valid for at most 300 seconds."}},
    **INVOICES,
)
def credit_note_pdf(account_id: AccountId, credit_note_id: ItemId) -> Response[str]:
    return redirect(documents().credit_note_pdf_url(account_id, credit_note_id))


@app.put("/api/accounts/<account_id>/invoices/<invoice_id>/payment-method", **INVOICES)
def choose_payment_method(account_id: AccountId, invoice_id: ItemId, body: PaymentMethodIn) -> InvoiceOut:
    """While the invoice is unpaid; PIX and boleto for invoices in reais, SEPA for invoices in euros."""
    service = invoices()
    chosen = service.choose_payment_method(account_id, invoice_id, PaymentMethod(body.method))
    return InvoiceOut.of(chosen, service.today())


# --- credit ----------------------------------------------------------------------------------------------------------
@app.get("/api/accounts/<account_id>/credit", **access.account(Permission.INVOICES, with_account=True))
def get_credit(account_id: AccountId, limit: Limit = 25, cursor: Cursor = None) -> CreditOut:
    """The balance and the ledger, newest first."""
    currency = access.current_account(app).currency
    page = invoices().credit(account_id, limit, cursor, currency)
    return CreditOut.of(page.balance, page.entries, page.next)


@app.post(
    "/api/accounts/<account_id>/credit",
    status_code=201,
    responses={201: {"description": "The add-funds invoice", "content": {"application/json": {"model": AddFundsOut}}}},
    **INVOICES,
)
def add_funds(account_id: AccountId, body: AddFundsIn) -> Response[str]:
    """Add funds: an invoice that becomes credit once paid (limits in the company settings)."""

    def work() -> Response[str]:
        invoice = invoices().add_funds(account_id, body.amount.money())
        return created(
            AddFundsOut(
                invoice_id=invoice.invoice_id, number=invoice.number, amount_due=BillingMoney.of(invoice.amount_due)
            )
        )

    return idempotency.once(app, work)


@app.patch("/api/accounts/<account_id>/credit", **access.account(Permission.INVOICES, with_account=True))
def credit_settings(account_id: AccountId, body: CreditSettingsIn) -> CreditOut:
    """``auto_apply``: whether credit pays new invoices automatically (on by default)."""
    service = invoices()
    balance = service.set_auto_apply(account_id, body.auto_apply, access.current_account(app).currency)
    return CreditOut.of(balance, [], None)


# --- staff -----------------------------------------------------------------------------------------------------------
def _audited(account_id: str) -> None:
    app.context["audit_account_id"] = account_id


@app.post(
    "/api/staff/invoices",
    status_code=201,
    responses={201: {"description": "The invoice", "content": {"application/json": {"model": InvoiceOut}}}},
    **FINANCE,
)
def staff_create_invoice(body: StaffInvoiceIn) -> Response[str]:
    """A manual invoice: a draft, or issued at once (``issue: true``)."""

    def work() -> Response[str]:
        service = invoices()
        lines = [LineInput(li.description, li.quantity, li.unit_price.money(), li.tax_category) for li in body.lines]
        invoice = service.create(body.account_id, lines, issue=body.issue, due_date=body.due_date, notes=body.notes)
        _audited(invoice.account_id)
        return created(InvoiceOut.of(invoice, service.today()))

    return idempotency.once(app, work)


@app.post("/api/staff/invoices/<invoice_id>/issue", **FINANCE)
def staff_issue_invoice(invoice_id: ItemId) -> InvoiceOut:
    service = invoices()
    invoice = service.issue(invoice_id)
    _audited(invoice.account_id)
    return InvoiceOut.of(invoice, service.today())


@app.delete("/api/staff/invoices/<invoice_id>", status_code=204, **FINANCE)
def staff_void_draft(invoice_id: ItemId) -> Response[str]:
    """Voids a draft (never numbered); an issued invoice is corrected with a credit note."""
    _audited(invoices().void_draft(invoice_id).account_id)
    return NO_CONTENT


@app.post(
    "/api/staff/invoices/<invoice_id>/payments",
    status_code=201,
    responses={201: {"description": "The payment", "content": {"application/json": {"model": StaffPaymentOut}}}},
    **FINANCE,
)
def staff_record_payment(invoice_id: ItemId, body: StaffPaymentIn) -> Response[str]:
    """A payment received outside the providers; ``reference`` (e.g. the transfer's id) makes it idempotent too."""

    def work() -> Response[str]:
        service = invoices()
        method = PaymentMethod(body.method) if body.method else None
        settled = service.record_payment(invoice_id, body.amount.money(), method, body.reference)
        _audited(settled.invoice.account_id)
        return created(StaffPaymentOut.of(settled, service.today()))

    return idempotency.once(app, work)


@app.get("/api/staff/invoices/<invoice_id>/workflow", **FINANCE)
def staff_invoice_workflow(invoice_id: ItemId) -> WorkflowOut:
    """The invoice's dunning workflow: its execution, each step with its date (done, skipped or planned), what comes
    next and its history (what was sent, pending re-checks, alerts)."""
    return WorkflowOut.of(dunning().workflow(invoice_id))


@app.post(
    "/api/staff/invoices/<invoice_id>/credit-notes",
    status_code=201,
    responses={201: {"description": "The credit note", "content": {"application/json": {"model": CreditNoteOut}}}},
    **FINANCE,
)
def staff_credit_note(invoice_id: ItemId, body: CreditNoteIn) -> Response[str]:
    """A credit note for the whole invoice (no ``lines``) or some of its lines."""

    def work() -> Response[str]:
        selection = [(li.line, li.quantity) for li in body.lines] if body.lines is not None else None
        note = invoices().issue_credit_note(invoice_id, selection, body.reason)
        _audited(note.account_id)
        return created(CreditNoteOut.of(note))

    return idempotency.once(app, work)


@app.post(
    "/api/staff/accounts/<account_id>/credit",
    status_code=201,
    responses={201: {"description": "The ledger entry", "content": {"application/json": {"model": CreditEntryOut}}}},
    **FINANCE,
)
def staff_adjust_credit(account_id: AccountId, body: StaffCreditIn) -> Response[str]:
    """A manual credit adjustment (positive or negative, with a note); the balance never goes below zero."""

    def work() -> Response[str]:
        entry = invoices().add_credit(account_id, body.amount.money(), body.note)
        return created(CreditEntryOut.of(entry))

    return idempotency.once(app, work)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
