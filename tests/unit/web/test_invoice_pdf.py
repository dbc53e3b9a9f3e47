"""The invoice PDF: text extracted with pypdf, page 1 rasterised with pypdfium2 into test-artifacts/pdf/."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pypdfium2
import pytest
import segno
from PIL import Image
from pypdf import PdfReader

from balcao.domain.errors import CurrencyMismatchError
from balcao.domain.invoice_document import (
    DOCUMENT_STATUSES,
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
from balcao.domain.money import Currency, Money
from balcao.web.pdf import PIX_QR_ERROR_LEVEL, STATUS_LABELS, format_digitable_line, render_invoice_pdf

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "pdf"
PIX_CODE = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "52040000530398654071234.565802BR5923HOSPEDAGEM EXEMPLO LTDA6009SAO PAULO62140510FAT0001236304B1C2"
)
BOLETO_DIGITS = "23790504004199090137630008305208184470000010000"
BOLETO_PRINTED = "23790.50400 41990.901376 30008.305208 1 84470000010000"


def brl(amount: int) -> Money:
    return Money.of(amount, Currency.BRL)


def eur(amount: int) -> Money:
    return Money.of(amount, Currency.EUR)


def brazilian_invoice() -> InvoiceDocument:
    return InvoiceDocument(
        kind=DocumentKind.INVOICE,
        number="2025-000123",
        status="issued",
        issue_date=date(2025, 3, 1),
        due_date=date(2025, 3, 15),
        language="pt-BR",
        currency=Currency.BRL,
        seller=Party(
            name="Hospedagem Exemplo Ltda",
            tax_id="CNPJ 12.345.678/0001-90",
            address_lines=("Av. Paulista, 1000 – Bela Vista", "São Paulo – SP, 01310-100"),
            email="financeiro@hospedagem.example",
            phone="+55 11 4000-1234",
        ),
        buyer=Party(
            name="João Araújo Ltda",
            tax_id="CNPJ 98.765.432/0001-10",
            address_lines=("Rua da Consolação, 250", "São Paulo – SP, 01302-000"),
            email="contas@joaoaraujo.example",
        ),
        lines=(
            DocumentLine(
                description="Hospedagem Profissional (plano anual)",
                quantity=1,
                unit_price=brl(107577),
                tax_rate_percent=Decimal("5"),
                total=brl(107577),
                period_start=date(2025, 3, 15),
                period_end=date(2026, 3, 14),
            ),
            DocumentLine(
                description="Renovação do domínio joaoaraujo.com.br",
                quantity=2,
                unit_price=brl(5000),
                tax_rate_percent=Decimal("5"),
                total=brl(10000),
            ),
        ),
        subtotal=brl(117577),
        tax=brl(5879),
        total=brl(123456),
        amount_paid=brl(0),
        amount_due=brl(123456),
        tax_breakdown=(TaxBreakdownLine(label="ISS", rate_percent=Decimal("5"), base=brl(117577), tax=brl(5879)),),
        notes=("Serviço prestado em São Paulo; ISS recolhido pelo prestador.",),
        payment=PaymentInstructions(method=PaymentMethod.PIX, pix_copy_paste=PIX_CODE),
    )


def spanish_invoice() -> InvoiceDocument:
    return InvoiceDocument(
        kind=DocumentKind.INVOICE,
        number="A2025/000045",
        status="payment_pending",
        issue_date=date(2025, 4, 2),
        due_date=date(2025, 4, 16),
        language="es",
        currency=Currency.EUR,
        seller=Party(
            name="Alojamiento Ejemplo S.L.",
            tax_id="NIF B12345678",
            address_lines=("Calle de Alcalá, 100", "28009 Madrid"),
            email="facturacion@alojamiento.example",
        ),
        buyer=Party(
            name="Peña y Núñez S.L.",
            tax_id="NIF B87654321",
            address_lines=("Avenida de la Constitución, 5", "41004 Sevilla"),
        ),
        lines=(
            DocumentLine(
                description="Alojamiento Profesional (anual)",
                quantity=1,
                unit_price=eur(90030),
                tax_rate_percent=Decimal("21"),
                total=eur(90030),
                period_start=date(2025, 4, 16),
                period_end=date(2026, 4, 15),
            ),
            DocumentLine(
                description="Certificado SSL para peñaynúñez.es",
                quantity=2,
                unit_price=eur(6000),
                tax_rate_percent=Decimal("21"),
                total=eur(12000),
            ),
        ),
        subtotal=eur(102030),
        tax=eur(21426),
        total=eur(123456),
        amount_paid=eur(0),
        amount_due=eur(123456),
        tax_breakdown=(TaxBreakdownLine(label="IVA", rate_percent=Decimal("21"), base=eur(102030), tax=eur(21426)),),
        payment=PaymentInstructions(
            method=PaymentMethod.SEPA,
            sepa_mandate_reference="MANDATO-000789",
            sepa_creditor_identifier="ES12ZZZB12345678",
            sepa_debit_date=date(2025, 4, 16),
        ),
    )


def english_invoice() -> InvoiceDocument:
    return InvoiceDocument(
        kind=DocumentKind.INVOICE,
        number="2025-000200",
        status="partially_paid",
        issue_date=date(2025, 5, 10),
        due_date=date(2025, 5, 24),
        language="en",
        currency=Currency.BRL,
        seller=Party(name="Hospedagem Exemplo Ltda", tax_id="CNPJ 12.345.678/0001-90", logo_png=logo_png()),
        buyer=Party(name="Ana Conceição", address_lines=("Rua Augusta, 77", "São Paulo – SP")),
        lines=(
            DocumentLine(
                description="VPS 4 GB",
                quantity=3,
                unit_price=brl(50000),
                tax_rate_percent=Decimal("0"),
                total=brl(150000),
                period_start=date(2025, 5, 24),
                period_end=date(2025, 6, 23),
            ),
        ),
        subtotal=brl(150000),
        tax=brl(0),
        total=brl(150000),
        amount_paid=brl(26544),
        amount_due=brl(123456),
        payment=PaymentInstructions(
            method=PaymentMethod.BOLETO,
            boleto_digitable_line=BOLETO_DIGITS,
            boleto_due_date=date(2025, 5, 24),
            pay_url="https://pay.hospedagem.example/boleto/2025-000200",
        ),
    )


def long_invoice() -> InvoiceDocument:
    lines = tuple(
        DocumentLine(
            description=f"Mailbox {number:02d} for añejo-{number:02d}.example",
            quantity=1,
            unit_price=eur(1000 + number),
            tax_rate_percent=Decimal("21"),
            total=eur(1000 + number),
            period_start=date(2025, 6, 1),
            period_end=date(2025, 6, 30),
        )
        for number in range(1, 61)
    )
    subtotal = eur(sum(line.total.amount for line in lines))
    tax = subtotal.percent(Decimal("21"))
    return InvoiceDocument(
        kind=DocumentKind.INVOICE,
        number="A2025/000046",
        status="paid",
        issue_date=date(2025, 6, 1),
        due_date=date(2025, 6, 15),
        language="en",
        currency=Currency.EUR,
        seller=Party(name="Alojamiento Ejemplo S.L.", tax_id="NIF B12345678"),
        buyer=Party(name="Peña y Núñez S.L."),
        lines=lines,
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        amount_paid=subtotal + tax,
        amount_due=eur(0),
        payment=PaymentInstructions(method=PaymentMethod.SEPA, sepa_mandate_reference="MANDATO-000789"),
    )


def logo_png() -> bytes:
    buffer = BytesIO()
    segno.make("Hospedagem Exemplo", micro=False).save(buffer, kind="png", scale=4, border=1, dark="#1f4e79")
    return buffer.getvalue()


def extracted_text(pdf: bytes) -> list[str]:
    """Each page's text, with non-breaking spaces (Babel puts them in amounts) as plain spaces."""
    reader = PdfReader(BytesIO(pdf))
    return [page.extract_text().replace("\xa0", " ").replace("\u202f", " ") for page in reader.pages]


