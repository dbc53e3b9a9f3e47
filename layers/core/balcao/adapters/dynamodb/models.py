"""PynamoDB models of the single table. Keys come from ``keys.py``; repositories map items ⇄ domain objects.

Every item has ``pk``/``sk``, an ``entity`` discriminator (never a key: PynamoDB forbids it), optional index keys
(GSI1–3) and an optional ``ttl`` (epoch seconds). The table's name is read from the typed settings when a model
first talks to DynamoDB, not at import.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.connection import TableConnection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from balcao.runtime.settings import load_settings


class _TableName:
    """Resolves ``Meta.table_name`` lazily from the environment's typed settings."""

    def __get__(self, instance: object, owner: type) -> str:
        return load_settings().table_name


class Gsi1(GlobalSecondaryIndex["BalcaoItem"]):
    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex["BalcaoItem"]):
    class Meta:
        index_name = "GSI2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class Gsi3(GlobalSecondaryIndex["BalcaoItem"]):
    class Meta:
        index_name = "GSI3"
        projection = AllProjection()

    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class BalcaoItem(Model):
    class Meta:
        table_name = _TableName()
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    entity = DiscriminatorAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    ttl = NumberAttribute(null=True)

    by_gsi1 = Gsi1()
    by_gsi2 = Gsi2()
    by_gsi3 = Gsi3()

    @classmethod
    def _get_connection(cls) -> TableConnection:
        """One connection for every entity of the table. PynamoDB keeps one per model class, each with a botocore
        session and client of its own: every entity's first use would load DynamoDB's service model again (tens of
        milliseconds each, in cold starts and in every new thread's first call)."""
        if cls is BalcaoItem:
            return super()._get_connection()
        return BalcaoItem._get_connection()


class SettingsItem(BalcaoItem, discriminator="Settings"):
    """The company settings document (one item)."""

    document = JSONAttribute(default=dict)
    version = VersionAttribute()


class AuditItem(BalcaoItem, discriminator="Audit"):
    """One audit entry under ``ACCOUNT#{id}`` or ``USERAUDIT#{user}``; retention by ``ttl``."""

    audit_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    actor_user_id = UnicodeAttribute(null=True)
    actor_email = UnicodeAttribute(null=True)
    account_id = UnicodeAttribute(null=True)
    action = UnicodeAttribute()
    target = JSONAttribute(default=dict)
    source_ip = UnicodeAttribute(null=True)
    request_id = UnicodeAttribute(null=True)
    staff = NumberAttribute(default=0)


class OutboxItem(BalcaoItem, discriminator="Outbox"):
    """A domain event waiting in its account's (or user's) partition; the stream publisher puts it on the bus."""

    event = JSONAttribute()


# --- identity ---------------------------------------------------------------------------------------------------
class UserItem(BalcaoItem, discriminator="User"):
    """A login (``USER#{sub}`` / ``PROFILE``); the Cognito user's ``sub`` is its id. Unconfirmed sign-ups sit in the
    GSI3 queue ``unconfirmed`` until confirmed or removed."""

    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    language = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    terms_version = UnicodeAttribute(null=True)
    terms_accepted_at = UTCDateTimeAttribute(null=True)
    totp_secret = UnicodeAttribute(null=True)  # encrypted
    totp_pending_secret = UnicodeAttribute(null=True)  # encrypted, during enrolment
    totp_enabled = BooleanAttribute(default=False)
    totp_last_step = NumberAttribute(null=True)
    recovery_codes = ListAttribute(of=UnicodeAttribute, null=True)  # hashes of the unused ones


class AccountItem(BalcaoItem, discriminator="Account"):
    """An account's profile (``ACCOUNT#{id}`` / ``PROFILE``); GSI1 ``NAME#{2 folded letters}`` for staff search."""

    account_id = UnicodeAttribute()
    name = UnicodeAttribute()
    company = UnicodeAttribute(null=True)
    tax_country = UnicodeAttribute(null=True)
    tax_kind = UnicodeAttribute(null=True)
    tax_id = UnicodeAttribute(null=True)
    address = JSONAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    language = UnicodeAttribute()
    currency = UnicodeAttribute()
    notice_email = UnicodeAttribute()
    owner_user_id = UnicodeAttribute()
    require_mfa = BooleanAttribute(default=False)
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    closure_requested_at = UTCDateTimeAttribute(null=True)
    terms_version = UnicodeAttribute(null=True)
    anonymise_after = UnicodeAttribute(null=True)
    hosted_domains = ListAttribute(of=UnicodeAttribute, null=True)
    version = VersionAttribute()


