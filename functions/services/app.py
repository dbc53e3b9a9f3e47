"""Services: the public catalog, orders, the customer's services (list, detail with the live status), single sign-on
into cPanel, the cPanel password, upgrade/downgrade quotes and orders, cancellation requests; staff products,
service actions and provisioning failures.

Account routes need ``services`` (read; technical delegates see their own service without billing data),
``service_sso``, ``manage_services`` or ``orders``. The single sign-on route answers a short-lived URL that is
never logged, traced or stored: the handler logs no event and captures no response.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.adapters.clock import app_clock
from balcao.adapters.dynamodb.audit import DynamoAuditLog
from balcao.contracts.invoices import BillingMoney
from balcao.contracts.services import (
    CancellationIn,
    CurrencyKey,
    OrderIn,
    OrderOut,
    ProductIn,
    ProductList,
    ProductOut,
    ProductPatch,
    ProvisioningFailureList,
    ProvisioningRequestOut,
    QuoteOut,
    ServiceActionIn,
    ServiceList,
    ServiceOut,
    ServicePasswordIn,
    SsoOut,
    StaffProductList,
    StaffProductOut,
    StaffServiceList,
    UpgradeIn,
    UpgradeOrderOut,
)
from balcao.domain.accounts import Permission
from balcao.domain.catalog import Product
from balcao.domain.cycles import BillingCycle
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.money import Currency
from balcao.domain.principal import StaffRole
from balcao.domain.service_lifecycle import ServiceReason
from balcao.domain.services import CancellationType
from balcao.runtime import access, idempotency
from balcao.runtime.audit import RequestAuditor
from balcao.runtime.http import caller_language, rest_resolver
from balcao.runtime.observability import logger, tracer
from balcao.runtime.services_composition import catalog, provisioning, services
from balcao.services.services import OrderLineInput

app = rest_resolver(audit=RequestAuditor(DynamoAuditLog(), app_clock()))
AccountId = Annotated[str, Path(max_length=64)]
ItemId = Annotated[str, Path(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2000)]
NO_CONTENT = Response(204, "application/json", "")


def documented(declaration: dict[str, Any], *statuses: int) -> dict[str, Any]:
    """An access declaration that also documents the route's own error statuses (409, 503)."""
    extensions = dict(declaration["openapi_extensions"])
    extensions[access.ERRORS_EXTENSION] = sorted({*extensions.get(access.ERRORS_EXTENSION, []), *statuses})
    return {**declaration, "openapi_extensions": extensions}


SERVICES = access.account(Permission.SERVICES, service_scoped=True)
SSO = documented(access.account(Permission.SERVICE_SSO, service_scoped=True), 409, 503)
MANAGE = documented(access.account(Permission.MANAGE_SERVICES, service_scoped=True), 409, 503)
ORDERS = documented(access.account(Permission.ORDERS), 409)
SUPPORT = documented(access.staff(StaffRole.SUPPORT), 409)
ADMIN = documented(access.staff(), 409)


def created(model: Any) -> Response[str]:
    return idempotency.json_response(201, model)


def actor() -> str:
    return access.current_principal(app).user_id


def sees_billing() -> bool:
    """Technical delegates see the technical side only (seed 004): no price, cycle, due date or orders."""
    return not access.current_membership(app).is_delegate


# --- the catalog -----------------------------------------------------------------------------------------------------
@app.get("/api/catalog/products", **access.public())
def list_products(currency: Annotated[CurrencyKey | None, Query()] = None) -> ProductList:
    """What can be ordered, in the caller's language; ``currency``: only the prices in it."""
    chosen = Currency(currency) if currency else None
    language = caller_language(app)
    return ProductList(items=[ProductOut.of(p, language, chosen) for p in catalog().offered(chosen)])


# --- orders ----------------------------------------------------------------------------------------------------------
@app.post(
    "/api/accounts/<account_id>/orders",
    status_code=201,
    responses={201: {"description": "The order", "content": {"application/json": {"model": OrderOut}}}},
    **ORDERS,
)
def place_order(account_id: AccountId, body: OrderIn) -> Response[str]:
    """One or more products → pending services and one invoice (kind ``order``); accepted when it is paid."""

    def work() -> Response[str]:
        lines = [OrderLineInput(i.product_id, BillingCycle(i.cycle), i.domain, i.support_level) for i in body.items]
        method = PaymentMethod(body.payment_method) if body.payment_method else None
        placed = services().place_order(account_id, lines, actor(), method)
        return created(OrderOut.of(placed.order, placed.invoice.amount_due))

    return idempotency.once(app, work)


