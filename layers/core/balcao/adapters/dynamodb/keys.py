"""Every key shape of the single table. Nothing else in the code base builds key strings.

Access patterns and their queries are listed in docs/access-patterns.md; keep both in step.

Conventions: ``UPPER#id`` segments joined by ``#``; dates and timestamps inside sort keys are ISO 8601 so they sort;
ids are ULIDs (time-sortable). A lookup item (``<KIND>#<value>`` / ``LOOKUP``) points from a single natural id to
its owner. Secrets in keys (tokens, refresh tokens, cookies) are hashed.
"""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import UTC, datetime

# --- sort-key constants and prefixes -------------------------------------------------------------------------
SETTINGS = "COMPANY"
PROFILE = "PROFILE"
LOOKUP = "LOOKUP"
SESSION = "SESSION"
CODE = "CODE"
CLAIM = "CLAIM"
CHECKPOINT = "CHECKPOINT"
BUCKET = "BUCKET"
AUDIT_PREFIX = "AUDIT#"
OUTBOX_PREFIX = "OUTBOX#"
MEMBER_PREFIX = "MEMBER#"
CONTACT_PREFIX = "CONTACT#"
INVITATION_PREFIX = "INVITATION#"
EMAIL_PREFIX = "EMAIL#"
EXPORT_PREFIX = "EXPORT#"
SERVICE_PREFIX = "SERVICE#"
ACCOUNT_PREFIX = "ACCOUNT#"
SESSION_PREFIX = "SESSION#"

# --- GSI3 work queues (gsi3pk) ---------------------------------------------------------------------------------
QUEUE_UNCONFIRMED_SIGNUPS = "unconfirmed_signups"
QUEUE_EXPORTS = "exports"
QUEUE_CLOSURES = "closures"


