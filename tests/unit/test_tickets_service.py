"""Ticket use-cases with in-memory fakes: the number retry, the order of linking, the redirect token, validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from balcao.domain.errors import ConflictError, InvalidInputError
from balcao.domain.tickets import (
    Attachment,
    AttachmentState,
    Person,
    Ticket,
    TicketKind,
    TicketNumberTakenError,
    TicketPriority,
    TicketStatus,
)
from balcao.services.company_settings import TicketSettings
from balcao.services.tickets import AccountBrief, Tickets, UploadForm
from support.clocks import FixedClock

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ANA = Person("u-ana", "Ana", "ana@example.com", "pt-BR")


@dataclass
class FakeStore:
    """Only what opening a ticket, requesting a browser upload and the auto-close job call."""

    numbers_taken: int = 0
    journal: list[str] = field(default_factory=list)
    opened: list[tuple[str, list[str]]] = field(default_factory=list)
    attachments_by_id: dict[str, Attachment] = field(default_factory=dict)
    answered: list[Ticket] = field(default_factory=list)
    changed_meanwhile: set[str] = field(default_factory=set)
    saved: list[tuple[str, list[str]]] = field(default_factory=list)

    def account(self, account_id: str) -> AccountBrief:
        return AccountBrief(account_id, "Loja da Ana", "BR")

    def attachments(self, account_id, attachment_ids):
        return [self.attachments_by_id[i] for i in attachment_ids if i in self.attachments_by_id]

    def add_attachment(self, attachment, expires_at):
        self.attachments_by_id[attachment.attachment_id] = attachment

    def is_member(self, account_id, user_id):
        return True

    def answered_waiting_since_before(self, cutoff):
        return [t for t in self.answered if t.waiting_since <= cutoff]

    def save_ticket(self, before, after, events):
        if before.ticket_id in self.changed_meanwhile:
            raise ConflictError()
        self.saved.append((after.status.value, [e.type for e in events]))

    def open_ticket(self, ticket, message, attachments, events):
        self.journal.append("commit")
        if self.numbers_taken:
            self.numbers_taken -= 1
            raise TicketNumberTakenError()
        self.opened.append((ticket.number, [e.data.get("number") for e in events]))


@dataclass
class FakeFiles:
    journal: list[str]

    def object_key(self, account_id, attachment_id):
        return f"attachments/{account_id}/{attachment_id}"

    def key_prefix(self, account_id, attachment_id):
        return f"attachments/{account_id}/{attachment_id}/"

    def browser_form(self, key_prefix, max_bytes, expires_seconds, redirect_url):
        return UploadForm("https://bucket.example/", {"key": key_prefix, "success_action_redirect": redirect_url})

    def mark_linked(self, key):
        self.journal.append(f"tag {key}")


class FakeTokens:
    def issue(self, account_id, attachment_id):
        return f"sealed-{account_id}-{attachment_id}"


class FakeWall:
    def epoch_seconds(self) -> float:
        return NOW.timestamp()


def service(store: FakeStore) -> Tickets:
    return Tickets(store, FakeFiles(store.journal), FakeTokens(), FixedClock(NOW), FakeWall(), TicketSettings())


def open_one(tickets: Tickets, attachment_ids=()):
    return tickets.open_ticket(
        "A1",
        ANA,
        department="technical_support",
        subject="Site fora do ar",
        message="Não abre",
        attachment_ids=attachment_ids,
    )


def test_a_taken_number_is_drawn_again_and_the_email_carries_the_final_one():
    # Given the first two numbers drawn are taken
    store = FakeStore(numbers_taken=2)
    # When a ticket is opened
    ticket = open_one(service(store))
    # Then the third attempt commits, and its events carry that number
    assert store.journal == ["commit", "commit", "commit"]
    [(number, event_numbers)] = store.opened
    assert ticket.number == number and len(number) == 6 and set(event_numbers) == {number}


def test_when_every_number_drawn_is_taken_the_opening_is_a_conflict():
    # Given every number drawn is taken
    store = FakeStore(numbers_taken=100)
    # When a ticket is opened, then it gives up with a conflict after a bounded number of attempts
    with pytest.raises(ConflictError):
        open_one(service(store))


def test_attachments_are_tagged_linked_before_the_transaction_commits():
    # Given a confirmed attachment
    store = FakeStore()
    confirmed = Attachment("AT1", "A1", "u-ana", "a.png", "image/png", 80, AttachmentState.CONFIRMED, NOW, "k/AT1")
    store.attachments_by_id["AT1"] = confirmed
    # When a ticket links it
    open_one(service(store), ["AT1"])
    # Then the object is re-tagged first (a linked file is never expired by the lifecycle rule)
    assert store.journal == ["tag k/AT1", "commit"]


def test_an_unconfirmed_attachment_is_refused_before_anything_is_written():
    # Given an attachment uploaded but not confirmed
    store = FakeStore()
    store.attachments_by_id["AT1"] = Attachment(
        "AT1", "A1", "u-ana", "a.png", "image/png", 80, AttachmentState.PENDING, NOW, "k/AT1"
    )
    # When a ticket is opened with it, then it is refused on the field and nothing is tagged nor committed
    with pytest.raises(InvalidInputError) as refused:
        open_one(service(store), ["AT1"])
    assert refused.value.fields[0].field == "attachment_ids" and store.journal == []


def test_a_message_carries_at_most_five_attachments():
    # Given six attachment ids (the portal calls the use-case directly, without the API's validation)
    store = FakeStore()
    # When a ticket is opened with them, then the field is refused before anything is read or written
    with pytest.raises(InvalidInputError) as refused:
        open_one(service(store), [f"AT{n}" for n in range(6)])
    assert (refused.value.fields[0].field, refused.value.fields[0].code) == ("attachment_ids", "too_many")
    assert store.journal == []


def test_the_portal_redirect_keeps_its_query_and_gains_the_token():
    # Given the portal's landing page with a query of its own
    store = FakeStore()
    # When an upload is requested for it
    grant = service(store).request_browser_upload("A1", ANA, "https://central.example/tickets/uploaded?next=new")
    # Then the storage will send the browser there with the sealed token added
    query = parse_qs(urlsplit(grant.form.fields["success_action_redirect"]).query)
    assert query == {"next": ["new"], "token": [f"sealed-A1-{grant.attachment.attachment_id}"]}
    assert (grant.expires_at - NOW).total_seconds() == 300


def test_an_unknown_department_is_a_field_problem():
    # Given departments configured without "legal", when a ticket names it, then the field is refused
    with pytest.raises(InvalidInputError) as refused:
        service(FakeStore()).open_ticket("A1", ANA, department="legal", subject="x", message="y")
    assert refused.value.fields[0].field == "department"


def an_answered_ticket(ticket_id: str, days_ago: int) -> Ticket:
    answered_at = NOW - timedelta(days=days_ago)
    return Ticket(
        ticket_id,
        "A1",
        "Loja",
        "482913",
        TicketKind.ISSUE,
        "technical_support",
        "Lento",
        TicketStatus.ANSWERED,
        TicketPriority.MEDIUM,
        ANA,
        answered_at,
        answered_at,
        answered_at,
    )


def test_auto_close_skips_a_ticket_that_changed_since_the_queue_was_read():
    # Given two tickets answered 8 days ago, one of which the customer just replied to (a stale queue entry)
    store = FakeStore(answered=[an_answered_ticket("T1", 8), an_answered_ticket("T2", 8)], changed_meanwhile={"T2"})
    # When the job runs with the default 7-day window
    counts = service(store).auto_close()
    # Then the first closes with its email event, the second is skipped
    assert counts == {"closed": 1, "skipped": 1}
    assert store.saved == [("closed", ["ticket.auto_closed"])]
