"""Contacts: people who only receive the account's email, per department they subscribe to.

The list warns, like the seeds do, when every address of the account is on a domain it hosts with us (seed 002:
if that domain goes down, reminders are lost) and when an address is on Microsoft's consumer mail, which often
filters hosting mail (seed 000). The owner can turn a contact into a user with a pre-filled invitation.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from balcao.domain.accounts import Contact, Membership
from balcao.domain.errors import N_, ConflictError, InvalidInputError
from balcao.services.accounts import Accounts, contact_warnings
from balcao.web.portal import LANGUAGE_NAMES, page, redirect, with_query
from balcao.web.views.forms import field_errors
from balcao.web.views.identity import (
    DEPARTMENT_LABELS,
    Visit,
    department_options,
    labels,
    language_options,
    permission_options,
)
from balcao.web.views.users import Invitations

CONTACT_FIELDS = ("name", "email", "phone", "language")
NO_LANGUAGE = N_("The account's language")


def _rows(visit: Visit, contacts: list[Contact]) -> list[dict[str, Any]]:
    return [
        {
            "contact": contact,
            "departments": labels(visit.request, {d.value for d in contact.departments}, DEPARTMENT_LABELS),
            "language": LANGUAGE_NAMES.get(contact.language or "", ""),
            "language_code": contact.language or "",
        }
        for contact in sorted(contacts, key=lambda c: (c.name.lower(), c.contact_id))
    ]


def _submitted(visit: Visit) -> dict[str, Any]:
    values: dict[str, Any] = {name: visit.request.value(name) for name in CONTACT_FIELDS}
    values["departments"] = visit.request.values("departments")
    return values


def list_page(
    visit: Visit,
    membership: Membership,
    accounts: Accounts,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    contacts = accounts.contacts(membership.account_id)
    warnings = contact_warnings(membership.notice_email, membership.hosted_domains, contacts).as_list(
        membership.hosted_domains
    )
    return page(
        visit.request,
        "identity/contacts.html",
        status=status,
        title=N_("Contacts"),
        rows=_rows(visit, contacts),
        warnings=warnings,
        is_owner=membership.is_owner,
        values=values or {"departments": ["general"]},
        errors=errors or {},
        department_options=department_options(),
        language_options=language_options(visit.request, NO_LANGUAGE),
    )


def add(visit: Visit, membership: Membership, accounts: Accounts) -> Response[str]:
    values = _submitted(visit)
    try:
        contact = accounts.add_contact(
            membership.account_id,
            values["name"],
            values["email"],
            values["departments"],
            values["phone"] or None,
            values["language"] or None,
        )
    except InvalidInputError as error:
        errors = field_errors(visit.request, error)
        return list_page(visit, membership, accounts, values, errors, 422)
    visit.record("POST /api/accounts/{account_id}/contacts", membership.account_id, contact_id=contact.contact_id)
    return redirect(visit.request, with_query("/contacts", notice="contact_added"))


def _edit_form(
    visit: Visit,
    contact: Contact,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    return page(
        visit.request,
        "identity/contact_edit.html",
        status=status,
        title=N_("Edit the contact"),
        contact=contact,
        values=values,
        errors=errors or {},
        department_options=department_options(),
        language_options=language_options(visit.request, NO_LANGUAGE),
    )


def edit_page(visit: Visit, membership: Membership, accounts: Accounts, contact_id: str) -> Response[str]:
    contact = accounts.contact(membership.account_id, contact_id)
    values = {
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone or "",
        "language": contact.language or "",
        "departments": [d.value for d in contact.departments],
    }
    return _edit_form(visit, contact, values)


def update(visit: Visit, membership: Membership, accounts: Accounts, contact_id: str) -> Response[str]:
    contact = accounts.contact(membership.account_id, contact_id)
    values = _submitted(visit)
    changes = {**values, "phone": values["phone"] or None, "language": values["language"] or None}
    try:
        accounts.update_contact(membership.account_id, contact_id, changes)
    except InvalidInputError as error:
        return _edit_form(visit, contact, values, field_errors(visit.request, error), 422)
    visit.record("PATCH /api/accounts/{account_id}/contacts/{contact_id}", membership.account_id, contact_id=contact_id)
    return redirect(visit.request, with_query("/contacts", notice="saved"))


def delete_page(visit: Visit, membership: Membership, accounts: Accounts, contact_id: str) -> Response[str]:
    contact = accounts.contact(membership.account_id, contact_id)
    return page(visit.request, "identity/contact_delete.html", title=N_("Remove the contact"), contact=contact)


def delete(visit: Visit, membership: Membership, accounts: Accounts, contact_id: str) -> Response[str]:
    accounts.remove_contact(membership.account_id, contact_id)
    visit.record(
        "DELETE /api/accounts/{account_id}/contacts/{contact_id}", membership.account_id, contact_id=contact_id
    )
    return redirect(visit.request, with_query("/contacts", notice="contact_removed"))


def _invite_form(
    visit: Visit,
    contact: Contact,
    selected: list[str],
    errors: dict[str, str] | None = None,
    status: int = 200,
    failed: str | None = None,
) -> Response[str]:
    return page(
        visit.request,
        "identity/contact_invite.html",
        status=status,
        title=N_("Make this contact a user"),
        contact=contact,
        selected=selected,
        errors=errors or {},
        failed=failed,
        permission_options=permission_options(),
    )


def invite_page(visit: Visit, membership: Membership, accounts: Accounts, contact_id: str) -> Response[str]:
    contact = accounts.contact(membership.account_id, contact_id)
    return _invite_form(visit, contact, ["contacts"])


def invite(visit: Visit, membership: Membership, invitations: Invitations, contact_id: str) -> Response[str]:
    contact = invitations.accounts.contact(membership.account_id, contact_id)
    selected = visit.request.values("permissions")
    try:
        invitations.send(visit, membership, contact.email, selected)
    except InvalidInputError as error:
        return _invite_form(visit, contact, selected, field_errors(visit.request, error), 422)
    except ConflictError as error:
        return _invite_form(visit, contact, selected, status=409, failed=error.message)
    visit.record(
        "POST /api/accounts/{account_id}/contacts/{contact_id}/invitation",
        membership.account_id,
        contact_id=contact_id,
    )
    return redirect(visit.request, with_query("/users", notice="invited"))