def digest(secret: str) -> str:
    """SHA-256 of a secret that must never be stored as is (tokens, refresh tokens, cookies)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def fold(text: str) -> str:
    """Case- and accent-folded text for prefix search (``São João`` → ``sao joao``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


# --- company-wide items ---------------------------------------------------------------------------------------
def settings_pk() -> str:
    return "SETTINGS"


# --- accounts and their collections ---------------------------------------------------------------------------
def account_pk(account_id: str) -> str:
    return f"{ACCOUNT_PREFIX}{account_id}"


def audit_sk(audit_id: str) -> str:
    return f"{AUDIT_PREFIX}{audit_id}"


def outbox_sk(timestamp: str, event_id: str) -> str:
    """An outbox event in its owner's partition (account, or user for security mail); the stream filters on it."""
    return f"{OUTBOX_PREFIX}{timestamp}#{event_id}"


def member_sk(user_id: str) -> str:
    return f"{MEMBER_PREFIX}{user_id}"


def contact_sk(contact_id: str) -> str:
    return f"{CONTACT_PREFIX}{contact_id}"


def invitation_sk(invitation_id: str) -> str:
    return f"{INVITATION_PREFIX}{invitation_id}"


def email_sk(email_id: str) -> str:
    return f"{EMAIL_PREFIX}{email_id}"


def export_sk(export_id: str) -> str:
    return f"{EXPORT_PREFIX}{export_id}"


def service_sk(service_id: str) -> str:
    return f"{SERVICE_PREFIX}{service_id}"


# --- users and sessions ----------------------------------------------------------------------------------------
def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def user_audit_pk(user_id: str) -> str:
    """Audit entries of actions that concern a user, not an account (sign-in, password, 2FA, staff settings)."""
    return f"USERAUDIT#{user_id}"


def session_pk(session_key: str) -> str:
    """A session record: ``session_key`` is Cognito's ``origin_jti`` (API) or the hash of the portal cookie."""
    return f"{SESSION_PREFIX}{session_key}"


def refresh_lookup_pk(refresh_token: str) -> str:
    return f"{SESSION_PREFIX}{digest(refresh_token)}"


def code_pk(purpose: str, subject: str) -> str:
    """A one-time code (sign-up, reset, email change) for a subject (a user id or a normalised email)."""
    return f"CODE#{purpose}#{subject}"


def pending_login_pk(session_token: str) -> str:
    return f"PENDINGLOGIN#{digest(session_token)}"


def rate_bucket_pk(route: str, key: str) -> str:
    return f"RATE#{route}#{digest(key)}"


# --- lookups ----------------------------------------------------------------------------------------------------
def login_lookup_pk(email: str) -> str:
    return f"LOGIN#{email.strip().lower()}"


def invite_lookup_pk(token: str) -> str:
    return invite_lookup_pk_for_digest(digest(token))


def invite_lookup_pk_for_digest(token_digest: str) -> str:
    return f"INVITE#{token_digest}"


def tax_id_lookup_pk(country: str, value: str) -> str:
    """Accounts by tax id (several contracts may share one): the sort key is ``ACCOUNT#{id}``."""
    return f"TAXID#{country.upper()}#{value}"


def mail_claim_pk(event_id: str, recipient: str) -> str:
    return f"MAILCLAIM#{event_id}#{recipient.strip().lower()}"


def ses_message_pk(message_id: str) -> str:
    return f"SESMSG#{message_id}"


def suppression_pk(email: str) -> str:
    return f"SUPPRESSED#{email.strip().lower()}"


# --- index keys ---------------------------------------------------------------------------------------------------
def gsi1_user_pk(user_id: str) -> str:
    """GSI1 partition of what is listed per user: memberships (my accounts) and sessions."""
    return f"USER#{user_id}"


def gsi1_membership_sk(account_id: str) -> str:
    return f"{ACCOUNT_PREFIX}{account_id}"


def gsi1_session_sk(session_id: str) -> str:
    return f"{SESSION_PREFIX}{session_id}"


def gsi1_user_profile_sk() -> str:
    """The user's own record in their GSI1 partition: it sorts after ``ACCOUNT#`` and before ``SESSION#``, so one
    query returns a user with their memberships (the portal's sign-in read)."""
    return PROFILE


def gsi2_people_pk(account_id: str) -> str:
    """GSI2 partition of an account's people: its members (``MEMBER#``) and its invitations (``INVITATION#``)."""
    return f"PEOPLE#{account_id}"


def gsi1_name_pk(name: str) -> str:
    """Staff search by name: GSI1 partition of the first two folded letters; the sort key is prefix-searched."""
    return f"NAME#{fold(name)[:2]}"


def gsi1_name_sk(name: str, account_id: str) -> str:
    return f"{fold(name)}#{account_id}"


def gsi3_queue_sk(moment_or_day: str, item_id: str) -> str:
    """A work queue's sort key: a date or timestamp, then the item's id."""
    return f"{moment_or_day}#{item_id}"


def retention_bucket(kind: str, month: str) -> str:
    """GSI3 partition of the log entries (``email`` or ``audit``) written in ``month`` (YYYY-MM), for retention."""
    return f"RETAIN#{kind}#{month}"


def job_checkpoint_pk(job: str) -> str:
    return f"JOB#{job}"


# --- invoices (keys of the invoices capability go here) ----------------------------------------------------------
SUMMARY = "SUMMARY"  # an account's counts and totals (sort key under the account; also its GSI1 sort key)
CREDIT_BALANCE = "CREDIT_BALANCE"  # sorts after every ``CREDIT#`` entry: first in a descending ledger query
CREDIT_LEDGER_PREFIX = "CREDIT"  # begins_with: the ledger entries and the balance, nothing else
SEQUENCE = "SEQUENCE"
COVERAGE = "COVERAGE"
INVOICE_PREFIX = "INVOICE#"
CREDIT_NOTE_PREFIX = "CN#"
PAYMENT_PREFIX = "PAYMENT#"
CREDIT_PREFIX = "CREDIT#"
DUE_PREFIX = "DUE#"
QUEUE_OPEN_INVOICES = "open_invoices"  # GSI3: unpaid invoices by due date (late fees, dunning)
QUEUE_UNPAID_FUNDS = "unpaid_funds"  # GSI3: unpaid add-funds invoices by due date (cancelled after it)


def invoice_sk(invoice_id: str) -> str:
    return f"{INVOICE_PREFIX}{invoice_id}"


def credit_note_sk(credit_note_id: str) -> str:
    return f"{CREDIT_NOTE_PREFIX}{credit_note_id}"


def payment_sk(payment_id: str) -> str:
    return f"{PAYMENT_PREFIX}{payment_id}"


def credit_entry_sk(entry_id: str) -> str:
    return f"{CREDIT_PREFIX}{entry_id}"


def sequence_pk(sequence_id: str) -> str:
    """An invoice-number sequence (a series in one year): ``last`` and the chain head."""
    return f"SEQUENCE#{sequence_id}"


def invoice_lookup_pk(invoice_id: str) -> str:
    return f"INVOICEID#{invoice_id}"


def invoice_number_lookup_pk(number: str) -> str:
    """A number given once (invoice or credit note): the uniqueness guard and the lookup by number."""
    return f"INVOICENO#{number}"


def renewal_guard_pk(service_id: str, period_start: str) -> str:
    """One renewal invoice per (service, period), however often or concurrently the run goes."""
    return f"RENEWAL#{service_id}#{period_start}"


def late_fee_lookup_pk(invoice_id: str) -> str:
    """One late fee per overdue invoice."""
    return f"LATEFEE#{invoice_id}"


def provider_payment_pk(source: str, provider_ref: str) -> str:
    """One settlement per (source, provider reference)."""
    return f"PROVIDERPAY#{source}#{provider_ref}"


def renewal_coverage_pk() -> str:
    return "RENEWALS"


def gsi1_invoices_pk(account_id: str) -> str:
    """GSI1 partition of an account's issued invoices and its SUMMARY (first in a descending list)."""
    return f"INVOICES#{account_id}"


def gsi1_invoice_sk(invoice_id: str) -> str:
    return f"{INVOICE_PREFIX}{invoice_id}"


def gsi2_due_pk(day: str) -> str:
    """GSI2 partition of the services whose next due date is ``day`` (YYYY-MM-DD); the renewal run's index."""
    return f"{DUE_PREFIX}{day}"


def gsi2_service_sk(service_id: str) -> str:
    return f"{SERVICE_PREFIX}{service_id}"


# --- tickets (keys of the tickets capability go here) ------------------------------------------------------------
TICKET = "TICKET"  # the header's sort key in its ticket's partition
TICKET_COUNTS = "TICKETCOUNTS"  # an account's ticket counts per status (sort key under the account)
TICKET_COUNTS_GSI1 = "COUNTS"  # sorts after every ``ACTIVITY#`` key: first in a descending list
MESSAGE_PREFIX = "MSG#"
ATTACHMENT_PREFIX = "ATTACHMENT#"
TICKET_ACTIVITY_PREFIX = "ACTIVITY#"
QUEUE_ACTIVE_TICKETS = "TICKETQUEUE"  # GSI2 partition of every ticket that is not closed


def sortable_moment(moment: datetime) -> str:
    """A UTC instant with a fixed width (microseconds always present), so sort keys order like time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ticket_pk(ticket_id: str) -> str:
    """A ticket's partition: its header (``TICKET``) and its messages (``MSG#{ulid}``)."""
    return f"TICKET#{ticket_id}"


def message_sk(message_id: str) -> str:
    return f"{MESSAGE_PREFIX}{message_id}"


def attachment_sk(attachment_id: str) -> str:
    return f"{ATTACHMENT_PREFIX}{attachment_id}"


def ticket_number_lookup_pk(number: str) -> str:
    return f"TICKETNO#{number}"


def gsi1_account_tickets_pk(account_id: str) -> str:
    """GSI1 partition of an account's ticket list (headers by last activity, and the counts item)."""
    return f"TICKETS#{account_id}"


def gsi1_ticket_activity_sk(last_activity: datetime, ticket_id: str) -> str:
    return f"{TICKET_ACTIVITY_PREFIX}{sortable_moment(last_activity)}#{ticket_id}"


def gsi3_ticket_status_pk(status: str) -> str:
    """GSI3 work queue of the tickets in one status, by waiting time (the staff queue, the auto-close job)."""
    return f"TICKETSTATUS#{status}"


def ticket_queue_sk(waiting_since: datetime, ticket_id: str) -> str:
    return gsi3_queue_sk(sortable_moment(waiting_since), ticket_id)


def ticket_queue_upper_bound(moment: datetime) -> str:
    """Every queue sort key of a ticket waiting since ``moment`` or earlier is ``<=`` this (ids are ULIDs)."""
    return gsi3_queue_sk(sortable_moment(moment), "~")


# --- services (keys of the services capability go here: catalog, orders, provisioning) ---------------------------
CATALOG = "CATALOG"  # the partition of every product (one query lists the catalog)
PRODUCT_PREFIX = "PRODUCT#"
ORDER_PREFIX = "ORDER#"
PROVISIONING_PREFIX = "PROVISIONING#"
QUEUE_PENDING_ORDERS = "pending_orders"  # GSI3: unpaid new orders by their invoice's due date
QUEUE_PENDING_CHANGES = "pending_changes"  # GSI3: unpaid upgrade orders by their invoice's due date
QUEUE_CANCELLATIONS = "cancellations"  # GSI3: services with a cancellation request, by its effective date
QUEUE_PROVISIONING_FAILURES = "provisioning_failures"  # GSI3: failed provisioning requests, by when they failed


def catalog_pk() -> str:
    return CATALOG


def product_sk(product_id: str) -> str:
    return f"{PRODUCT_PREFIX}{product_id}"


def order_sk(order_id: str) -> str:
    return f"{ORDER_PREFIX}{order_id}"


def provisioning_sk(request_id: str) -> str:
    """A provisioning request of a service, in its account's partition."""
    return f"{PROVISIONING_PREFIX}{request_id}"


def service_lookup_pk(service_id: str) -> str:
    """The account of a service (staff routes are addressed by the service alone)."""
    return f"SERVICEID#{service_id}"


def order_invoice_lookup_pk(invoice_id: str) -> str:
    """The order an invoice pays (the ``invoice.paid`` consumer accepts it or applies the plan change)."""
    return f"ORDERINVOICE#{invoice_id}"


def hosted_domain_lookup_pk(domain: str) -> str:
    """A domain hosted by one live service at a time (claimed at order, released when the service ends)."""
    return f"HOSTED#{domain.strip().lower()}"


# --- dunning (keys of the dunning capability go here) --------------------------------------------------------------
DUNNING = "DUNNING"  # an invoice's workflow record, beside its lookup: one query on ``INVOICEID#{id}`` reads both


def dunning_pk(invoice_id: str) -> str:
    """The workflow record's partition: the invoice lookup's (``INVOICEID#{invoice_id}``)."""
    return invoice_lookup_pk(invoice_id)


# --- payments (keys of the payments capability go here) ------------------------------------------------------------
CHARGE_PREFIX = "CHARGE#"
CHARGE_OF_PREFIX = "CHARGEOF#"
PAYMENT_METHOD_PREFIX = "PAYMETHOD#"
PAYMENT_CUSTOMER_PREFIX = "PAYCUSTOMER#"
WEBHOOK = "WEBHOOK"
FLAG = "FLAG"
QUEUE_PAYMENT_FLAGS = "payment_flags"  # GSI3: what staff must look at, newest first
QUEUE_EXPIRING_CARDS = "expiring_cards"  # GSI3: saved cards by expiry month (job ``card_expiry``)


def charge_sk(charge_id: str) -> str:
    """A charge (a payment attempt at a provider) under its account; its id is the API's ``payment_id``."""
    return f"{CHARGE_PREFIX}{charge_id}"


def charge_of_sk(invoice_id: str, charge_id: str) -> str:
    """A pointer from an invoice to one of its charges (several invoices may share a charge)."""
    return f"{CHARGE_OF_PREFIX}{invoice_id}#{charge_id}"


def charges_of_prefix(invoice_id: str) -> str:
    return f"{CHARGE_OF_PREFIX}{invoice_id}#"


def provider_charge_pk(provider: str, provider_ref: str) -> str:
    """A charge by the provider's reference (a PaymentIntent id, a Mercado Pago payment id)."""
    return f"PROVIDERCHARGE#{provider}#{provider_ref}"


def webhook_pk(provider: str, event_id: str) -> str:
    """Webhook dedupe: one item per (provider, event id), put with a condition in the settling transaction."""
    return f"WEBHOOK#{provider}#{event_id}"


def payment_method_sk(method_id: str) -> str:
    return f"{PAYMENT_METHOD_PREFIX}{method_id}"


def method_services_range(method_id: str) -> tuple[str, str]:
    """The sort-key range under ``ACCOUNT#{id}`` from a saved method to the last service: ``PAYMETHOD#{id}`` sorts
    before ``PROFILE``, ``PROVISIONING#…`` and every ``SERVICE#``, so one Query reads the method and the services
    (the items between are filtered out)."""
    return payment_method_sk(method_id), f"{SERVICE_PREFIX}~"


def payment_customer_sk(provider: str) -> str:
    """The account's customer at a provider (a Stripe customer id)."""
    return f"{PAYMENT_CUSTOMER_PREFIX}{provider}"


def autocharge_guard_pk(invoice_id: str, attempt: int) -> str:
    """One automatic charge per (invoice, attempt), however often the job runs."""
    return f"AUTOCHARGE#{invoice_id}#{attempt}"


def payment_flag_pk(flag_id: str) -> str:
    """A flag for staff; the id names what it is about, so flagging twice writes one item."""
    return f"PAYFLAG#{digest(flag_id)[:40]}"


def gsi3_expiring_card_sk(month: str, method_id: str) -> str:
    return gsi3_queue_sk(month, method_id)


# --- the overview --------------------------------------------------------------------------------------------
def overview_range() -> tuple[str, str]:
    """The sort-key range under ``ACCOUNT#{id}`` that holds what the overview shows: every ``SERVICE#``, the
    ``SUMMARY`` of the invoices and the ``TICKETCOUNTS`` (they sort together, so one Query reads them)."""
    return SERVICE_PREFIX, TICKET_COUNTS