class MemberItem(BalcaoItem, discriminator="Member"):
    """``ACCOUNT#{id}`` / ``MEMBER#{user}``; GSI1 ``USER#{user}`` / ``ACCOUNT#{id}`` lists a user's accounts."""

    account_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    role = UnicodeAttribute()
    permissions = ListAttribute(of=UnicodeAttribute, default=list)
    service_id = UnicodeAttribute(null=True)
    account_name = UnicodeAttribute()
    require_mfa = BooleanAttribute(default=False)
    user_email = UnicodeAttribute()
    user_name = UnicodeAttribute()
    joined_at = UTCDateTimeAttribute()
    notice_email = UnicodeAttribute(null=True)
    hosted_domains = ListAttribute(of=UnicodeAttribute, null=True)


class ContactItem(BalcaoItem, discriminator="Contact"):
    contact_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    departments = ListAttribute(of=UnicodeAttribute, default=list)
    bounced = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()


class InvitationItem(BalcaoItem, discriminator="Invitation"):
    invitation_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    email = UnicodeAttribute()
    permissions = ListAttribute(of=UnicodeAttribute, default=list)
    service_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    expires_at = UTCDateTimeAttribute()
    invited_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    token_hash = UnicodeAttribute()


class LookupItem(BalcaoItem, discriminator="Lookup"):
    """A pointer from a natural id (invitation token hash, tax id, refresh token hash, SES message id…)."""

    target = JSONAttribute(default=dict)


class SessionItem(BalcaoItem, discriminator="Session"):
    """``SESSION#{key}`` / ``SESSION``: the revocation guarantee. The key is Cognito's ``origin_jti`` (API) or the
    hash of the portal cookie; GSI1 ``USER#{user}`` / ``SESSION#{session_id}`` lists a user's sessions."""

    session_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    language = UnicodeAttribute()
    kind = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    last_seen_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)
    mfa_passed = BooleanAttribute(default=False)
    device = UnicodeAttribute(null=True)
    ip = UnicodeAttribute(null=True)
    refresh_hash = UnicodeAttribute(null=True)
    is_staff = BooleanAttribute(default=False)


class SecretItem(BalcaoItem, discriminator="Secret"):
    """Short-lived secrets: one-time codes (hashed) and pending logins (encrypted tokens)."""

    digest = UnicodeAttribute(null=True)
    sealed = UnicodeAttribute(null=True)
    subject = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    expires_at = UTCDateTimeAttribute()
    payload = JSONAttribute(default=dict)


class CheckpointItem(BalcaoItem, discriminator="Checkpoint"):
    """``JOB#{name}`` / ``CHECKPOINT``: how far a scheduled job got (catch-up after missed runs)."""

    position = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()


class RateBucketItem(BalcaoItem, discriminator="RateBucket"):
    tokens = NumberAttribute()
    updated_at = NumberAttribute()  # epoch seconds, wall time


class ExportItem(BalcaoItem, discriminator="Export"):
    export_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    requested_by = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    completed_at = UTCDateTimeAttribute(null=True)
    object_key = UnicodeAttribute(null=True)


# --- notifications ----------------------------------------------------------------------------------------------
class EmailLogItem(BalcaoItem, discriminator="EmailLog"):
    """``ACCOUNT#{id}`` / ``EMAIL#{ulid}``: one email to one recipient, body stored with secrets masked."""

    email_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    template = UnicodeAttribute()
    department = UnicodeAttribute()
    recipient = UnicodeAttribute()
    contact_id = UnicodeAttribute(null=True)
    subject = UnicodeAttribute()
    body_text = UnicodeAttribute()
    body_html = UnicodeAttribute()
    status = UnicodeAttribute()
    sent_at = UTCDateTimeAttribute()
    status_at = UTCDateTimeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)


class MailClaimItem(BalcaoItem, discriminator="MailClaim"):
    """``MAILCLAIM#{event}#{recipient}``: the at-most-once-resend ledger of the email pipeline."""

    state = UnicodeAttribute()
    attempts = NumberAttribute(default=1)
    message_id = UnicodeAttribute(null=True)


