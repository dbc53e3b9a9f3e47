"""Building the services use-cases with their adapters, once per container (the services functions, the provisioning
function and the portal share it).

The control panel: on the local stack (and in tests) the simulated panel; deployed, WHM with the API token from
Secrets Manager (``WHM_BASE_URL``, ``WHM_USERNAME``, ``WHM_TOKEN_SECRET_ID``) — or, when no URL is configured, a
panel that refuses every action, so provisioning fails where staff see it instead of pretending. The live status
uses its own WHM client: one attempt within the company's short timeout.
"""

from __future__ import annotations

from functools import cache

from balcao.adapters.clock import app_clock
from balcao.adapters.dynamodb.catalog import DynamoCatalogStore
from balcao.adapters.dynamodb.services import DynamoServiceStore
from balcao.domain.provisioning import AccountStatus, ProvisionedAccount, ProvisioningError, ProvisioningRequest
from balcao.domain.services import LiveSnapshot
from balcao.runtime import composition
from balcao.runtime.invoices_composition import invoices
from balcao.runtime.settings import load_settings
from balcao.services.catalog import Catalog
from balcao.services.ports import Provisioner
from balcao.services.provisioning import Provisioning
from balcao.services.services import PanelStatus, Services

# The live status's fresh answers, per container (the fallback when the panel is slow is the service's snapshot).
LIVE_CACHE: dict[str, LiveSnapshot] = {}
_installed: Provisioner | None = None


class UnconfiguredPanel:
    """No control panel configured on this stack: every action fails (not retried), visibly."""

    def _refuse(self) -> ProvisioningError:
        return ProvisioningError("no control panel is configured (WHM_BASE_URL)", retryable=False)

    def create(self, request: ProvisioningRequest) -> ProvisionedAccount:
        raise self._refuse()

    def suspend(self, username: str, reason: str) -> None:
        raise self._refuse()

    def unsuspend(self, username: str) -> None:
        raise self._refuse()

    def terminate(self, username: str) -> None:
        raise self._refuse()

    def change_package(self, username: str, package: str) -> None:
        raise self._refuse()

    def change_password(self, username: str, password: str) -> None:
        raise self._refuse()

    def sso_url(self, username: str, service: str = "cpaneld") -> str:
        raise self._refuse()

    def status(self, username: str) -> AccountStatus:
        raise self._refuse()


def install_panel(panel: Provisioner | None) -> None:
    """Use ``panel`` in this process (tests inject faults and a panel without latency); None: the configured one."""
    global _installed
    _installed = panel
    _configured_panel.cache_clear()
    _status_panel.cache_clear()
    LIVE_CACHE.clear()


@cache
def _configured_panel() -> Provisioner:
    settings = load_settings()
    if settings.is_local:
        from balcao.adapters.provisioning.simulated import SimulatedProvisioner

        return SimulatedProvisioner(sso_base_url=settings.public_base_url)
    if not settings.whm_base_url:
        return UnconfiguredPanel()
    from balcao.adapters.provisioning.whm import WhmProvisioner
    from balcao.adapters.secrets import secret_value

    return WhmProvisioner(
        settings.whm_base_url, secret_value(settings.whm_token_secret_id), username=settings.whm_username
    )


@cache
def _status_panel(timeout_seconds: float) -> PanelStatus:
    settings = load_settings()
    if settings.is_local or not settings.whm_base_url:
        return _configured_panel()
    from balcao.adapters.provisioning.whm import WhmProvisioner
    from balcao.adapters.secrets import secret_value

    return WhmProvisioner(
        settings.whm_base_url,
        secret_value(settings.whm_token_secret_id),
        username=settings.whm_username,
        timeout_seconds=timeout_seconds,
        retries=0,
    )


def panel() -> Provisioner:
    return _installed if _installed is not None else _configured_panel()


def panel_status(timeout_seconds: float) -> PanelStatus:
    if _installed is not None:
        return _installed
    return _status_panel(timeout_seconds)


@cache
def service_store() -> DynamoServiceStore:
    return DynamoServiceStore()


@cache
def catalog_store() -> DynamoCatalogStore:
    return DynamoCatalogStore()


def catalog() -> Catalog:
    return Catalog(catalog_store())


def services() -> Services:
    settings = composition.company().services
    return Services(
        store=service_store(),
        catalog=catalog_store(),
        invoices=invoices(),
        clock=app_clock(),
        settings=settings,
        panel=panel(),
        panel_status=panel_status(settings.live_status_timeout_seconds),
        live_cache=LIVE_CACHE,
    )


def provisioning() -> Provisioning:
    settings = composition.company().services
    return Provisioning(
        store=service_store(), panel=panel(), clock=app_clock(), attempts=settings.provisioning_attempts
    )