def rasterise_first_page(pdf: bytes, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    document = pypdfium2.PdfDocument(pdf)
    try:
        document[0].render(scale=150 / 72).to_pil().save(target)
    finally:
        document.close()
    return target


def dark_share(png: Path) -> float:
    with Image.open(png) as image:
        histogram = image.convert("L").histogram()
    return sum(histogram[:128]) / sum(histogram)


def test_a_brazilian_invoice_prints_its_number_buyer_and_totals_in_brazilian_portuguese():
    # Given an issued BRL invoice in pt-BR for João Araújo Ltda, paid by PIX
    document = brazilian_invoice()

    # When it is rendered and its text extracted
    pages = extracted_text(render_invoice_pdf(document))

    # Then it fits on one page with the number, the buyer and Brazilian amounts and dates, accents intact
    assert len(pages) == 1
    text = pages[0]
    assert "2025-000123" in text
    assert "João Araújo Ltda" in text
    assert "Rua da Consolação, 250" in text
    assert "São Paulo" in text
    assert "R$ 1.234,56" in text
    assert "R$ 1.175,77" in text
    assert "R$ 58,79" in text
    assert "5%" in text
    assert "1 de mar. de 2025" in text and "15 de mar. de 2025" in text
    assert "ã" in text and "ç" in text
    # and the PIX copia e cola code, wrapped over lines, is complete
    assert PIX_CODE.replace(" ", "") in text.replace("\n", "").replace(" ", "")


def test_a_spanish_invoice_prints_euro_amounts_the_spanish_way():
    # Given a EUR invoice in es for Peña y Núñez S.L., paid by SEPA direct debit
    document = spanish_invoice()

    # When it is rendered and its text extracted
    text = extracted_text(render_invoice_pdf(document))[0]

    # Then the number, the buyer and the totals are there, with ñ and € intact
    assert "A2025/000045" in text
    assert "Peña y Núñez S.L." in text
    assert "1.234,56 €" in text
    assert "1.020,30 €" in text
    assert "214,26 €" in text
    assert "21 %" in text
    assert "ñ" in text and "€" in text
    # and the SEPA pre-notification names the mandate, the creditor and the debit date
    assert "MANDATO-000789" in text
    assert "ES12ZZZB12345678" in text
    assert "16 abr 2025" in text


def test_an_english_invoice_prints_the_boleto_line_in_its_groups_and_the_pay_url():
    # Given a partially paid BRL invoice in English, with a logo, paid by boleto
    document = english_invoice()

    # When it is rendered and its text extracted
    text = extracted_text(render_invoice_pdf(document))[0]

    # Then the English labels, the amounts, the boleto line and its due date are printed
    assert "Invoice" in text and "2025-000200" in text
    assert "Status: Partially paid" in text
    assert "Ana Conceição" in text
    assert "R$1,500.00" in text and "R$265.44" in text and "R$1,234.56" in text
    assert BOLETO_PRINTED in text
    assert "Due date: May 24, 2025" in text
    assert "https://pay.hospedagem.example/boleto/2025-000200" in text


def test_a_long_invoice_breaks_across_pages_and_repeats_the_table_header():
    # Given a paid invoice of 60 lines
    document = long_invoice()

    # When it is rendered
    pdf = render_invoice_pdf(document)
    pages = extracted_text(pdf)

    # Then every line is printed once, over several numbered pages that each repeat the table header
    assert len(pages) >= 2
    text = "\n".join(pages)
    for number in range(1, 61):
        assert text.count(f"Mailbox {number:02d} for añejo-{number:02d}.example") == 1
    for page_number, page in enumerate(pages, start=1):
        assert "Description" in page and "Unit price" in page
        assert f"Page {page_number} of {len(pages)}" in page
    assert "A2025/000046" in pages[1]
    # and a paid invoice shows no payment instructions
    assert "€0.00" in pages[-1]
    assert "How to pay" not in text
    assert rasterise_first_page(pdf, "invoice-long-en").stat().st_size > 0


def test_a_draft_credit_note_prints_draft_and_the_invoice_it_corrects():
    # Given a draft credit note (no number yet) against a Brazilian invoice
    document = dataclasses.replace(
        brazilian_invoice(),
        kind=DocumentKind.CREDIT_NOTE,
        number=None,
        status="draft",
        language="en",
        references=(DocumentReference(label=REFERENCE_ORIGINAL_INVOICE, value="2025-000123"),),
        payment=None,
    )

    # When it is rendered
    text = extracted_text(render_invoice_pdf(document))[0]

    # Then it is titled a credit note, marked DRAFT and names the original invoice
    assert "Credit note" in text
    assert "DRAFT" in text
    assert "Original invoice: 2025-000123" in text
    assert "Due date" not in text


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("invoice-pt-BR-pix", brazilian_invoice),
        ("invoice-es-sepa", spanish_invoice),
        ("invoice-en-boleto", english_invoice),
    ],
)
def test_page_one_rasterises_to_a_non_blank_png(name, build):
    # Given a rendered invoice
    pdf = render_invoice_pdf(build())

    # When page 1 is rasterised into the artifacts folder
    png = rasterise_first_page(pdf, name)

    # Then the image holds ink, but is mostly paper
    assert 0.005 < dark_share(png) < 0.5


