"""Every key shape of the single table. Nothing else in the code base builds key strings.

Access patterns and their queries are listed in docs/access-patterns.md; keep both in step.

Conventions: ``UPPER#id`` segments joined by ``#``; dates and timestamps inside sort keys are ISO 8601 so they sort;
ids are ULIDs (time-sortable). A lookup item (``<KIND>#<value>`` / ``LOOKUP``) points from a single natural id to
its owner.
"""

from __future__ import annotations

import hashlib
import unicodedata

# --- sort-key constants and prefixes -------------------------------------------------------------------------
PROFILE = "PROFILE"
SUMMARY = "SUMMARY"
CREDIT_BALANCE = "CREDIT_BALANCE"
LOOKUP = "LOOKUP"
SEQUENCE = "SEQUENCE"
WEBHOOK = "WEBHOOK"
SESSION = "SESSION"
TICKET = "TICKET"
SETTINGS = "COMPANY"
CHECKPOINT = "CHECKPOINT"

MEMBER_PREFIX = "MEMBER#"
CONTACT_PREFIX = "CONTACT#"
SERVICE_PREFIX = "SERVICE#"
INVOICE_PREFIX = "INVOICE#"
PAYMENT_PREFIX = "PAYMENT#"
EMAIL_PREFIX = "EMAIL#"
AUDIT_PREFIX = "AUDIT#"
CREDIT_PREFIX = "CREDIT#"
OUTBOX_PREFIX = "OUTBOX#"
INVITATION_PREFIX = "INVITATION#"
ORDER_PREFIX = "ORDER#"
MESSAGE_PREFIX = "MSG#"
SESSION_PREFIX = "SESSION#"
ACCOUNT_PREFIX = "ACCOUNT#"
PRODUCT_PREFIX = "PRODUCT#"
PAYMENT_METHOD_PREFIX = "PAYMETHOD#"
ATTACHMENT_PREFIX = "ATTACHMENT#"
EXPORT_PREFIX = "EXPORT#"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def fold(text: str) -> str:
    """Case- and accent-folded text for prefix lookups (``São João`` → ``sao joao``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


# --- company-wide items ---------------------------------------------------------------------------------------
def settings_pk() -> str:
    return "SETTINGS"


def sequence_pk(series: str) -> str:
    """Invoice/credit-note number sequence of one series (e.g. ``INV-2026``)."""
    return f"SEQUENCE#{series}"


def number_guard_pk(series: str, number: int) -> str:
    """Uniqueness guard: a number of a series is claimed once, ever."""
    return f"INVNUM#{series}#{number:09d}"


def job_checkpoint_pk(job: str) -> str:
    return f"JOB#{job}"


def product_pk() -> str:
    return "CATALOG"


def product_sk(product_id: str) -> str:
    return f"{PRODUCT_PREFIX}{product_id}"


# --- accounts and their collections ---------------------------------------------------------------------------
def account_pk(account_id: str) -> str:
    return f"{ACCOUNT_PREFIX}{account_id}"


def member_sk(user_id: str) -> str:
    return f"{MEMBER_PREFIX}{user_id}"


def contact_sk(contact_id: str) -> str:
    return f"{CONTACT_PREFIX}{contact_id}"


def service_sk(service_id: str) -> str:
    return f"{SERVICE_PREFIX}{service_id}"


def invoice_sk(invoice_id: str) -> str:
    return f"{INVOICE_PREFIX}{invoice_id}"


def payment_sk(payment_id: str) -> str:
    return f"{PAYMENT_PREFIX}{payment_id}"


def order_sk(order_id: str) -> str:
    return f"{ORDER_PREFIX}{order_id}"


def email_sk(email_id: str) -> str:
    return f"{EMAIL_PREFIX}{email_id}"


def audit_sk(audit_id: str) -> str:
    return f"{AUDIT_PREFIX}{audit_id}"


def credit_sk(entry_id: str) -> str:
    return f"{CREDIT_PREFIX}{entry_id}"


def invitation_sk(invitation_id: str) -> str:
    return f"{INVITATION_PREFIX}{invitation_id}"


def payment_method_sk(payment_method_id: str) -> str:
    return f"{PAYMENT_METHOD_PREFIX}{payment_method_id}"


def attachment_sk(attachment_id: str) -> str:
    return f"{ATTACHMENT_PREFIX}{attachment_id}"


def export_sk(export_id: str) -> str:
    return f"{EXPORT_PREFIX}{export_id}"


def outbox_sk(timestamp: str, event_id: str) -> str:
    return f"{OUTBOX_PREFIX}{timestamp}#{event_id}"


# --- users ----------------------------------------------------------------------------------------------------
def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def user_audit_pk(user_id: str) -> str:
    """Audit entries of actions that concern a user, not an account (sign-in, password, 2FA)."""
    return f"USERAUDIT#{user_id}"


def session_pk(session_key: str) -> str:
    """A session record, addressed by Cognito's ``origin_jti`` (API) or the hash of the portal cookie."""
    return f"{SESSION_PREFIX}{session_key}"