# --- services --------------------------------------------------------------------------------------------------------
@app.get("/api/accounts/<account_id>/services", **SERVICES)
def list_services(account_id: AccountId, limit: Limit = 25, cursor: Cursor = None) -> ServiceList:
    """The account's services (a technical delegate: their own service only)."""
    membership = access.current_membership(app)
    use_cases = services()
    if membership.is_delegate:
        own = use_cases.service(account_id, membership.service_id or "")
        return ServiceList(items=[ServiceOut.of(own, billing=False)], next=None)
    found, next_cursor = use_cases.page(account_id, limit, cursor)
    return ServiceList(items=[ServiceOut.of(s) for s in found], next=next_cursor)


@app.get("/api/accounts/<account_id>/services/<service_id>", **SERVICES)
def get_service(account_id: AccountId, service_id: ItemId) -> ServiceOut:
    """One service with the control panel's live state (a short timeout; the last known state when it is slow)."""
    use_cases = services()
    service = use_cases.service(account_id, service_id)
    return ServiceOut.of(service, billing=sees_billing(), live=use_cases.live_status(service))


@app.post("/api/accounts/<account_id>/services/<service_id>/sso", **SSO)
def single_sign_on(account_id: AccountId, service_id: ItemId) -> SsoOut:
    """A one-time cPanel session URL (valid for a short time; open it at once)."""
    return SsoOut(url=services().sso_url(account_id, service_id))


@app.post("/api/accounts/<account_id>/services/<service_id>/password", status_code=204, **MANAGE)
def change_password(account_id: AccountId, service_id: ItemId, body: ServicePasswordIn) -> Response[str]:
    """The cPanel account's password (the password policy applies); kept nowhere."""
    services().change_password(account_id, service_id, body.password)
    return NO_CONTENT


@app.post(
    "/api/accounts/<account_id>/services/<service_id>/upgrade",
    responses={
        200: {"description": "The quote (``confirm: false``)", "content": {"application/json": {"model": QuoteOut}}},
        201: {
            "description": "The order (``confirm: true``)",
            "content": {"application/json": {"model": UpgradeOrderOut}},
        },
    },
    **ORDERS,
)
def upgrade(account_id: AccountId, service_id: ItemId, body: UpgradeIn) -> Response[str]:
    """An upgrade or downgrade: ``confirm: false`` quotes it (prorated in whole days); ``confirm: true`` orders it —
    an invoice of kind ``upgrade`` applied when paid, or a downgrade applied at once with the rest to credit."""
    use_cases = services()
    cycle = BillingCycle(body.cycle)
    if not body.confirm:
        quoted = use_cases.quote(account_id, service_id, body.product_id, cycle, body.support_level)
        return idempotency.json_response(200, QuoteOut.of(quoted))
    confirmed = use_cases.confirm_change(account_id, service_id, body.product_id, cycle, body.support_level, actor())
    return created(
        UpgradeOrderOut(
            order_id=confirmed.order.order_id,
            invoice_id=confirmed.invoice.invoice_id if confirmed.invoice else None,
            amount_due=BillingMoney.of(confirmed.amount_due),
            status=confirmed.order.status.value,
        )
    )


@app.post(
    "/api/accounts/<account_id>/services/<service_id>/cancellation",
    status_code=201,
    responses={
        201: {"description": "The service with its request", "content": {"application/json": {"model": ServiceOut}}}
    },
    **ORDERS,
)
def request_cancellation(account_id: AccountId, service_id: ItemId, body: CancellationIn) -> Response[str]:
    """``immediate`` or ``end_of_period`` (the next due date); its unpaid renewal is cancelled."""
    service = services().request_cancellation(account_id, service_id, CancellationType(body.type), body.reason, actor())
    return created(ServiceOut.of(service))


@app.delete("/api/accounts/<account_id>/services/<service_id>/cancellation", status_code=204, **ORDERS)
def withdraw_cancellation(account_id: AccountId, service_id: ItemId) -> Response[str]:
    """Keep the service (before the request's date)."""
    services().withdraw_cancellation(account_id, service_id, actor())
    return NO_CONTENT