def test_the_pix_qr_code_on_the_page_encodes_the_copia_e_cola_code():
    # Given a Brazilian invoice paid by PIX, rendered
    pdf = render_invoice_pdf(brazilian_invoice())

    # When the one image of page 1 is read back module by module
    images = PdfReader(BytesIO(pdf)).pages[0].images
    assert len(images) == 1
    picture = images[0].image.convert("L")
    left, top, right, bottom = picture.point(lambda value: 255 if value < 128 else 0).getbbox()
    assert right - left == bottom - top
    expected = segno.make(PIX_CODE, error=PIX_QR_ERROR_LEVEL, micro=False)
    size = expected.symbol_size(border=0)[0]
    module = (right - left) / size
    read = [
        [
            picture.getpixel((int(left + (column + 0.5) * module), int(top + (row + 0.5) * module))) < 128
            for column in range(size)
        ]
        for row in range(size)
    ]

    # Then it is the QR code of the copia-e-cola payload
    assert read == [[bool(cell) for cell in row] for row in expected.matrix]


@pytest.mark.parametrize(
    ("payment", "printed"),
    [
        (PaymentInstructions(method=PaymentMethod.CARD), "The amount due will be charged to your card."),
        (PaymentInstructions(method=PaymentMethod.CREDIT), "The amount due will be paid from your account credit."),
        (
            PaymentInstructions(method=PaymentMethod.CARD, pay_url="https://pay.hospedagem.example/i/2025-000123"),
            "Pay online\nhttps://pay.hospedagem.example/i/2025-000123",
        ),
        (
            PaymentInstructions(
                method=PaymentMethod.PIX, bank_details="Banco Exemplo 001\nAgência 0001 · Conta 12345-6"
            ),
            "Bank transfer\nBanco Exemplo 001\nAgência 0001 · Conta 12345-6",
        ),
    ],
)
def test_each_payment_method_prints_its_instructions(payment, printed):
    # Given an open invoice in English with a chosen payment method
    document = dataclasses.replace(brazilian_invoice(), language="en", payment=payment)

    # When it is rendered
    text = extracted_text(render_invoice_pdf(document))[0]

    # Then the method's instructions follow its heading
    assert "How to pay" in text
    assert printed in text


