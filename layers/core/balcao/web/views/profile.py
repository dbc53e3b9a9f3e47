"""The account's profile (contract data) and what only its owner may ask for: a data export, the closure.

The edit form posts to the same use-case as ``PATCH /api/accounts/{id}``: every field is validated at once and a
refusal re-renders the form (422) with the submitted values and one message per field.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from babel import Locale

from balcao.domain.accounts import AccountProfile, AccountStatus, Membership
from balcao.domain.addresses import ADDRESS_FIELDS, ISO_3166_ALPHA_2
from balcao.domain.errors import N_, InvalidInputError
from balcao.services.accounts import Accounts
from balcao.web.i18n import LANGUAGES, babel_locale
from balcao.web.portal import LANGUAGE_NAMES, page, redirect, with_query
from balcao.web.views.forms import field_errors
from balcao.web.views.identity import Visit, language_options

PROFILE_FIELDS = ("name", "company", "tax_id", "phone", "language", "notice_email")


@cache
def countries(language: str) -> tuple[tuple[str, str], ...]:
    """Every ISO 3166 country as (code, name in ``language``), sorted by name."""
    names = Locale.parse(babel_locale(language if language in LANGUAGES else "en")).territories

    def folded(option: tuple[str, str]) -> str:
        return unicodedata.normalize("NFKD", option[1]).encode("ascii", "ignore").decode().lower()

    return tuple(sorted(((code, names.get(code, code)) for code in ISO_3166_ALPHA_2), key=folded))


def _summary(visit: Visit, account: AccountProfile) -> dict[str, Any]:
    names = dict(countries(visit.request.language))
    address = account.address
    lines: list[str] = []
    if address:
        lines.append(", ".join(p for p in (address.line1, address.number, address.line2) if p))
        lines.append(" – ".join(p for p in (address.district, address.city, address.state) if p))
        lines.append(" ".join(p for p in (address.postal_code, names.get(address.country, address.country)) if p))
    return {
        "tax_id": f"{account.tax_id.kind.value.upper()} {account.tax_id.formatted}" if account.tax_id else "",
        "address_lines": [line for line in lines if line],
        "language": LANGUAGE_NAMES.get(account.language, account.language),
        "language_code": account.language,
        "closure_requested_at": visit.moment(account.closure_requested_at),
    }


def show(visit: Visit, membership: Membership, accounts: Accounts) -> Response[str]:
    account = accounts.profile(membership.account_id)
    return page(
        visit.request,
        "identity/profile.html",
        title=N_("Profile"),
        account=account,
        summary=_summary(visit, account),
        is_owner=membership.is_owner,
        closure_requested=account.status is not AccountStatus.ACTIVE,
    )


def _form_values(account: AccountProfile) -> dict[str, str]:
    values = {
        "name": account.name,
        "company": account.company or "",
        "tax_id": account.tax_id.formatted if account.tax_id else "",
        "phone": account.phone or "",
        "language": account.language,
        "notice_email": account.notice_email,
        "require_mfa": "yes" if account.require_mfa else "",
    }
    for name in ADDRESS_FIELDS:
        values[f"address.{name}"] = (getattr(account.address, name) or "") if account.address else ""
    return values


def _edit_form(
    visit: Visit,
    membership: Membership,
    account: AccountProfile,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    return page(
        visit.request,
        "identity/profile_edit.html",
        status=status,
        title=N_("Edit the profile"),
        account=account,
        values=values,
        errors=errors or {},
        is_owner=membership.is_owner,
        language_options=language_options(visit.request),
        country_options=[("", visit.request.gettext(N_("Choose a country"))), *countries(visit.request.language)],
    )


def edit_page(visit: Visit, membership: Membership, accounts: Accounts) -> Response[str]:
    account = accounts.profile(membership.account_id)
    return _edit_form(visit, membership, account, _form_values(account))


def update(visit: Visit, membership: Membership, accounts: Accounts) -> Response[str]:
    request = visit.request
    values = {name: request.value(name) for name in PROFILE_FIELDS}
    values.update({f"address.{name}": request.value(f"address.{name}") for name in ADDRESS_FIELDS})
    address = {name: values[f"address.{name}"] for name in ADDRESS_FIELDS if values[f"address.{name}"]}
    changes: dict[str, Any] = {name: values[name] for name in PROFILE_FIELDS}
    changes["address"] = address or None
    if membership.is_owner:
        values["require_mfa"] = request.value("require_mfa")
        changes["require_mfa"] = values["require_mfa"] == "yes"
    try:
        accounts.update_profile(membership.account_id, changes)
    except InvalidInputError as error:
        account = accounts.profile(membership.account_id)
        return _edit_form(visit, membership, account, values, field_errors(request, error), 422)
    visit.record("PATCH /api/accounts/{account_id}", membership.account_id)
    return redirect(request, with_query("/profile", notice="saved"))


def request_export(visit: Visit, membership: Membership, accounts: Accounts) -> Response[str]:
    accounts.request_export(membership.account_id, visit.user.user_id)
    visit.record("POST /api/accounts/{account_id}/exports", membership.account_id)
    return redirect(visit.request, with_query("/profile", notice="export_requested"))


def closure_page(visit: Visit, membership: Membership, accounts: Accounts) -> Response[str]:
    account = accounts.profile(membership.account_id)
    return page(
        visit.request,
        "identity/closure.html",
        title=N_("Close the account"),
        account=account,
        closure_requested=account.status is not AccountStatus.ACTIVE,
    )


def request_closure(visit: Visit, membership: Membership, accounts: Accounts, fiscal_years: int) -> Response[str]:
    accounts.request_closure(membership.account_id, fiscal_years)
    visit.record("POST /api/accounts/{account_id}/closure", membership.account_id)
    return redirect(visit.request, with_query("/profile", notice="closure_requested"))