# --- services ----------------------------------------------------------------------------------------------------
class ServiceItem(BalcaoItem, discriminator="Service"):
    """``ACCOUNT#{id}`` / ``SERVICE#{id}``: a hosting service (its lifecycle belongs to the services capability)."""

    service_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    name = UnicodeAttribute()
    domain = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    # What the renewal run reads (``BillableService``); GSI2 ``DUE#{next_due_date}`` / ``SERVICE#{id}``.
    product_id = UnicodeAttribute(null=True)
    cycle = UnicodeAttribute(null=True)
    price = NumberAttribute(null=True)  # minor units of ``currency``, net of tax
    currency = UnicodeAttribute(null=True)
    tax_category = UnicodeAttribute(null=True)
    next_due_date = UnicodeAttribute(null=True)  # YYYY-MM-DD, company timezone
    auto_renew = BooleanAttribute(null=True)  # False: cancelled at the end of the period
    anchor_day = NumberAttribute(null=True)  # the day of the month the service started on (periods keep it)
    # The services capability: lifecycle, plan, control panel; GSI3 ``cancellations`` / ``{date}#{id}`` while a
    # cancellation request waits for its date. ``revision`` is the optimistic lock (every writer adds 1).
    order_id = UnicodeAttribute(null=True)
    product_type = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    plan_price = NumberAttribute(null=True)
    support_level = UnicodeAttribute(null=True)
    support_name = UnicodeAttribute(null=True)
    support_price = NumberAttribute(null=True)
    module = UnicodeAttribute(null=True)
    package = UnicodeAttribute(null=True)
    username = UnicodeAttribute(null=True)
    server = UnicodeAttribute(null=True)
    ip = UnicodeAttribute(null=True)
    history = JSONAttribute(null=True)
    paid_periods = JSONAttribute(null=True)
    provisioning = JSONAttribute(null=True)
    cancellation = JSONAttribute(null=True)
    live = JSONAttribute(null=True)
    pending_order_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    revision = NumberAttribute(null=True)


class ProductItem(BalcaoItem, discriminator="Product"):
    """``CATALOG`` / ``PRODUCT#{id}``: a product with its prices per cycle and currency, support levels, control
    panel package, visibility and stock (``stock`` None: unlimited; an order takes it with a condition)."""

    product_id = UnicodeAttribute()
    name = JSONAttribute()
    description = JSONAttribute(default=dict)
    product_type = UnicodeAttribute()
    prices = JSONAttribute(default=list)
    support_levels = JSONAttribute(default=list)
    module = UnicodeAttribute()
    package = UnicodeAttribute(null=True)
    visible = BooleanAttribute(default=True)
    stock = NumberAttribute(null=True)
    tax_category = UnicodeAttribute(null=True)
    position = NumberAttribute(default=0)
    revision = NumberAttribute(null=True)  # the optimistic lock (an order's stock update adds 1 too)


class OrderItem(BalcaoItem, discriminator="Order"):
    """``ACCOUNT#{id}`` / ``ORDER#{id}``: new services or a plan change, and the invoice that pays it. While unpaid
    it is in GSI3 ``pending_orders`` or ``pending_changes`` / ``{invoice due date}#{id}``."""

    order_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    invoice_id = UnicodeAttribute(null=True)
    service_ids = ListAttribute(of=UnicodeAttribute, default=list)
    currency = UnicodeAttribute()
    amount_due = NumberAttribute()
    due_date = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    status_at = UTCDateTimeAttribute()
    change = JSONAttribute(null=True)
    revision = NumberAttribute(null=True)


class ProvisioningRequestItem(BalcaoItem, discriminator="ProvisioningRequest"):
    """``ACCOUNT#{id}`` / ``PROVISIONING#{request id}``: one action asked of the control panel, done once; a failed
    one is in GSI3 ``provisioning_failures`` / ``{failed at}#{id}`` until staff retry it."""

    request_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    service_id = UnicodeAttribute()
    action = UnicodeAttribute()
    state = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    error = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    contact_email = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    revision = NumberAttribute(null=True)


