"""The invoice and credit-note PDF: fpdf2 with the embedded DejaVu fonts, A4, in the document's language.

Only the PDF path imports this module, so fpdf2, segno and the fonts stay out of every other cold start. The two
DejaVu faces are parsed once per container (about 25 ms each: fpdf2 reads every glyph's width); each document gets
its own copy of a parsed face, sharing its widths and character map but with its own glyph subset and its own lazily
read font file, because fpdf2 records the glyphs a document uses on the face and subsets the font file in place when
the document is written.
Every label goes through ``gettext``, every amount through ``format_money`` and every date through ``format_day``.
The creation date is the issue date, so the same document always renders the same bytes.
"""

from __future__ import annotations

import copy
import functools
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import segno
from babel.numbers import format_percent
from fontTools import ttLib
from fpdf import FPDF
from fpdf.enums import Align, TableBordersLayout, TableHeadingsDisplay, WrapMode, XPos, YPos
from fpdf.fonts import FontFace, SubsetMap, TTFFont

from balcao.domain.errors import N_
from balcao.domain.invoice_document import (
    DocumentKind,
    DocumentLine,
    InvoiceDocument,
    PaymentInstructions,
    PaymentMethod,
)
from balcao.domain.money import Money
from balcao.web.i18n import LANGUAGES, babel_locale, format_day, format_money, format_number, gettext

FONTS_DIR = Path(__file__).parent / "fonts"
FONT_FAMILY = "DejaVu"
FONT_FILES: dict[str, Path] = {"": FONTS_DIR / "DejaVuSans.ttf", "B": FONTS_DIR / "DejaVuSans-Bold.ttf"}
PIX_QR_ERROR_LEVEL = "m"

PAGE_MARGIN_MM = 15.0
FOOTER_SPACE_MM = 20.0
QR_SIZE_MM = 40.0
LOGO_BOX_MM = (50.0, 18.0)

INK = (33, 37, 41)
MUTED = (108, 117, 125)
ACCENT = (31, 78, 121)
RULE = (206, 212, 218)
HEADING_FILL = (233, 237, 242)

TITLES: dict[DocumentKind, str] = {DocumentKind.INVOICE: N_("Invoice"), DocumentKind.CREDIT_NOTE: N_("Credit note")}
STATUS_LABELS: dict[str, str] = {
    "draft": N_("Draft"),
    "issued": N_("Issued"),
    "payment_pending": N_("Payment pending"),
    "partially_paid": N_("Partially paid"),
    "paid": N_("Paid"),
    "cancelled": N_("Cancelled"),
    "refunded": N_("Refunded"),
}
STATUS_COLOURS: dict[str, tuple[int, int, int]] = {
    "paid": (25, 135, 84),
    "cancelled": (176, 42, 55),
    "refunded": (176, 42, 55),
}
METHOD_TITLES: dict[PaymentMethod, str] = {
    PaymentMethod.CARD: N_("Card payment"),
    PaymentMethod.PIX: N_("PIX"),
    PaymentMethod.BOLETO: N_("Boleto"),
    PaymentMethod.SEPA: N_("SEPA Direct Debit"),
    PaymentMethod.CREDIT: N_("Account credit"),
}


@dataclass(frozen=True, slots=True)
class TotalRow:
    label: str
    value: str
    emphasised: bool = False


def render_invoice_pdf(document: InvoiceDocument) -> bytes:
    """The PDF of ``document``: the same document gives the same bytes."""
    if document.language not in LANGUAGES:
        raise ValueError(f"unsupported document language {document.language!r}")
    pdf = InvoicePdf(document)
    pdf.render()
    return bytes(pdf.output())


def format_digitable_line(line: str) -> str:
    """A bank boleto's 47-digit linha digitável in its printed groups (``AAAAA.AAAAA BBBBB.BBBBBB …``).

    Anything else (such as a 48-digit utility slip) is printed as given.
    """
    digits = "".join(character for character in line if character.isdigit())
    if len(digits) != 47:
        return line
    return (
        f"{digits[0:5]}.{digits[5:10]} {digits[10:15]}.{digits[15:21]} "
        f"{digits[21:26]}.{digits[26:32]} {digits[32]} {digits[33:47]}"
    )


