"""Invoice and credit-note PDFs: the render model built from an invoice, stored in S3 per invoice version, rendered
again when the status or the payment instructions change, and the "invoice created" announcement once its PDF
exists (so the email always carries it).

Rendering is presentation: the handler passes an ``InvoiceRenderer`` (fpdf2, ``balcao.web.pdf``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from balcao.domain.errors import NotFoundError
from balcao.domain.events import DomainEvent
from balcao.domain.invoice_document import (
    REFERENCE_ORIGINAL_INVOICE,
    DocumentKind,
    DocumentLine,
    DocumentReference,
    InvoiceDocument,
    Party,
    PaymentInstructions,
    PaymentMethod,
    TaxBreakdownLine,
)
from balcao.domain.invoices import Buyer, CreditNote, Invoice, InvoiceLine, InvoiceStatus, Totals
from balcao.domain.money import Money
from balcao.services.invoice_settings import SellerSettings
from balcao.services.invoices import Invoices

InvoiceRenderer = Callable[[InvoiceDocument], bytes]
Announcer = Callable[[DomainEvent], bool]  # writes an event to the outbox once (False: written before)
CREDIT_NOTE_REVISION = 1  # a credit note never changes
PDF_EVENTS = frozenset(
    {
        "invoice.issued",
        "credit_note.issued",
        "invoice.paid",
        "invoice.partially_paid",
        "invoice.cancelled",
        "invoice.payment_method_changed",
        "invoice.payment_pending",
    }
)
DATE_INSTRUCTIONS = frozenset({"boleto_due_date", "sepa_debit_date"})


class PdfStore(Protocol):
    def revision(self, account_id: str, document_id: str) -> int | None:
        """The invoice version the stored PDF shows (None when there is none)."""
        ...

    def put(self, account_id: str, document_id: str, pdf: bytes, revision: int) -> None: ...

    def download_url(self, account_id: str, document_id: str, filename: str) -> str:
        """A presigned GET valid for at most 300 s."""
        ...


def _party(buyer: Buyer) -> Party:
    return Party(name=buyer.name, tax_id=buyer.tax_id, address_lines=buyer.address_lines, email=buyer.email)


def _lines(lines: tuple[InvoiceLine, ...]) -> tuple[DocumentLine, ...]:
    return tuple(
        DocumentLine(
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            tax_rate_percent=line.tax_rate_percent,
            total=line.net,
            period_start=line.period_start,
            period_end=line.period_end,
        )
        for line in lines
    )


def _taxes(totals: Totals) -> tuple[TaxBreakdownLine, ...]:
    return tuple(TaxBreakdownLine(t.label, t.rate_percent, t.base, t.tax) for t in totals.taxes)


def instructions_of(method: PaymentMethod, data: Mapping[str, str]) -> PaymentInstructions:
    """The payment instructions the payments capability stored on the invoice, as the PDF prints them."""
    values: dict[str, str | date | None] = {}
    for name in PaymentInstructions.__dataclass_fields__:
        if name == "method" or not data.get(name):
            continue
        values[name] = date.fromisoformat(data[name]) if name in DATE_INSTRUCTIONS else data[name]
    return PaymentInstructions(method, **values)  # type: ignore[arg-type]


@dataclass
class InvoiceDocuments:
    invoices: Invoices
    pdfs: PdfStore
    render: InvoiceRenderer
    announce_once: Announcer
    seller: SellerSettings
    brand_name: str

    def _seller(self) -> Party:
        settings = self.seller
        return Party(
            name=settings.legal_name or self.brand_name,
            tax_id=settings.tax_id,
            address_lines=tuple(settings.address_lines),
            email=settings.email,
            phone=settings.phone,
        )

    def document(self, invoice: Invoice) -> InvoiceDocument:
        if invoice.buyer is None:  # a draft: the buyer is copied when it is issued, and drafts have no PDF
            raise NotFoundError()
        payment = instructions_of(invoice.payment_method, invoice.instructions) if invoice.payment_method else None
        references: tuple[DocumentReference, ...] = ()
        if invoice.refers_to is not None:
            original = self.invoices.store.invoice(invoice.account_id, invoice.refers_to)
            if original is not None and original.number is not None:
                references = (DocumentReference(REFERENCE_ORIGINAL_INVOICE, original.number),)
        return InvoiceDocument(
            kind=DocumentKind.INVOICE,
            number=invoice.number,
            status=invoice.status.value,
            issue_date=invoice.issue_date or invoice.due_date,
            due_date=invoice.due_date,
            language=invoice.language,
            currency=invoice.currency,
            seller=self._seller(),
            buyer=_party(invoice.buyer),
            lines=_lines(invoice.lines),
            subtotal=invoice.totals.subtotal,
            tax=invoice.totals.tax,
            total=invoice.total,
            amount_paid=invoice.amount_paid,
            amount_due=invoice.amount_due,
            tax_breakdown=_taxes(invoice.totals),
            notes=invoice.notes,
            payment=payment,
            references=references,
        )

    def credit_note_document(self, note: CreditNote) -> InvoiceDocument:
        zero = Money.zero(note.currency)
        return InvoiceDocument(
            kind=DocumentKind.CREDIT_NOTE,
            number=note.number,
            status=InvoiceStatus.ISSUED.value,
            issue_date=note.issue_date,
            due_date=note.issue_date,
            language=note.language,
            currency=note.currency,
            seller=self._seller(),
            buyer=_party(note.buyer),
            lines=_lines(note.lines),
            subtotal=note.totals.subtotal,
            tax=note.totals.tax,
            total=note.totals.total,
            amount_paid=zero,
            amount_due=zero,
            tax_breakdown=_taxes(note.totals),
            notes=(note.reason,),
            references=(DocumentReference(REFERENCE_ORIGINAL_INVOICE, note.invoice_reference),),
        )

    # --- stored PDFs ----------------------------------------------------------------------------------------------
    def ensure_pdf(self, invoice: Invoice) -> bool:
        """Render and store the PDF unless the stored one shows this version of the invoice; True if rendered."""
        revision = invoice.version or 0
        if self.pdfs.revision(invoice.account_id, invoice.invoice_id) == revision:
            return False
        self.pdfs.put(invoice.account_id, invoice.invoice_id, self.render(self.document(invoice)), revision)
        return True

    def ensure_credit_note_pdf(self, note: CreditNote) -> bool:
        if self.pdfs.revision(note.account_id, note.credit_note_id) == CREDIT_NOTE_REVISION:
            return False
        pdf = self.render(self.credit_note_document(note))
        self.pdfs.put(note.account_id, note.credit_note_id, pdf, CREDIT_NOTE_REVISION)
        return True

    def invoice_pdf_url(self, account_id: str, invoice_id: str) -> str:
        """The customer's download (after the permission check): a fresh PDF, then a short-lived URL."""
        invoice = self.invoices.invoice(account_id, invoice_id)
        self.ensure_pdf(invoice)
        return self.pdfs.download_url(account_id, invoice_id, f"{invoice.number or invoice.invoice_id}.pdf")

    def credit_note_pdf_url(self, account_id: str, credit_note_id: str) -> str:
        note = self.invoices.credit_note(account_id, credit_note_id)
        self.ensure_credit_note_pdf(note)
        return self.pdfs.download_url(account_id, credit_note_id, f"{note.number}.pdf")

    # --- events ---------------------------------------------------------------------------------------------------
    def handle(self, event: DomainEvent) -> str:
        """What the documents queue does with an event: ``announced``, ``rendered`` or ``unchanged``."""
        account_id = event.account_id
        if account_id is None:
            return "unchanged"
        if event.type not in PDF_EVENTS:
            return "unchanged"
        if event.type == "credit_note.issued":
            note = self.invoices.credit_note(account_id, str(event.data["credit_note_id"]))
            return "rendered" if self.ensure_credit_note_pdf(note) else "unchanged"
        invoice = self.invoices.invoice(account_id, str(event.data["invoice_id"]))
        rendered = self.ensure_pdf(invoice)
        if event.type == "invoice.issued":
            return "announced" if self.announce_once(self.created_event(invoice)) else "unchanged"
        return "rendered" if rendered else "unchanged"

    def created_event(self, invoice: Invoice) -> DomainEvent:
        """``invoice.created`` — the email with the PDF attached. Its id and time come from the invoice, so a
        redelivered ``invoice.issued`` cannot announce it twice (the outbox put is conditional)."""
        assert invoice.issued_at is not None
        data: dict[str, object] = {
            "invoice_id": invoice.invoice_id,
            "number": invoice.number,
            "kind": invoice.kind.value,
            "status": invoice.status.value,
            "total": invoice.total.to_json(),
            "amount_due": invoice.amount_due.to_json(),
            "due_date": invoice.due_date.isoformat(),
            "payment_method": invoice.payment_method.value if invoice.payment_method else None,
        }
        if invoice.payment_method is PaymentMethod.SEPA and invoice.instructions.get("sepa_mandate_reference"):
            data["sepa"] = {
                "mandate_reference": invoice.instructions["sepa_mandate_reference"],
                "creditor_identifier": invoice.instructions.get("sepa_creditor_identifier"),
                "debit_date": invoice.instructions.get("sepa_debit_date"),
                "amount": invoice.amount_due.to_json(),
            }
        return DomainEvent(
            event_id=f"{invoice.invoice_id}-created",
            type="invoice.created",
            occurred_at=invoice.issued_at,
            account_id=invoice.account_id,
            data=data,
        )