# --- invoices (models of the invoices capability go here) --------------------------------------------------------
class InvoiceItem(BalcaoItem, discriminator="Invoice"):
    """``ACCOUNT#{id}`` / ``INVOICE#{id}``. Issued ones are in GSI1 ``INVOICES#{account}`` / ``INVOICE#{id}`` (the
    account's list); unpaid ones in GSI3 ``open_invoices`` (``unpaid_funds`` for add funds) / ``{due}#{id}``."""

    invoice_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    currency = UnicodeAttribute()
    language = UnicodeAttribute()
    lines = JSONAttribute(default=list)
    taxes = JSONAttribute(default=list)
    subtotal = NumberAttribute()
    tax = NumberAttribute()
    total = NumberAttribute()
    amount_paid = NumberAttribute()
    amount_credited = NumberAttribute()
    amount_due = NumberAttribute()
    due_date = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    number = UnicodeAttribute(null=True)
    series = UnicodeAttribute(null=True)
    number_at = UnicodeAttribute()
    issued_at = UTCDateTimeAttribute(null=True)
    issue_date = UnicodeAttribute(null=True)
    buyer = JSONAttribute(null=True)
    payment_method = UnicodeAttribute(null=True)
    instructions = JSONAttribute(default=dict)
    payments = JSONAttribute(default=list)
    credit_notes = JSONAttribute(default=list)
    refers_to = UnicodeAttribute(null=True)
    notes = ListAttribute(of=UnicodeAttribute, default=list)
    paid_at = UTCDateTimeAttribute(null=True)
    cancelled_at = UTCDateTimeAttribute(null=True)
    record_hash = UnicodeAttribute(null=True)
    previous_hash = UnicodeAttribute(null=True)
    suspension_paused_until = UnicodeAttribute(null=True)  # YYYY-MM-DD: a boleto pauses suspension (dunning reads)
    boleto_pause_used = BooleanAttribute(null=True)
    dunning_execution = UnicodeAttribute(null=True)  # the dunning workflow's current execution name
    suspension_date = UnicodeAttribute(null=True)  # YYYY-MM-DD: services suspended then if unpaid (dunning writes)
    version = VersionAttribute()


class CreditNoteItem(BalcaoItem, discriminator="CreditNote"):
    """``ACCOUNT#{id}`` / ``CN#{id}``: a credit note, numbered in its own series, never changed."""

    credit_note_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    invoice_id = UnicodeAttribute()
    invoice_reference = UnicodeAttribute()
    number = UnicodeAttribute()
    series = UnicodeAttribute()
    currency = UnicodeAttribute()
    language = UnicodeAttribute()
    lines = JSONAttribute(default=list)
    subtotal = NumberAttribute()
    tax = NumberAttribute()
    total = NumberAttribute()
    taxes = JSONAttribute(default=list)
    buyer = JSONAttribute()
    reason = UnicodeAttribute()
    issued_at = UTCDateTimeAttribute()
    issue_date = UnicodeAttribute()
    record_hash = UnicodeAttribute()
    previous_hash = UnicodeAttribute(null=True)


class PaymentItem(BalcaoItem, discriminator="Payment"):
    """``ACCOUNT#{id}`` / ``PAYMENT#{id}``: a payment received for an invoice (applied part and credited excess)."""

    payment_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    invoice_id = UnicodeAttribute()
    amount = NumberAttribute()
    applied = NumberAttribute()
    credited = NumberAttribute()
    currency = UnicodeAttribute()
    source = UnicodeAttribute()
    provider_ref = UnicodeAttribute()
    method = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    received_at = UTCDateTimeAttribute()
    amount_reversed = NumberAttribute(null=True)  # refunded or charged back so far (the payments capability)


class CreditEntryItem(BalcaoItem, discriminator="CreditEntry"):
    """``ACCOUNT#{id}`` / ``CREDIT#{ulid}``: one signed line of the credit ledger."""

    entry_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    invoice_id = UnicodeAttribute(null=True)
    payment_id = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)


class CreditBalanceItem(BalcaoItem, discriminator="CreditBalance"):
    """``ACCOUNT#{id}`` / ``CREDIT_BALANCE``: the ledger's sum, changed in the same transaction as each entry; the
    condition ``amount >= debit`` keeps it from going negative."""

    amount = NumberAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    auto_apply = BooleanAttribute(null=True)


