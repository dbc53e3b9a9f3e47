"""What the pages of the identity and notifications capabilities share.

A ``Visit`` is one signed-in page request: the request, the user, where it comes from, and the audit log every
successful change writes to (the same action names as the JSON API, so the account's audit log reads alike
whichever door was used). The rest is the vocabulary those pages show — permissions, departments, roles and
statuses, audit actions — marked for translation, and the small helpers every form needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from balcao.domain.accounts import DELEGATE_PERMISSIONS, Department, Membership, Permission
from balcao.domain.audit import AuditEntry
from balcao.domain.errors import N_
from balcao.domain.ids import new_ulid
from balcao.services.auth import Request
from balcao.services.ports import AuditLog, Clock
from balcao.web.i18n import LANGUAGES, format_moment
from balcao.web.portal import LANGUAGE_NAMES, PortalRequest
from balcao.web.session import PortalUser

PAGE_SIZE = 25

# (key, label, what it allows), in the order the forms show them.
PERMISSIONS: tuple[tuple[Permission, str, str], ...] = (
    (Permission.PROFILE, N_("Profile"), N_("See and change the contract data: name, tax ID, address.")),
    (Permission.CONTACTS, N_("Contacts"), N_("Choose who receives which emails.")),
    (Permission.SERVICES, N_("Services"), N_("See the services and their status.")),
    (Permission.MANAGE_SERVICES, N_("Manage services"), N_("Change passwords, upgrade or cancel services.")),
    (Permission.SERVICE_SSO, N_("Control panel"), N_("Open the control panel of a service without a password.")),
    (Permission.ORDERS, N_("Orders"), N_("Order new services.")),
    (Permission.INVOICES, N_("Invoices and payments"), N_("See and pay invoices.")),
    (Permission.TICKETS, N_("Support tickets"), N_("Open and follow support tickets.")),
    (Permission.EMAILS, N_("Email log"), N_("Read the emails sent to the account.")),
)
PERMISSION_LABELS = {key.value: label for key, label, _ in PERMISSIONS}

DEPARTMENTS: tuple[tuple[Department, str, str], ...] = (
    (Department.GENERAL, N_("General"), N_("Announcements and everything else.")),
    (Department.BILLING, N_("Billing"), N_("Invoices, payment reminders and receipts.")),
    (Department.SUPPORT, N_("Support"), N_("Replies to support tickets.")),
    (Department.SERVICES, N_("Services"), N_("Activation, suspension and changes of services.")),
    (Department.DOMAINS, N_("Domains"), N_("Registration, renewal and transfer of domains.")),
)
DEPARTMENT_LABELS = {key.value: label for key, label, _ in DEPARTMENTS}

ROLE_LABELS = {"owner": N_("Owner"), "member": N_("User"), "delegate": N_("Technical delegate")}

INVITATION_STATUS_LABELS = {
    "pending": N_("Waiting for an answer"),
    "accepted": N_("Accepted"),
    "revoked": N_("Revoked"),
    "expired": N_("Expired"),
}

EMAIL_STATUS_LABELS = {
    "sent": N_("Sent"),
    "delivered": N_("Delivered"),
    "bounced": N_("Bounced"),
    "complained": N_("Marked as spam"),
    "failed": N_("Not sent"),
}

# What each change recorded in an account's audit log means, by its action name (method and route of the API).
AUDIT_ACTIONS = {
    "PATCH /api/accounts/{account_id}": N_("Changed the profile"),
    "POST /api/accounts/{account_id}/exports": N_("Requested a data export"),
    "POST /api/accounts/{account_id}/closure": N_("Requested the closure of the account"),
    "POST /api/accounts/{account_id}/contacts": N_("Added a contact"),
    "PATCH /api/accounts/{account_id}/contacts/{contact_id}": N_("Changed a contact"),
    "DELETE /api/accounts/{account_id}/contacts/{contact_id}": N_("Removed a contact"),
    "POST /api/accounts/{account_id}/contacts/{contact_id}/invitation": N_("Invited a contact to become a user"),
    "PATCH /api/accounts/{account_id}/users/{user_id}": N_("Changed the permissions of a user"),
    "DELETE /api/accounts/{account_id}/users/{user_id}": N_("Removed a user, or left the account"),
    "POST /api/accounts/{account_id}/owner": N_("Transferred the ownership"),
    "POST /api/accounts/{account_id}/invitations": N_("Invited a user"),
    "DELETE /api/accounts/{account_id}/invitations/{invitation_id}": N_("Revoked an invitation"),
    "POST /api/invitations/{token}/accept": N_("Accepted an invitation"),
    "POST /api/accounts/{account_id}/credit": N_("Asked to add funds"),
    "PATCH /api/accounts/{account_id}/credit": N_("Changed how the credit balance is used"),
    "PUT /api/accounts/{account_id}/invoices/{invoice_id}/payment-method": N_("Chose how to pay an invoice"),
    "POST /api/accounts/{account_id}/attachments": N_("Started uploading an attachment"),
    "POST /api/accounts/{account_id}/attachments/{attachment_id}/confirm": N_("Uploaded an attachment"),
    "POST /api/accounts/{account_id}/tickets": N_("Opened a ticket"),
    "POST /api/accounts/{account_id}/tickets/{ticket_id}/replies": N_("Replied to a ticket"),
    "POST /api/accounts/{account_id}/tickets/{ticket_id}/close": N_("Closed a ticket"),
    "POST /api/accounts/{account_id}/tickets/{ticket_id}/reopen": N_("Reopened a ticket"),
    "POST /api/accounts/{account_id}/callbacks": N_("Asked for a phone call"),
    "POST /api/accounts/{account_id}/orders": N_("Placed an order"),
    "POST /api/accounts/{account_id}/services/{service_id}/upgrade": N_("Asked to change a service's plan"),
    "POST /api/accounts/{account_id}/services/{service_id}/cancellation": N_("Asked to cancel a service"),
    "DELETE /api/accounts/{account_id}/services/{service_id}/cancellation": N_("Withdrew a cancellation request"),
    "POST /api/accounts/{account_id}/services/{service_id}/password": N_("Changed a service's control panel password"),
    "POST /api/accounts/{account_id}/services/{service_id}/sso": N_("Opened a service's control panel"),
    "POST /api/accounts/{account_id}/invoices/{invoice_id}/payments": N_("Started paying an invoice"),
    "POST /api/accounts/{account_id}/payments": N_("Started paying several invoices"),
    "POST /api/accounts/{account_id}/payment-methods": N_("Saved a payment method"),
    "PATCH /api/accounts/{account_id}/payment-methods/{payment_method_id}": N_("Changed a saved payment method"),
    "DELETE /api/accounts/{account_id}/payment-methods/{payment_method_id}": N_("Removed a saved payment method"),
}


@dataclass(frozen=True)
class Visit:
    """A signed-in page request: who acts, from where, and the audit log their changes go to."""

    request: PortalRequest
    user: PortalUser
    origin: Request
    request_id: str | None
    timezone: str
    audit_log: AuditLog
    clock: Clock

    def record(self, action: str, account_id: str | None, **target: str) -> None:
        """One audit entry for a change that succeeded (the account's log, or the user's own when no account)."""
        self.audit_log.record(
            AuditEntry(
                audit_id=new_ulid(),
                at=self.clock.now(),
                actor_user_id=self.user.user_id,
                actor_email=self.user.session.email,
                account_id=account_id,
                action=action,
                target={"account_id": account_id, **target} if account_id else dict(target),
                source_ip=self.origin.ip,
                request_id=self.request_id,
                staff=self.user.session.is_staff,
            )
        )

    def moment(self, value: datetime | None) -> str:
        """A timestamp in the visitor's language and the company's timezone."""
        return format_moment(value, self.request.language, self.timezone) if value else ""


def permission_options(membership: Membership | None = None) -> list[tuple[str, str, str]]:
    """(key, label, description) of every permission, or of a delegate's only."""
    delegate = membership is not None and membership.is_delegate
    return [(p.value, label, hint) for p, label, hint in PERMISSIONS if not delegate or p in DELEGATE_PERMISSIONS]


def department_options() -> list[tuple[str, str, str]]:
    return [(d.value, label, hint) for d, label, hint in DEPARTMENTS]


def language_options(request: PortalRequest, empty: str | None = None) -> list[tuple[str, str]]:
    """The three languages by their own names; ``empty`` adds a first choice meaning "none chosen"."""
    options = [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]
    return [("", request.gettext(empty)), *options] if empty else options


def labels(request: PortalRequest, keys: Iterable[str], names: dict[str, str]) -> list[str]:
    """Translated labels of ``keys`` in the order of ``names``."""
    wanted = set(keys)
    return [request.gettext(label) for key, label in names.items() if key in wanted]


def cursor_of(request: PortalRequest) -> str | None:
    cursor = request.query.get("cursor", "")
    return cursor if 0 < len(cursor) <= 2000 else None
