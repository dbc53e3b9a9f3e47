"""Every key shape of the single table. Nothing else in the code base builds key strings.

Access patterns and their queries are listed in docs/access-patterns.md; keep both in step.

Conventions: ``UPPER#id`` segments joined by ``#``; dates and timestamps inside sort keys are ISO 8601 so they sort;
ids are ULIDs (time-sortable). A lookup item (``<KIND>#<value>`` / ``LOOKUP``) points from a single natural id to
its owner. Secrets in keys (tokens, refresh tokens, cookies) are hashed.
"""

from __future__ import annotations

import hashlib
import unicodedata

# --- sort-key constants and prefixes -------------------------------------------------------------------------
SETTINGS = "COMPANY"
PROFILE = "PROFILE"
LOOKUP = "LOOKUP"
SESSION = "SESSION"
CODE = "CODE"
CLAIM = "CLAIM"
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


def gsi1_name_pk(name: str) -> str:
    """Staff search by name: GSI1 partition of the first two folded letters; the sort key is prefix-searched."""
    return f"NAME#{fold(name)[:2]}"


def gsi1_name_sk(name: str, account_id: str) -> str:
    return f"{fold(name)}#{account_id}"


def gsi3_queue_sk(moment_or_day: str, item_id: str) -> str:
    """A work queue's sort key: a date or timestamp, then the item's id."""
    return f"{moment_or_day}#{item_id}"


# --- invoices (keys of the invoices capability go here) ----------------------------------------------------------


# --- tickets (keys of the tickets capability go here) ------------------------------------------------------------