class SummaryItem(BalcaoItem, discriminator="Summary"):
    """``ACCOUNT#{id}`` / ``SUMMARY``: counts of invoices per status and the amount due per currency, changed in the
    same transactions as the invoices; the account's users and contacts, changed in the transactions that add or
    remove them; GSI1 ``INVOICES#{account}`` / ``SUMMARY`` heads the invoice list."""

    invoices_issued = NumberAttribute(null=True)
    invoices_payment_pending = NumberAttribute(null=True)
    invoices_partially_paid = NumberAttribute(null=True)
    invoices_paid = NumberAttribute(null=True)
    invoices_cancelled = NumberAttribute(null=True)
    invoices_refunded = NumberAttribute(null=True)
    due_brl = NumberAttribute(null=True)
    due_eur = NumberAttribute(null=True)
    users = NumberAttribute(null=True)  # memberships (owner, members, technical delegates)
    contacts = NumberAttribute(null=True)


class SequenceItem(BalcaoItem, discriminator="Sequence"):
    """``SEQUENCE#{series}`` / ``SEQUENCE``: the last number given and the chain head (the last record's hash)."""

    sequence_id = UnicodeAttribute()
    last = NumberAttribute()
    chain_head = UnicodeAttribute(null=True)


class RenewalCoverageItem(BalcaoItem, discriminator="RenewalCoverage"):
    """``RENEWALS`` / ``COVERAGE``: per lead (days), the last due date the renewal run covered (its checkpoint)."""

    covered = JSONAttribute(default=dict)
    updated_at = UTCDateTimeAttribute()


# --- tickets (models of the tickets capability go here) ----------------------------------------------------------
class TicketListing(BalcaoItem):
    """What an account's ticket list (GSI1 ``TICKETS#{account}``) holds: the headers and the counts item."""


class TicketItem(TicketListing, discriminator="Ticket"):
    """``TICKET#{id}`` / ``TICKET``: a ticket's header. GSI1 ``TICKETS#{account}`` / ``ACTIVITY#{at}#{id}`` (the
    account's list); GSI2 ``TICKETQUEUE`` (not closed) and GSI3 ``TICKETSTATUS#{status}``, both sorted by
    ``{waiting_since}#{id}`` (the staff queue, the auto-close job)."""

    ticket_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    account_name = UnicodeAttribute()
    number = UnicodeAttribute()
    kind = UnicodeAttribute()
    department = UnicodeAttribute()
    subject = UnicodeAttribute()
    status = UnicodeAttribute()
    priority = UnicodeAttribute()
    opened_by = JSONAttribute()
    assignee_id = UnicodeAttribute(null=True)
    assignee = JSONAttribute(null=True)
    service_id = UnicodeAttribute(null=True)
    service_name = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    last_activity_at = UTCDateTimeAttribute()
    waiting_since = UTCDateTimeAttribute()
    closed_at = UTCDateTimeAttribute(null=True)
    callback_phone = UnicodeAttribute(null=True)
    callback_window = UnicodeAttribute(null=True)
    version = VersionAttribute()


class TicketCountsItem(TicketListing, discriminator="TicketCounts"):
    """``ACCOUNT#{id}`` / ``TICKETCOUNTS``: the account's tickets per status, changed in the same transaction as
    every status change (so exact); GSI1 ``TICKETS#{account}`` / ``COUNTS`` puts it first in the list query."""

    count_open = NumberAttribute(default=0)
    count_answered = NumberAttribute(default=0)
    count_customer_reply = NumberAttribute(default=0)
    count_on_hold = NumberAttribute(default=0)
    count_in_progress = NumberAttribute(default=0)
    count_closed = NumberAttribute(default=0)


class TicketMessageItem(BalcaoItem, discriminator="TicketMessage"):
    """``TICKET#{id}`` / ``MSG#{ulid}``: a reply or an internal note (``kind``), with its attachments' refs."""

    message_id = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    author = JSONAttribute()
    body = UnicodeAttribute()
    attachments = JSONAttribute(default=list)
    created_at = UTCDateTimeAttribute()


class AttachmentItem(BalcaoItem, discriminator="Attachment"):
    """``ACCOUNT#{id}`` / ``ATTACHMENT#{id}``: an upload and its state; unlinked ones expire (``ttl``, 24 h)."""

    attachment_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    uploaded_by = UnicodeAttribute()
    filename = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size = NumberAttribute()
    state = UnicodeAttribute()
    scan_status = UnicodeAttribute()
    object_key = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    ticket_id = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    rejection = UnicodeAttribute(null=True)
    from_browser_form = BooleanAttribute(default=False)