# --- tickets --------------------------------------------------------------------------------------------------
def ticket_pk(ticket_id: str) -> str:
    return f"TICKET#{ticket_id}"


def message_sk(message_id: str) -> str:
    return f"{MESSAGE_PREFIX}{message_id}"


# --- lookups (pk) ---------------------------------------------------------------------------------------------
def login_lookup_pk(email: str) -> str:
    return f"LOGIN#{email.strip().lower()}"


def invoice_lookup_pk(invoice_id: str) -> str:
    return f"INVOICEID#{invoice_id}"


def service_lookup_pk(service_id: str) -> str:
    return f"SERVICEID#{service_id}"


def invite_lookup_pk(token: str) -> str:
    return f"INVITE#{_digest(token)}"


def ticket_number_pk(number: int) -> str:
    return f"TICKETNO#{number}"


def provider_payment_pk(provider: str, provider_id: str) -> str:
    return f"PROVIDERPAY#{provider}#{provider_id}"


def tax_id_lookup_pk(country: str, tax_id: str) -> str:
    return f"TAXID#{country.upper()}#{tax_id}"


def refresh_lookup_pk(refresh_token: str) -> str:
    return f"{SESSION_PREFIX}{_digest(refresh_token)}"


def late_fee_guard_pk(invoice_id: str) -> str:
    return f"LATEFEE#{invoice_id}"


def webhook_pk(provider: str, event_id: str) -> str:
    return f"WEBHOOK#{provider}#{event_id}"


def email_claim_pk(event_id: str, recipient: str) -> str:
    """Claim of one (event, recipient) delivery by the notifications consumer."""
    return f"MAILCLAIM#{event_id}#{recipient.strip().lower()}"


def code_pk(purpose: str, subject: str) -> str:
    """A one-time code (sign-up, reset, email change) for a subject (user id or normalised email)."""
    return f"CODE#{purpose}#{subject}"


def rate_limit_pk(route: str, key: str) -> str:
    return f"RATE#{route}#{_digest(key)}"


def pending_login_pk(session: str) -> str:
    return f"PENDINGLOGIN#{_digest(session)}"


def portal_form_pk(token: str) -> str:
    """Single-use tokens carried through redirects (upload success, one-time links)."""
    return f"ONCE#{_digest(token)}"


def idempotency_scope(caller: str, route: str, path_ids: dict[str, str], key: str) -> str:
    """The idempotency record id of an ``Idempotency-Key`` (caller, route, path ids, key)."""
    ids = ",".join(f"{k}={v}" for k, v in sorted(path_ids.items()))
    return f"IDEM#{caller}#{route}#{ids}#{key}"


# --- index keys ----------------------------------------------------------------------------------------------
def gsi1_user_pk(user_id: str) -> str:
    """GSI1 partition of everything listed per user: memberships (my accounts), sessions."""
    return f"USER#{user_id}"


def gsi1_account_tickets_pk(account_id: str) -> str:
    return f"TICKETS#{account_id}"


def gsi2_due_pk(day: str) -> str:
    """GSI2: services whose renewal is due on ``day`` (YYYY-MM-DD)."""
    return f"DUE#{day}"


def gsi3_sk(day_or_time: str, item_id: str) -> str:
    """GSI3 sort key of a work queue: date (or timestamp) then id."""
    return f"{day_or_time}#{item_id}"


def staff_name_pk(name: str) -> str:
    """GSI1 partition for staff name search: the first two folded letters, prefix-searched on the sort key."""
    folded = fold(name)
    return f"NAME#{folded[:2]}"


def staff_name_sk(name: str, account_id: str) -> str:
    return f"{fold(name)}#{account_id}"