def test_every_label_is_translated_into_the_document_language(monkeypatch):
    # Given a gettext that marks what it translates and records the language asked for
    asked: list[tuple[str, str]] = []

    def marking_gettext(language: str, message: str) -> str:
        asked.append((language, message))
        return f"«{message}»"

    monkeypatch.setattr("balcao.web.pdf.gettext", marking_gettext)

    # When a pt-BR invoice is rendered
    text = extracted_text(render_invoice_pdf(brazilian_invoice()))[0]

    # Then every label was asked in pt-BR and the translations are what is printed
    assert {language for language, _ in asked} == {"pt-BR"}
    for label in ("Invoice", "Bill to", "Description", "Unit price", "Subtotal", "Amount due", "How to pay"):
        assert f"«{label}»" in text or f"«{label}»".upper() in text
    assert "«Page 1 of 1»" in text


def test_the_same_document_renders_the_same_bytes():
    # Given a document rendered once, then another document, then the first again
    first = render_invoice_pdf(brazilian_invoice())
    render_invoice_pdf(spanish_invoice())

    # When it is rendered again
    again = render_invoice_pdf(brazilian_invoice())

    # Then the bytes are identical
    assert first == again


def test_documents_rendered_at_once_in_one_process_are_the_documents_rendered_alone():
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    # Given two documents and their bytes when each is rendered alone
    documents = [brazilian_invoice(), spanish_invoice()] * 4
    alone = [render_invoice_pdf(document) for document in documents[:2]] * 4
    start = Barrier(len(documents))

    def render(document: InvoiceDocument) -> bytes:
        start.wait()
        return render_invoice_pdf(document)

    # When eight threads render them at the same moment (the parsed fonts are shared by the process)
    with ThreadPoolExecutor(max_workers=len(documents)) as pool:
        together = list(pool.map(render, documents))

    # Then each is byte for byte what it is alone
    assert together == alone


def test_every_invoice_status_has_a_label():
    # Given the statuses a document may carry and the labels the PDF prints
    # When they are compared
    missing = DOCUMENT_STATUSES - STATUS_LABELS.keys()

    # Then none is missing
    assert missing == set()


def test_a_document_with_an_unknown_status_or_another_currency_is_refused():
    # Given a valid document
    document = brazilian_invoice()

    # When a status outside the invoice's statuses or an amount in another currency is used
    # Then the document cannot be built
    with pytest.raises(ValueError, match="status"):
        dataclasses.replace(document, status="lost")
    with pytest.raises(CurrencyMismatchError):
        dataclasses.replace(document, amount_paid=eur(0))


@pytest.mark.parametrize(
    ("given", "printed"),
    [
        (BOLETO_DIGITS, BOLETO_PRINTED),
        (BOLETO_PRINTED, BOLETO_PRINTED),
        ("836200000005667800481000180975657313001589636081", "836200000005667800481000180975657313001589636081"),
        ("not a boleto", "not a boleto"),
    ],
)
def test_a_digitable_line_is_printed_in_its_groups(given, printed):
    # Given a boleto's digitable line as digits or already grouped
    # When it is formatted for print
    # Then a bank boleto's 47 digits show as 5.5 5.6 5.6 1 14, and anything else is printed as given
    assert format_digitable_line(given) == printed