def pix_qr_png(copy_paste: str) -> bytes:
    """The PIX QR code of a copia-e-cola payload, as a PNG."""
    buffer = BytesIO()
    segno.make(copy_paste, error=PIX_QR_ERROR_LEVEL, micro=False).save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


# The tables fpdf2 2.8 drops from every embedded font (OpenType layout, colour and bitmap glyphs): dropped once from
# the font file a container keeps, rather than read and dropped again for every document.
UNEMBEDDED_TABLES = (
    "FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "sbix", "CBDT", "CBLC", "EBDT", "EBLC", "EBSC", "SVG ",
    "CPAL", "COLR",
)  # fmt: skip


@functools.cache
def _parsed_face(style: str) -> tuple[TTFFont, bytes]:
    """A DejaVu face as fpdf2 parses it (read-only from here on), and its font file without the tables fpdf2 does
    not embed."""
    path = FONT_FILES[style]
    font_file = ttLib.TTFont(path, recalcTimestamp=False, lazy=True)
    for tag in UNEMBEDDED_TABLES:
        if tag in font_file:
            del font_file[tag]
    trimmed = BytesIO()
    font_file.save(trimmed)
    return TTFFont(FPDF(), path, f"{FONT_FAMILY.lower()}{style}", style), trimmed.getvalue()


def _face_for(pdf: FPDF, style: str) -> TTFFont:
    """A document's own copy of a parsed face (fpdf2 2.8's ``TTFFont``): what writing the document changes is its
    own — the glyph subset, the missing glyphs, the largest size used, the font descriptor (writing gives it the
    document's object number and font stream) and the font file it subsets. The widths and the character map are
    shared, read-only."""
    parsed, font_file = _parsed_face(style)
    face = copy.copy(parsed)
    face.i = len(pdf.fonts) + 1
    face.desc = copy.copy(parsed.desc)
    face.ttfont = ttLib.TTFont(BytesIO(font_file), recalcTimestamp=False, fontNumber=0, lazy=True)
    face.subset = SubsetMap(face)
    face.missing_glyphs = []
    face.biggest_size_pt = 0
    return face


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


