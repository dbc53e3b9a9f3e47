"""The services pages: the catalog and the order form, the services list, a service's page (live state, single
sign-on into cPanel, the panel password), the plan change (quote, then order) and the cancellation request.

Every change is recorded in the account's audit log under the same action names as the JSON API. The single
sign-on answers a page that opens the short-lived URL; the URL is neither logged nor kept.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from balcao.domain.accounts import Membership, Permission
from balcao.domain.catalog import Product, localized
from balcao.domain.cycles import BillingCycle
from balcao.domain.errors import N_, ConflictError, InvalidInputError, ProviderUnavailableError
from balcao.domain.money import Currency
from balcao.domain.services import Service
from balcao.services.services import CYCLE_LABELS, OrderLineInput, Services
from balcao.web.portal import page, redirect, with_query
from balcao.web.views.forms import field_errors
from balcao.web.views.identity import Visit

STATUS_LABELS = {
    "pending": N_("Pending"),
    "active": N_("Active"),
    "suspended": N_("Suspended"),
    "cancelled": N_("Cancelled"),
    "terminated": N_("Terminated"),
}
REASON_LABELS = {
    "overdue": N_("overdue invoice"),
    "abuse": N_("breach of the terms of use"),
    "customer_request": N_("at your request"),
    "staff": N_("by our team"),
    "unpaid_order": N_("order not paid"),
}
LIVE_LABELS = {
    "active": N_("Online"),
    "suspended": N_("Suspended on the server"),
    "missing": N_("Not on the server"),
    "unknown": N_("Unknown"),
}
PROVISIONING_LABELS = {
    "queued": N_("Being set up on the server"),
    "failed": N_("Setting up failed: our team was told and will fix it"),
}
CANCELLATION_TYPES = (
    ("end_of_period", N_("At the end of the period already paid")),
    ("immediate", N_("Now (the unused time is not refunded)")),
)
CHANGE_ACTION = "POST /api/accounts/{account_id}/services/{service_id}/upgrade"


def _currency(membership: Membership, services: Services) -> Currency:
    buyer = services.invoices.store.buyer(membership.account_id)
    return buyer.currency if buyer is not None and buyer.currency else Currency(services.invoices.default_currency)


def _product_rows(visit: Visit, products: list[Product], currency: Currency) -> list[dict[str, Any]]:
    """Each product with its prices, cycles and support levels in the visitor's language and the currency."""
    language = visit.request.language
    rows = []
    for product in products:
        prices = product.offered_in(currency)
        cycles = [(p.cycle.value, visit.request.gettext(CYCLE_LABELS[p.cycle.value])) for p in prices]
        levels = []
        for level in product.support_levels:
            offered = [p for p in level.prices if p.price.currency is currency]
            if offered:
                levels.append((level.code, localized(level.name, language), offered))
        rows.append(
            {
                "product": product,
                "name": product.name_in(language),
                "description": localized(product.description, language) if product.description else "",
                "prices": [(label, p.price, p.setup_fee) for (_, label), p in zip(cycles, prices, strict=True)],
                "cycles": cycles,
                "levels": levels,
            }
        )
    return rows