# --- dunning (models of the dunning capability go here) ----------------------------------------------------------
class DunningItem(BalcaoItem, discriminator="Dunning"):
    """``INVOICEID#{invoice_id}`` / ``DUNNING``: an invoice's workflow — its current execution, the steps done and
    planned, what comes next, its history. Beside the invoice lookup, so one query reads the account and the record."""

    invoice_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    due_date = UnicodeAttribute()
    execution = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    closed_reason = UnicodeAttribute(null=True)
    done = JSONAttribute(default=dict)  # step → when
    skipped = ListAttribute(of=UnicodeAttribute, default=list)
    next_step = UnicodeAttribute(null=True)
    next_at = UTCDateTimeAttribute(null=True)
    planned = JSONAttribute(default=list)  # [{step, at}] as last planned
    services = ListAttribute(of=UnicodeAttribute, default=list)
    pending_checks = NumberAttribute(default=0)
    history = JSONAttribute(default=list)  # [{at, what, detail}]
    started_by = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()


def every_model() -> list[type[BalcaoItem]]:
    """Every concrete model (for tests that round-trip each one against the table made from template.yaml)."""

    def walk(cls: type[Any]) -> list[type[BalcaoItem]]:
        found: list[type[BalcaoItem]] = []
        for sub in cls.__subclasses__():
            found.append(sub)
            found.extend(walk(sub))
        return found

    return walk(BalcaoItem)


# --- payments (models of the payments capability go here) ----------------------------------------------------------
class ChargeItem(BalcaoItem, discriminator="Charge"):
    """``ACCOUNT#{id}`` / ``CHARGE#{id}``: a payment attempt at a provider for one or several invoices."""

    charge_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    invoice_ids = ListAttribute(of=UnicodeAttribute)
    method = UnicodeAttribute()
    provider = UnicodeAttribute()
    provider_ref = UnicodeAttribute(null=True)
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    expires_at = UTCDateTimeAttribute(null=True)
    origin = UnicodeAttribute()
    attempt = NumberAttribute(default=1)
    saved_method_id = UnicodeAttribute(null=True)
    details = JSONAttribute(default=dict)
    failure = UnicodeAttribute(null=True)
    amount_received = NumberAttribute(null=True)
    amount_reversed = NumberAttribute(null=True)


class ChargeRefItem(BalcaoItem, discriminator="ChargeRef"):
    """``ACCOUNT#{id}`` / ``CHARGEOF#{invoice}#{charge}``: an invoice's charges, listed by one query."""

    charge_id = UnicodeAttribute()


class SavedMethodItem(BalcaoItem, discriminator="SavedMethod"):
    """``ACCOUNT#{id}`` / ``PAYMETHOD#{id}``: a saved card or SEPA mandate (the provider keeps the details); cards
    sit in GSI3 ``expiring_cards`` / ``{yyyy-mm}#{id}``."""

    method_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    provider = UnicodeAttribute()
    provider_ref = UnicodeAttribute()
    customer_ref = UnicodeAttribute(null=True)
    brand = UnicodeAttribute(null=True)
    last4 = UnicodeAttribute(null=True)
    exp_month = NumberAttribute(null=True)
    exp_year = NumberAttribute(null=True)
    mandate_reference = UnicodeAttribute(null=True)
    mandate_status = UnicodeAttribute(null=True)
    is_default = BooleanAttribute(default=False)
    services = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = UTCDateTimeAttribute()


class PaymentCustomerItem(BalcaoItem, discriminator="PaymentCustomer"):
    """``ACCOUNT#{id}`` / ``PAYCUSTOMER#{provider}``: the account's customer at a provider."""

    provider = UnicodeAttribute()
    ref = UnicodeAttribute()


class WebhookEventItem(BalcaoItem, discriminator="WebhookEvent"):
    """``WEBHOOK#{provider}#{event id}`` / ``WEBHOOK``: the event was applied (TTL 35 days, past every retry)."""

    provider = UnicodeAttribute()
    event_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    at = UTCDateTimeAttribute()


class PaymentFlagItem(BalcaoItem, discriminator="PaymentFlag"):
    """``PAYFLAG#{hash of its id}`` / ``FLAG``: a payment staff must look at; GSI3 ``payment_flags`` / ``{at}#{id}``."""

    flag_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    provider = UnicodeAttribute()
    provider_ref = UnicodeAttribute(null=True)
    event_id = UnicodeAttribute(null=True)
    account_id = UnicodeAttribute(null=True)
    invoice_id = UnicodeAttribute(null=True)
    amount = NumberAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