class InvoicePdf(FPDF):
    """One document's pages: the first carries the full header, later ones a short one; every page a footer."""

    def __init__(self, document: InvoiceDocument) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.document = document
        for style in FONT_FILES:
            face = _face_for(self, style)
            self.fonts[face.fontkey] = face
        self.set_margins(PAGE_MARGIN_MM, PAGE_MARGIN_MM, PAGE_MARGIN_MM)
        self.set_auto_page_break(auto=True, margin=FOOTER_SPACE_MM)
        self.set_creation_date(datetime.combine(document.issue_date, time(), tzinfo=UTC))
        self.set_lang(document.language)
        self.set_title(f"{self.label(TITLES[document.kind])} {self.number_text}")
        self.set_author(document.seller.name)
        self.set_text_color(*INK)

    # Text helpers

    def label(self, msgid: str) -> str:
        return gettext(self.document.language, msgid)

    def money(self, amount: Money) -> str:
        return format_money(amount, self.document.language)

    def day(self, value: date) -> str:
        return format_day(value, self.document.language)

    def percent(self, rate: Decimal) -> str:
        return format_percent(rate / 100, locale=babel_locale(self.document.language), decimal_quantization=False)

    @property
    def number_text(self) -> str:
        return self.document.number if self.document.number is not None else self.label(N_("DRAFT"))

    def write_lines(
        self,
        x: float,
        width: float,
        lines: Sequence[str],
        size: float = 9,
        bold: bool = False,
        colour: tuple[int, int, int] = INK,
        align: Align = Align.L,
        line_height: float = 4.4,
    ) -> None:
        self.set_font(FONT_FAMILY, "B" if bold else "", size)
        self.set_text_color(*colour)
        for line in lines:
            self.set_x(x)
            self.multi_cell(width, line_height, line, align=align, new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.set_text_color(*INK)

    # Page furniture

    def header(self) -> None:
        if self.page_no() == 1:
            return
        title = f"{self.label(TITLES[self.document.kind])} {self.number_text}"
        self.set_font(FONT_FAMILY, "B", 9)
        self.set_text_color(*MUTED)
        self.cell(self.epw / 2, 5, self.document.seller.name)
        self.cell(self.epw / 2, 5, title, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y() + 1, self.l_margin + self.epw, self.get_y() + 1)
        self.set_text_color(*INK)
        self.ln(5)

    def footer(self) -> None:
        seller = self.document.seller
        self.set_y(-12)
        self.set_font(FONT_FAMILY, "", 7.5)
        self.set_text_color(*MUTED)
        identity = " · ".join(part for part in (seller.name, seller.tax_id) if part)
        page = self.label(N_("Page {page} of {pages}")).format(page=self.page_no(), pages=self.str_alias_nb_pages)
        self.cell(self.epw * 0.7, 5, identity)
        # The page count is substituted when the file is written, so align on the width of the current page number.
        width = self.get_string_width(page.replace(self.str_alias_nb_pages, str(self.page_no()))) + 2 * self.c_margin
        self.set_x(self.l_margin + self.epw - width)
        self.cell(width, 5, page)
        self.set_text_color(*INK)

    # The document

    def render(self) -> None:
        self.add_page()
        self.write_header()
        self.write_buyer()
        self.write_lines_table()
        self.write_totals()
        self.write_notes()
        payment = self.document.instructions_to_print
        if payment is not None:
            self.write_payment(payment)

    def write_header(self) -> None:
        document = self.document
        seller = document.seller
        top = self.get_y()
        left_width = self.epw * 0.55
        if seller.logo_png is not None:
            box_width, box_height = LOGO_BOX_MM
            pixel_width, pixel_height = _png_size(seller.logo_png)
            scale = min(box_width / pixel_width, box_height / pixel_height)
            height = pixel_height * scale
            self.image(BytesIO(seller.logo_png), x=self.l_margin, y=top, w=pixel_width * scale, h=height)
            self.set_y(top + height + 3)
        self.write_lines(self.l_margin, left_width, [seller.name], size=12, bold=True, line_height=6)
        details = [part for part in (seller.tax_id, *seller.address_lines, seller.email, seller.phone) if part]
        self.write_lines(self.l_margin, left_width, details, size=8.5, colour=MUTED, line_height=4.2)
        left_bottom = self.get_y()

        right_x = self.l_margin + left_width
        right_width = self.epw - left_width
        self.set_y(top)
        self.write_lines(
            right_x,
            right_width,
            [self.label(TITLES[document.kind])],
            size=18,
            bold=True,
            colour=ACCENT,
            align=Align.R,
            line_height=9,
        )
        self.write_lines(right_x, right_width, [self.number_text], size=12, bold=True, align=Align.R, line_height=6)
        status = f"{self.label(N_('Status'))}: {self.label(STATUS_LABELS[document.status])}"
        self.write_lines(
            right_x,
            right_width,
            [status],
            size=9,
            bold=True,
            colour=STATUS_COLOURS.get(document.status, ACCENT),
            align=Align.R,
        )
        facts = [f"{self.label(N_('Issue date'))}: {self.day(document.issue_date)}"]
        if document.kind is DocumentKind.INVOICE:
            facts.append(f"{self.label(N_('Due date'))}: {self.day(document.due_date)}")
        facts.extend(f"{self.label(reference.label)}: {reference.value}" for reference in document.references)
        self.write_lines(right_x, right_width, facts, size=9, align=Align.R)
        self.set_y(max(left_bottom, self.get_y()) + 6)

    def write_buyer(self) -> None:
        buyer = self.document.buyer
        width = self.epw * 0.6
        self.write_lines(self.l_margin, width, [self.label(N_("Bill to")).upper()], size=7.5, bold=True, colour=MUTED)
        self.write_lines(self.l_margin, width, [buyer.name], size=10.5, bold=True, line_height=5.5)
        details = [part for part in (buyer.tax_id, *buyer.address_lines, buyer.email, buyer.phone) if part]
        self.write_lines(self.l_margin, width, details, size=9)
        self.ln(6)

    def write_lines_table(self) -> None:
        headings = (N_("Description"), N_("Qty"), N_("Unit price"), N_("Tax"), N_("Total"))
        self.set_font(FONT_FAMILY, "", 8.5)
        self.set_draw_color(*RULE)
        with self.table(
            col_widths=(80, 14, 30, 22, 34),
            text_align=(Align.L, Align.R, Align.R, Align.R, Align.R),
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            headings_style=FontFace(emphasis="BOLD", color=INK, fill_color=HEADING_FILL),
            line_height=4.0,
            padding=(1.1, 1.5),
            repeat_headings=TableHeadingsDisplay.ON_TOP_OF_EVERY_PAGE,
        ) as table:
            heading_row = table.row()
            for heading in headings:
                heading_row.cell(self.label(heading))
            for line in self.document.lines:
                row = table.row()
                row.cell(self.line_description(line))
                row.cell(format_number(line.quantity, self.document.language))
                row.cell(self.money(line.unit_price))
                row.cell(self.percent(line.tax_rate_percent))
                row.cell(self.money(line.total))
        self.ln(4)

    def line_description(self, line: DocumentLine) -> str:
        if line.period_start is None or line.period_end is None:
            return line.description
        return f"{line.description}\n{self.day(line.period_start)} – {self.day(line.period_end)}"

    def write_totals(self) -> None:
        document = self.document
        rows = [TotalRow(self.label(N_("Subtotal")), self.money(document.subtotal))]
        if document.tax_breakdown:
            rows.extend(
                TotalRow(
                    self.label(N_("{tax} {rate} on {base}")).format(
                        tax=tax.label, rate=self.percent(tax.rate_percent), base=self.money(tax.base)
                    ),
                    self.money(tax.tax),
                )
                for tax in document.tax_breakdown
            )
        else:
            rows.append(TotalRow(self.label(N_("Taxes")), self.money(document.tax)))
        rows.extend(
            (
                TotalRow(self.label(N_("Total")), self.money(document.total), emphasised=True),
                TotalRow(self.label(N_("Amount paid")), self.money(document.amount_paid)),
                TotalRow(self.label(N_("Amount due")), self.money(document.amount_due), emphasised=True),
            )
        )
        row_height = 6.0
        if self.will_page_break(row_height * len(rows)):
            self.add_page()
        value_width = 36.0
        label_width = 74.0
        x = self.l_margin + self.epw - value_width - label_width
        for row in rows:
            self.set_x(x)
            if row.emphasised:
                self.set_draw_color(*RULE)
                self.line(x, self.get_y(), x + label_width + value_width, self.get_y())
            self.set_font(FONT_FAMILY, "B" if row.emphasised else "", 10 if row.emphasised else 9)
            self.cell(label_width, row_height, row.label, align=Align.R)
            self.cell(value_width, row_height, row.value, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(4)

    def write_notes(self) -> None:
        if self.document.notes:
            self.write_lines(self.l_margin, self.epw, self.document.notes, size=8.5, colour=MUTED)
            self.ln(3)

    def write_payment(self, payment: PaymentInstructions) -> None:
        needed = QR_SIZE_MM + 16 if payment.method is PaymentMethod.PIX else 36
        if self.will_page_break(needed):
            self.add_page()
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y(), self.l_margin + self.epw, self.get_y())
        self.ln(3)
        heading = f"{self.label(N_('How to pay'))}: {self.label(METHOD_TITLES[payment.method])}"
        self.write_lines(self.l_margin, self.epw, [heading], size=11, bold=True, colour=ACCENT, line_height=6)
        self.ln(1)
        if payment.method is PaymentMethod.PIX and payment.pix_copy_paste:
            self.write_pix(payment.pix_copy_paste)
        if payment.method is PaymentMethod.BOLETO and payment.boleto_digitable_line:
            self.write_boleto(payment.boleto_digitable_line, payment.boleto_due_date)
        if payment.method is PaymentMethod.SEPA:
            self.write_sepa(payment.sepa_mandate_reference, payment.sepa_creditor_identifier, payment.sepa_debit_date)
        if payment.method is PaymentMethod.CARD and payment.pay_url is None:
            self.write_lines(self.l_margin, self.epw, [self.label(N_("The amount due will be charged to your card."))])
        if payment.method is PaymentMethod.CREDIT:
            self.write_lines(
                self.l_margin, self.epw, [self.label(N_("The amount due will be paid from your account credit."))]
            )
        if payment.bank_details:
            self.ln(2)
            self.write_lines(self.l_margin, self.epw, [self.label(N_("Bank transfer"))], bold=True)
            self.write_lines(self.l_margin, self.epw, payment.bank_details.splitlines())
        if payment.pay_url:
            self.ln(2)
            self.write_lines(self.l_margin, self.epw, [self.label(N_("Pay online"))], bold=True)
            self.set_font(FONT_FAMILY, "", 9)
            self.set_text_color(*ACCENT)
            self.multi_cell(
                self.epw,
                4.4,
                payment.pay_url,
                link=payment.pay_url,
                wrapmode=WrapMode.CHAR,
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            self.set_text_color(*INK)

    def write_pix(self, copy_paste: str) -> None:
        top = self.get_y()
        self.image(BytesIO(pix_qr_png(copy_paste)), x=self.l_margin, y=top, w=QR_SIZE_MM, h=QR_SIZE_MM)
        text_x = self.l_margin + QR_SIZE_MM + 6
        text_width = self.epw - QR_SIZE_MM - 6
        self.set_y(top + 2)
        instruction = N_("Scan the QR code in your bank's app, or copy the PIX copia e cola code:")
        self.write_lines(text_x, text_width, [self.label(instruction)], size=9)
        self.ln(1.5)
        self.set_font(FONT_FAMILY, "", 8)
        self.set_x(text_x)
        self.multi_cell(text_width, 4, copy_paste, wrapmode=WrapMode.CHAR, new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.set_y(max(self.get_y(), top + QR_SIZE_MM) + 2)

    def write_boleto(self, digitable_line: str, due_date: date | None) -> None:
        self.write_lines(self.l_margin, self.epw, [self.label(N_("Digitable line"))], size=8.5, colour=MUTED)
        self.set_font(FONT_FAMILY, "B", 11)
        self.set_char_spacing(0.4)
        self.cell(self.epw, 7, format_digitable_line(digitable_line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_char_spacing(0)
        if due_date is not None:
            self.write_lines(self.l_margin, self.epw, [f"{self.label(N_('Due date'))}: {self.day(due_date)}"])

    def write_sepa(
        self, mandate_reference: str | None, creditor_identifier: str | None, debit_date: date | None
    ) -> None:
        facts = []
        if mandate_reference:
            facts.append(f"{self.label(N_('Mandate reference'))}: {mandate_reference}")
        if creditor_identifier:
            facts.append(f"{self.label(N_('Creditor identifier'))}: {creditor_identifier}")
        self.write_lines(self.l_margin, self.epw, facts)
        if debit_date is not None:
            notice = self.label(N_("We will debit {amount} from your account on {date}.")).format(
                amount=self.money(self.document.amount_due), date=self.day(debit_date)
            )
            self.ln(1)
            self.write_lines(self.l_margin, self.epw, [notice], bold=True)