# --- staff: products --------------------------------------------------------------------------------------------------
@app.get("/api/staff/products", **ADMIN)
def staff_products() -> StaffProductList:
    return StaffProductList(items=[StaffProductOut.of(p) for p in catalog().everything()])


@app.post(
    "/api/staff/products",
    status_code=201,
    responses={201: {"description": "The product", "content": {"application/json": {"model": StaffProductOut}}}},
    **ADMIN,
)
def staff_create_product(body: ProductIn) -> Response[str]:
    return created(StaffProductOut.of(catalog().create(body.domain())))


@app.patch("/api/staff/products/<product_id>", **ADMIN)
def staff_update_product(product_id: ItemId, body: ProductPatch) -> StaffProductOut:
    """Prices and support levels are replaced as a whole; ``unlimited_stock: true`` removes the stock limit."""

    def changed(current: Product) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if body.name is not None:
            values["name"] = body.name.as_dict()
        if body.description is not None:
            values["description"] = body.description.as_dict()
        if body.prices is not None:
            values["prices"] = tuple(p.domain() for p in body.prices)
        if body.support_levels is not None:
            values["support_levels"] = tuple(s.domain() for s in body.support_levels)
        for name in ("package", "visible", "stock", "position"):
            if getattr(body, name) is not None:
                values[name] = getattr(body, name)
        if body.unlimited_stock:
            values["stock"] = None
        return values

    return StaffProductOut.of(catalog().update(product_id, changed))


# --- staff: services --------------------------------------------------------------------------------------------------
def _staff_action(service_id: str, action: str, body: ServiceActionIn) -> ServiceOut:
    service = services().staff_action(service_id, action, ServiceReason(body.reason), f"staff:{actor()}")
    app.context["audit_account_id"] = service.account_id
    return ServiceOut.of(service)


@app.post("/api/staff/services/<service_id>/activate", **SUPPORT)
def staff_activate(service_id: ItemId, body: ServiceActionIn) -> ServiceOut:
    """A pending service becomes active (its control panel account is created) without waiting for payment."""
    return _staff_action(service_id, "activate", body)


@app.post("/api/staff/services/<service_id>/suspend", **SUPPORT)
def staff_suspend(service_id: ItemId, body: ServiceActionIn) -> ServiceOut:
    """Suspended with a reason; only ``overdue`` suspensions lift themselves when the invoice is paid."""
    return _staff_action(service_id, "suspend", body)


@app.post("/api/staff/services/<service_id>/unsuspend", **SUPPORT)
def staff_unsuspend(service_id: ItemId, body: ServiceActionIn) -> ServiceOut:
    return _staff_action(service_id, "unsuspend", body)


@app.post("/api/staff/services/<service_id>/terminate", **SUPPORT)
def staff_terminate(service_id: ItemId, body: ServiceActionIn) -> ServiceOut:
    """Final: the control panel account is removed."""
    return _staff_action(service_id, "terminate", body)


@app.post("/api/staff/services/<service_id>/provisioning/retry", **SUPPORT)
def staff_retry_provisioning(service_id: ItemId) -> ProvisioningRequestOut:
    """The service's failed provisioning request, queued again (still carried out at most once)."""
    request = provisioning().retry(service_id)
    app.context["audit_account_id"] = request.account_id
    return ProvisioningRequestOut.of(request)


@app.get("/api/staff/provisioning/failures", **SUPPORT)
def staff_provisioning_failures(limit: Limit = 25, cursor: Cursor = None) -> ProvisioningFailureList:
    """Provisioning requests that failed after their attempts, oldest first."""
    found, next_cursor = provisioning().failures(limit, cursor)
    return ProvisioningFailureList(items=[ProvisioningRequestOut.of(r) for r in found], next=next_cursor)


@app.get("/api/staff/accounts/<account_id>/services", **SUPPORT)
def staff_account_services(account_id: AccountId, limit: Limit = 25, cursor: Cursor = None) -> StaffServiceList:
    found, next_cursor = services().page(account_id, limit, cursor)
    return StaffServiceList(items=[ServiceOut.of(s) for s in found], next=next_cursor)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
