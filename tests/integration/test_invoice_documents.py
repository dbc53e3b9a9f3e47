"""Invoice PDFs and emails through the real path: issue → outbox → bus → documents queue (PDF in S3, then
"invoice created") → notifications (email with the PDF attached); payment confirmations and credit added.
PDFs are checked by text extraction (pypdf), page 1 rasterised into test-artifacts/pdf/."""

from __future__ import annotations

import os
from datetime import date
from io import BytesIO
from pathlib import Path

import boto3
import pypdfium2
from pypdf import PdfReader

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import AccountItem
from balcao.adapters.s3 import invoice_pdf_key
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.money import Money
from balcao.runtime.invoices_composition import invoices
from balcao.services.invoices import LineInput
from devstack import mail
from support.identity import given_account
from support.pipeline import Pipeline

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pdf"


def pdf_of(account_id: str, invoice_id: str) -> bytes:
    body: bytes = (
        boto3.client("s3")
        .get_object(Bucket=os.environ["DOCUMENTS_BUCKET"], Key=invoice_pdf_key(account_id, invoice_id))["Body"]
        .read()
    )
    return body


def text_of(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages).replace("\u00a0", " ")


def rasterise(pdf: bytes, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    page = pypdfium2.PdfDocument(pdf)[0]
    page.render(scale=1.5).to_pil().save(target)
    return target


def given_buyer(account_id: str, company: str) -> None:
    item = AccountItem.get(keys.account_pk(account_id), keys.PROFILE)
    item.update(actions=[AccountItem.company.set(company)])


def test_an_issued_invoice_gets_its_pdf_and_one_email_with_it_attached(aws, invoke, clock):
    # Given a Brazilian company account
    account = given_account("owner", email="financeiro@conceicao.example")
    given_buyer(account, "Conceição & Muñoz Ltda")
    # When an invoice of R$ 1.234,56 is issued and the events flow
    service = invoices()
    invoice = service.create(
        account, [LineInput("Hospedagem Profissional", 1, Money.of(123456, "BRL"), None)], issue=True
    )
    Pipeline(aws, invoke).run()
    # Then its PDF holds the number, the buyer and the totals as written in Brazil, accents intact
    pdf = pdf_of(account, invoice.invoice_id)
    text = text_of(pdf)
    assert invoice.number is not None and invoice.number in text
    assert "Conceição & Muñoz Ltda" in text and "R$ 1.234,56" in text and "Emitida" in text
    assert rasterise(pdf, "invoice-pt-BR").stat().st_size > 10_000
    # And one "invoice created" email went to the contract email, in Portuguese, with that PDF attached
    [message] = mail.sent_messages(to="financeiro@conceicao.example")
    assert message["subject"].strip() == f"Fatura {invoice.number}: R$ 1.234,56 com vencimento em 29 de nov. de 2026"
    assert message["attachments"] == [
        {"filename": f"{invoice.invoice_id}.pdf", "content_type": "application/pdf", "size": len(pdf)}
    ]
    assert f"/invoices/{invoice.invoice_id}" in message["text"] and "Emitimos a fatura" in message["text"]
    # And the event redelivered announces nothing again
    from balcao.domain.events import DomainEvent
    from balcao.runtime.invoices_composition import documents

    issued = DomainEvent("X", "invoice.issued", clock.now(), account, data={"invoice_id": invoice.invoice_id})
    assert documents().handle(issued) == "unchanged"
    Pipeline(aws, invoke).run()
    assert len(mail.sent_messages(to="financeiro@conceicao.example")) == 1


def test_a_spanish_invoice_prints_euros_the_spanish_way(aws, invoke, clock):
    # Given a Spanish account
    # When an invoice with a taxed and an untaxed line is issued and the events flow
    account = given_account(
        "owner-es", name="Estudio Ñandú", language="es", currency="EUR", email="cuentas@nandu.example"
    )
    service = invoices()
    invoice = service.create(
        account,
        [
            LineInput("Alojamiento Profesional — diseño.es", 1, Money.of(100000, "EUR"), "hosting"),
            LineInput("Saldo", 1, Money.of(2456, "EUR"), None),
        ],
        issue=True,
    )
    Pipeline(aws, invoke).run()
    pdf = pdf_of(account, invoice.invoice_id)
    text = text_of(pdf)
    # 1.000,00 € + IVA 21 % (210,00 €) + 24,56 € untaxed = 1.234,56 €
    # Then the PDF and the email show euros as written in Spain, IVA included
    assert invoice.total == Money.of(123456, "EUR")
    assert "Estudio Ñandú" in text and "1.234,56 €" in text and "210,00 €" in text and "diseño" in text
    rasterise(pdf, "invoice-es")
    [message] = mail.sent_messages(to="cuentas@nandu.example")
    assert message["subject"].strip() == f"Factura {invoice.number}: 1.234,56 € con vencimiento el 29 nov 2026"


def test_a_sepa_invoice_announces_the_pre_notification(aws, invoke, clock):
    # Given an invoice to be debited by SEPA on 2026-12-10
    # When the events flow
    account = given_account("owner-es", name="Estudio", language="es", currency="EUR", email="sepa@nandu.example")
    service = invoices()
    invoice = service.create(account, [LineInput("Dominio", 1, Money.of(1500, "EUR"), None)], issue=True)
    service.mark_payment_pending(
        account,
        invoice.invoice_id,
        PaymentMethod.SEPA,
        {
            "sepa_mandate_reference": "BALCAO-000042",
            "sepa_creditor_identifier": "ES12000B12345678",
            "sepa_debit_date": date(2026, 12, 10).isoformat(),
        },
    )
    Pipeline(aws, invoke).run()
    [message] = mail.sent_messages(to="sepa@nandu.example")
    # Then the email and the PDF carry the pre-notification: amount, date, mandate and creditor
    assert "Cargaremos 15,00\u00a0€ en tu cuenta el 10 dic 2026." in message["text"]
    assert "BALCAO-000042" in message["text"] and "ES12000B12345678" in message["text"]
    text = text_of(pdf_of(account, invoice.invoice_id))
    assert "BALCAO-000042" in text and "Pago en curso" in text


def test_payments_and_credit_send_their_emails_and_the_pdf_follows_the_status(aws, invoke, clock):
    # Given an issued invoice of R$ 100,00
    # When R$ 40,00 and then R$ 80,00 arrive
    account = given_account("owner", email="ana@example.com")
    service = invoices()
    invoice = service.create(account, [LineInput("Hospedagem", 1, Money.of(10000, "BRL"), None)], issue=True)
    Pipeline(aws, invoke).run()
    service.record_payment(invoice.invoice_id, Money.of(4000, "BRL"), PaymentMethod.PIX, "E2E-1")
    service.record_payment(invoice.invoice_id, Money.of(8000, "BRL"), PaymentMethod.PIX, "E2E-2")
    Pipeline(aws, invoke).run()
    subjects = sorted(m["subject"].strip() for m in mail.sent_messages(to="ana@example.com"))
    # Then the partial payment, the confirmation and the credit each have their email, and the PDF shows it paid
    assert f"Pagamento confirmado: fatura {invoice.number}" in subjects
    assert f"Pagamento recebido: fatura {invoice.number}" in subjects
    assert "R$ 20,00 adicionados ao seu crédito" in subjects
    [credit] = [m for m in mail.sent_messages(to="ana@example.com") if "crédito" in m["subject"]]
    assert "Seu saldo de crédito: R$\u00a020,00." in credit["text"]
    text = text_of(pdf_of(account, invoice.invoice_id))
    assert "Paga" in text and "R$ 0,00" in text