def _choices(visit: Visit, rows: list[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    """The billing cycles and support levels any of the products offers (the form's selects)."""
    cycles: list[tuple[str, str]] = []
    levels: list[tuple[str, str]] = [("", visit.request.gettext(N_("The plan's standard level")))]
    for row in rows:
        cycles.extend(option for option in row["cycles"] if option not in cycles)
        for code, name, _prices in row["levels"]:
            if all(code != known for known, _ in levels):
                levels.append((code, name))
    return {"cycle_options": cycles, "level_options": levels}


# --- the catalog and the order -------------------------------------------------------------------------------------
def order_page(
    visit: Visit,
    membership: Membership,
    services: Services,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    failed: str | None = None,
    status: int = 200,
) -> Response[str]:
    currency = _currency(membership, services)
    offered = [p for p in services.catalog.products() if p.visible and p.offered_in(currency)]
    rows = _product_rows(visit, offered, currency)
    return page(
        visit.request,
        "services/order.html",
        status=status,
        title=N_("Order a service"),
        rows=rows,
        **_choices(visit, rows),
        values=values or {},
        errors=errors or {},
        failed=failed,
    )


def order(visit: Visit, membership: Membership, services: Services) -> Response[str]:
    request = visit.request
    values = {name: request.value(name) for name in ("product_id", "cycle", "domain", "support_level")}
    try:
        cycle = BillingCycle(values["cycle"])
    except ValueError:
        errors = {"cycle": request.gettext(N_("Choose a billing cycle."))}
        return order_page(visit, membership, services, values, errors, status=422)
    line = OrderLineInput(values["product_id"], cycle, values["domain"] or None, values["support_level"] or None)
    try:
        placed = services.place_order(membership.account_id, [line], visit.user.user_id)
    except InvalidInputError as error:
        errors = {key.removeprefix("items.0."): text for key, text in field_errors(request, error).items()}
        return order_page(visit, membership, services, values, errors, status=422)
    except ConflictError as error:
        return order_page(visit, membership, services, values, failed=error.message, status=409)
    visit.record("POST /api/accounts/{account_id}/orders", membership.account_id, order_id=placed.order.order_id)
    return redirect(request, with_query(f"/invoices/{placed.invoice.invoice_id}", notice="ordered"))


# --- the list and a service's page ------------------------------------------------------------------------------------
def _row(visit: Visit, service: Service) -> dict[str, Any]:
    return {
        "service": service,
        "status": visit.request.gettext(STATUS_LABELS[service.status.value]),
        "reason": visit.request.gettext(REASON_LABELS[service.reason.value]) if service.reason else "",
        "cycle": visit.request.gettext(CYCLE_LABELS[service.cycle.value]) if service.cycle else "",
    }


def list_page(visit: Visit, membership: Membership, services: Services) -> Response[str]:
    cursor = visit.request.query.get("cursor") or None
    found, next_cursor = services.page(membership.account_id, 25, cursor if cursor and len(cursor) < 2000 else None)
    return page(
        visit.request,
        "services/list.html",
        title=N_("Services"),
        rows=[_row(visit, s) for s in found],
        next_cursor=next_cursor,
        can_order=Permission.ORDERS in membership.effective_permissions(),
    )


def detail_page(
    visit: Visit,
    membership: Membership,
    services: Services,
    service_id: str,
    errors: dict[str, str] | None = None,
    failed: str | None = None,
    status: int = 200,
) -> Response[str]:
    service = services.service(membership.account_id, service_id)
    live = services.live_status(service)
    permissions = membership.effective_permissions()
    provisioning = service.provisioning
    return page(
        visit.request,
        "services/detail.html",
        status=status,
        title=service.domain or service.name,
        row=_row(visit, service),
        service=service,
        live=live,
        live_label=visit.request.gettext(LIVE_LABELS.get(live.state, LIVE_LABELS["unknown"])) if live else "",
        checked_at=visit.moment(live.checked_at) if live and live.checked_at else "",
        provisioning=visit.request.gettext(PROVISIONING_LABELS[provisioning.state.value])
        if provisioning is not None and provisioning.state.value in PROVISIONING_LABELS
        else "",
        can_sso=Permission.SERVICE_SSO in permissions and service.is_provisioned and service.status.value == "active",
        can_manage=Permission.MANAGE_SERVICES in permissions
        and service.is_provisioned
        and service.status.value == "active",
        can_order=Permission.ORDERS in permissions and service.status.value in ("active", "suspended"),
        errors=errors or {},
        failed=failed,
    )


def single_sign_on(visit: Visit, membership: Membership, services: Services, service_id: str) -> Response[str]:
    try:
        url = services.sso_url(membership.account_id, service_id)
    except (ConflictError, ProviderUnavailableError) as error:
        return detail_page(visit, membership, services, service_id, failed=error.message, status=409)
    visit.record(
        "POST /api/accounts/{account_id}/services/{service_id}/sso", membership.account_id, service_id=service_id
    )
    return page(visit.request, "services/sso.html", title=N_("Control panel"), url=url)


def change_password(visit: Visit, membership: Membership, services: Services, service_id: str) -> Response[str]:
    try:
        services.change_password(membership.account_id, service_id, visit.request.value("password"))
    except InvalidInputError as error:
        return detail_page(visit, membership, services, service_id, field_errors(visit.request, error), status=422)
    except (ConflictError, ProviderUnavailableError) as error:
        return detail_page(visit, membership, services, service_id, failed=error.message, status=409)
    visit.record(
        "POST /api/accounts/{account_id}/services/{service_id}/password", membership.account_id, service_id=service_id
    )
    return redirect(visit.request, with_query(f"/services/{service_id}", notice="service_password_changed"))


# --- plan changes --------------------------------------------------------------------------------------------------
def upgrade_page(
    visit: Visit,
    membership: Membership,
    services: Services,
    service_id: str,
    values: dict[str, str] | None = None,
    quote: Any = None,
    errors: dict[str, str] | None = None,
    failed: str | None = None,
    status: int = 200,
) -> Response[str]:
    service, currency = services.service_and_currency(membership.account_id, service_id)
    offered = [p for p in services.catalog.products() if p.visible and p.offered_in(currency)]
    chosen = values or {
        "product_id": service.product_id or "",
        "cycle": service.cycle.value if service.cycle else "",
        "support_level": service.support_level or "",
    }
    rows = _product_rows(visit, offered, currency)
    return page(
        visit.request,
        "services/upgrade.html",
        status=status,
        title=N_("Change the plan"),
        service=service,
        row=_row(visit, service),
        rows=rows,
        **_choices(visit, rows),
        values=chosen,
        quote=quote,
        errors=errors or {},
        failed=failed,
    )


def upgrade(visit: Visit, membership: Membership, services: Services, service_id: str) -> Response[str]:
    request = visit.request
    values = {name: request.value(name) for name in ("product_id", "cycle", "support_level")}
    confirm = request.value("confirm") == "yes"
    try:
        cycle = BillingCycle(values["cycle"])
    except ValueError:
        errors = {"cycle": request.gettext(N_("Choose a billing cycle."))}
        return upgrade_page(visit, membership, services, service_id, values, errors=errors, status=422)
    level = values["support_level"] or None
    try:
        if not confirm:
            quoted = services.quote(membership.account_id, service_id, values["product_id"], cycle, level)
            return upgrade_page(visit, membership, services, service_id, values, quote=quoted)
        confirmed = services.confirm_change(
            membership.account_id, service_id, values["product_id"], cycle, level, visit.user.user_id
        )
    except InvalidInputError as error:
        return upgrade_page(
            visit, membership, services, service_id, values, errors=field_errors(request, error), status=422
        )
    except ConflictError as error:
        return upgrade_page(visit, membership, services, service_id, values, failed=error.message, status=409)
    visit.record(CHANGE_ACTION, membership.account_id, service_id=service_id, order_id=confirmed.order.order_id)
    if confirmed.invoice is not None:
        return redirect(request, with_query(f"/invoices/{confirmed.invoice.invoice_id}", notice="plan_change_ordered"))
    return redirect(request, with_query(f"/services/{service_id}", notice="plan_changed"))


# --- cancellation ---------------------------------------------------------------------------------------------------
def cancellation_page(
    visit: Visit,
    membership: Membership,
    services: Services,
    service_id: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    failed: str | None = None,
    status: int = 200,
) -> Response[str]:
    service = services.service(membership.account_id, service_id)
    return page(
        visit.request,
        "services/cancellation.html",
        status=status,
        title=N_("Cancel the service"),
        service=service,
        row=_row(visit, service),
        types=[(key, visit.request.gettext(label)) for key, label in CANCELLATION_TYPES],
        values=values or {"type": "end_of_period", "reason": ""},
        errors=errors or {},
        failed=failed,
    )


def request_cancellation(visit: Visit, membership: Membership, services: Services, service_id: str) -> Response[str]:
    from balcao.domain.services import CancellationType

    request = visit.request
    values = {"type": request.value("type"), "reason": request.value("reason")}
    try:
        kind = CancellationType(values["type"])
    except ValueError:
        errors = {"type": request.gettext(N_("Choose when the service ends."))}
        return cancellation_page(visit, membership, services, service_id, values, errors, status=422)
    if not values["reason"] or len(values["reason"]) > 1000:
        errors = {"reason": request.gettext(N_("Tell us why you are cancelling."))}
        return cancellation_page(visit, membership, services, service_id, values, errors, status=422)
    try:
        services.request_cancellation(membership.account_id, service_id, kind, values["reason"], visit.user.user_id)
    except ConflictError as error:
        return cancellation_page(visit, membership, services, service_id, values, failed=error.message, status=409)
    visit.record(
        "POST /api/accounts/{account_id}/services/{service_id}/cancellation",
        membership.account_id,
        service_id=service_id,
    )
    notice = "service_cancelled" if kind.value == "immediate" else "cancellation_requested"
    return redirect(request, with_query(f"/services/{service_id}", notice=notice))


def withdraw_cancellation(visit: Visit, membership: Membership, services: Services, service_id: str) -> Response[str]:
    try:
        services.withdraw_cancellation(membership.account_id, service_id, visit.user.user_id)
    except ConflictError as error:
        return detail_page(visit, membership, services, service_id, failed=error.message, status=409)
    visit.record(
        "DELETE /api/accounts/{account_id}/services/{service_id}/cancellation",
        membership.account_id,
        service_id=service_id,
    )
    return redirect(visit.request, with_query(f"/services/{service_id}", notice="cancellation_withdrawn"))
