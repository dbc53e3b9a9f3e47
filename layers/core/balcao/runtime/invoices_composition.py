"""Building the invoice use-cases with their adapters, once per container (the billing functions and the portal share
it). The company settings are read per call (cached 30 s by their store), so a staff change applies soon."""

from __future__ import annotations

from functools import cache

from balcao.adapters.clock import app_clock
from balcao.adapters.dynamodb.invoices import DynamoInvoiceStore, emit_once
from balcao.adapters.dynamodb.renewals import DynamoBillableServices, DynamoRenewalCoverage
from balcao.adapters.invoice_pdfs import S3InvoicePdfs
from balcao.adapters.s3 import S3Documents
from balcao.domain.invoice_document import InvoiceDocument
from balcao.domain.invoices import Invoice
from balcao.runtime import composition
from balcao.runtime.settings import load_settings
from balcao.services.invoice_documents import InvoiceDocuments
from balcao.services.invoices import Invoices
from balcao.services.renewals import Renewals


@cache
def invoice_store() -> DynamoInvoiceStore:
    return DynamoInvoiceStore()


@cache
def invoice_pdfs() -> S3InvoicePdfs:
    bucket = load_settings().documents_bucket
    return S3InvoicePdfs(S3Documents(bucket), bucket)


def _translate(language: str, message: str) -> str:
    from balcao.web.i18n import gettext

    return gettext(language, message)


def _render(document: InvoiceDocument) -> bytes:
    """The fpdf2 renderer, imported only when a PDF is made (fonts and fpdf2 stay out of other cold starts)."""
    from balcao.web.pdf import render_invoice_pdf

    return render_invoice_pdf(document)


def _cancel_charges(invoice: Invoice) -> None:
    """Before an invoice is cancelled, the payments capability cancels its open provider charges."""
    from balcao.runtime.payments_composition import payments

    payments().cancel_open_charges(invoice)


def invoices() -> Invoices:
    company = composition.company()
    return Invoices(
        store=invoice_store(),
        clock=app_clock(),
        settings=company.invoices,
        timezone=company.locale.timezone,
        translate=_translate,
        default_currency=company.locale.default_currency,
        before_cancel=_cancel_charges,
    )


def documents() -> InvoiceDocuments:
    company = composition.company()
    return InvoiceDocuments(
        invoices=invoices(),
        pdfs=invoice_pdfs(),
        render=_render,
        announce_once=emit_once,
        seller=company.invoices.seller,
        brand_name=company.brand.name,
    )


def renewals() -> Renewals:
    return Renewals(
        invoices=invoices(),
        services=DynamoBillableServices(),
        coverage=DynamoRenewalCoverage(app_clock()),
        batches=invoice_store(),
    )
