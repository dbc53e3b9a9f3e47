"""Tickets domain: who spoke last sets the status, what an upload must prove, plain text only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from balcao.domain.errors import InvalidInputError
from balcao.domain.tickets import (
    MAX_ATTACHMENT_BYTES,
    AttachmentRefusedError,
    MessageKind,
    Person,
    Ticket,
    TicketAlreadyClosedError,
    TicketKind,
    TicketMessage,
    TicketNotClosedError,
    TicketPriority,
    TicketStatus,
    after_customer_reply,
    after_staff_reply,
    auto_close_cutoff,
    check_browser_upload,
    check_upload,
    clean_text,
    closed,
    customer_view,
    display_number,
    reopened,
    safe_filename,
    sniff_content_type,
    summary,
    ticket_number,
    validate_message,
    validate_subject,
    with_status,
)

OPENED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LATER = OPENED + timedelta(hours=3)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
ANA = Person("u-ana", "Ana", "ana@example.com", "pt-BR")


def a_ticket(status: TicketStatus = TicketStatus.OPEN) -> Ticket:
    return Ticket(
        ticket_id="T1",
        account_id="A1",
        account_name="Loja",
        number="482913",
        kind=TicketKind.ISSUE,
        department="technical_support",
        subject="Site fora do ar",
        status=status,
        priority=TicketPriority.MEDIUM,
        opened_by=ANA,
        created_at=OPENED,
        last_activity_at=OPENED,
        waiting_since=OPENED,
    )


def test_a_staff_reply_answers_and_a_customer_reply_hands_the_ticket_back():
    # Given an open ticket
    ticket = a_ticket()
    # When the staff reply, then the customer replies
    answered = after_staff_reply(ticket, LATER)
    replied = after_customer_reply(answered, LATER + timedelta(hours=1))
    # Then the status follows who spoke last, and waiting time restarts each time
    assert answered.status is TicketStatus.ANSWERED and answered.waiting_since == LATER
    assert replied.status is TicketStatus.CUSTOMER_REPLY and replied.waiting_since == LATER + timedelta(hours=1)


def test_a_customer_reply_reopens_a_closed_ticket():
    # Given a closed ticket
    ticket = closed(a_ticket(), LATER)
    # When the customer replies
    replied = after_customer_reply(ticket, LATER + timedelta(days=1))
    # Then it waits for the staff again, no longer closed
    assert replied.status is TicketStatus.CUSTOMER_REPLY and replied.closed_at is None


def test_close_and_reopen_are_each_refused_in_the_wrong_status():
    # Given an open ticket and a closed one
    open_ticket, closed_ticket = a_ticket(), closed(a_ticket(), LATER)
    # When the open one is reopened or the closed one closed again
    # Then each is a conflict; closing and reopening in the right status work
    with pytest.raises(TicketNotClosedError):
        reopened(open_ticket, LATER)
    with pytest.raises(TicketAlreadyClosedError):
        closed(closed_ticket, LATER)
    assert closed_ticket.closed_at == LATER
    assert reopened(closed_ticket, LATER).status is TicketStatus.OPEN


def test_parking_a_ticket_keeps_how_long_the_customer_has_waited():
    # Given a ticket waiting since it was opened
    ticket = a_ticket()
    # When staff put it on hold, then set it answered by hand
    on_hold = with_status(ticket, TicketStatus.ON_HOLD, LATER)
    answered = with_status(on_hold, TicketStatus.ANSWERED, LATER + timedelta(hours=1))
    # Then on hold keeps the waiting time; answered starts the customer's
    assert on_hold.status is TicketStatus.ON_HOLD and on_hold.waiting_since == OPENED
    assert answered.waiting_since == LATER + timedelta(hours=1)
    assert with_status(closed(ticket, LATER), TicketStatus.IN_PROGRESS, LATER).status is TicketStatus.IN_PROGRESS


def test_auto_close_takes_tickets_answered_at_least_the_window_ago():
    # Given a 7-day window, when the job runs 7 days after an answer, then that answer is exactly at the cutoff
    assert auto_close_cutoff(OPENED + timedelta(days=7), 7) == OPENED


def test_internal_notes_never_reach_the_customer_view():
    # Given a reply and a note
    reply = TicketMessage("M1", "T1", "A1", MessageKind.STAFF, ANA, "Olá", OPENED)
    note = TicketMessage("M2", "T1", "A1", MessageKind.NOTE, ANA, "cliente difícil", OPENED)
    # Then the customer sees only the reply
    assert customer_view([reply, note]) == [reply]


def test_numbers_have_six_digits_and_show_with_a_hash():
    # Given a drawn number, then it has six digits and shows with a hash; anything shorter is a bug
    assert ticket_number(482913) == "482913" and display_number("482913") == "#482913"
    with pytest.raises(ValueError, match="six digits"):
        ticket_number(99_999)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"PK\x03\x04\x14\x00", "application/zip"),
        ("Erro às 14h: conexão recusada\n".encode(), "text/plain"),
        (b"<!DOCTYPE html><html><script>alert(1)</script>", None),
        (b"  <svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", None),
        (b"\xef\xbb\xbf<html>", None),
        (b"MZ\x90\x00\x03\x00\x00\x00", None),
    ],
)
def test_the_first_bytes_prove_the_type(head, expected):
    # Given the first bytes of an upload, then they prove an accepted type — never markup or an executable
    assert sniff_content_type(head) == expected


def test_an_upload_must_match_its_declared_type_size_and_bytes():
    # Given a declared PNG
    # Then the stored PNG passes, and each mismatch names its problem
    check_upload("image/png", "image/png", 2048, PNG)
    cases = [
        (("image/png", "image/png", MAX_ATTACHMENT_BYTES + 1, PNG), "too_large"),
        (("image/png", "image/png", 0, b""), "empty"),
        (("image/svg+xml", "image/svg+xml", 100, b"<svg/>"), "type_not_allowed"),
        (("image/png", "application/pdf", 100, PNG), "type_mismatch"),
        (("image/png", "image/png", 100, b"%PDF-1.4"), "type_mismatch"),
        (("text/plain", "text/plain", 100, b"<html><body>hi</body></html>"), "type_mismatch"),
    ]
    for arguments, code in cases:
        with pytest.raises(AttachmentRefusedError) as refused:
            check_upload(*arguments)
        assert refused.value.fields[0].field == "file" and refused.value.fields[0].code == code


def test_a_browser_form_upload_takes_its_type_from_its_bytes():
    # Given files sent by a plain HTML form (no type declared, storage says octet-stream or nothing)
    # Then an accepted type is read from the bytes; markup or a disagreeing stored type is refused
    assert check_browser_upload("binary/octet-stream", 2048, PNG) == "image/png"
    assert check_browser_upload(None, 20, b"%PDF-1.4\n") == "application/pdf"
    assert check_browser_upload("image/png; charset=binary", 2048, PNG) == "image/png"
    for stored_type, size, head, code in (
        ("binary/octet-stream", 100, b"<html><script>x</script>", "type_not_allowed"),
        ("image/jpeg", 100, PNG, "type_mismatch"),
        ("binary/octet-stream", MAX_ATTACHMENT_BYTES + 1, PNG, "too_large"),
    ):
        with pytest.raises(AttachmentRefusedError) as refused:
            check_browser_upload(stored_type, size, head)
        assert refused.value.fields[0].code == code


def test_file_names_lose_paths_quotes_and_control_characters():
    # Given names with paths, quotes, separators and control characters, then only a safe base name remains
    assert safe_filename('C:\\Users\\ana\\erro "1";.png') == "erro 1.png"
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("\x00\x07") == "attachment"
    long_name = "a" * 300 + ".pdf"
    assert len(safe_filename(long_name)) == 120 and safe_filename(long_name).endswith(".pdf")


def test_messages_are_plain_text_kept_as_written():
    # Given a message with markup, control characters and Windows line ends
    written = "<b>Olá</b>\r\nLinha 2\x07  \r\n"
    # Then it is stored literally (markup is text), without control characters or trailing spaces
    assert clean_text(written) == "<b>Olá</b>\nLinha 2"
    assert validate_message(" ok ") == " ok"
    with pytest.raises(InvalidInputError):
        validate_message(" \n ")


def test_subjects_are_one_line_and_length_limited():
    # Given a subject over several lines, then it becomes one line; over 150 characters it is refused
    assert validate_subject("  Erro\nno   site ") == "Erro no site"
    with pytest.raises(InvalidInputError) as too_long:
        validate_subject("x" * 151)
    assert too_long.value.fields[0].code == "too_long"


def test_a_summary_cuts_on_a_word_with_an_ellipsis():
    # Given a short and a long text, then the short one is kept and the long one cut on a word
    assert summary("curto") == "curto"
    assert summary("uma frase bem longa aqui", 12) == "uma frase…"
