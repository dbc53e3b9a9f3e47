"""Building the dunning use-cases with their adapters, once per container (the dunning functions and the billing
function's staff route share it). The company settings are read per call (cached 30 s by their store), so a policy
change applies to the next step of every running workflow."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from balcao.adapters.clock import app_clock
from balcao.adapters.dynamodb.dunning import DynamoDunningStore
from balcao.adapters.workflows import StepFunctionsWorkflows
from balcao.domain.invoices import Invoice
from balcao.runtime import composition
from balcao.runtime.settings import load_settings
from balcao.services.dunning import ACTOR, Dunning, ServiceActions


@cache
def dunning_store() -> DynamoDunningStore:
    return DynamoDunningStore()


@cache
def workflows() -> StepFunctionsWorkflows:
    return StepFunctionsWorkflows(load_settings().dunning_state_machine_arn)


class ServicesCapability:
    """The services capability's use-case (suspension, termination, unsuspension for ``overdue``), built when a
    task first needs it: the staff route and the invoice-event consumer never import it."""

    @staticmethod
    def _services() -> ServiceActions:
        from balcao.runtime.services_composition import services

        return services()

    def suspend_for_overdue(self, invoice: Invoice, actor: str = ACTOR) -> list[str]:
        return self._services().suspend_for_overdue(invoice, actor)

    def terminate_for_non_payment(self, invoice: Invoice, actor: str = ACTOR) -> list[str]:
        return self._services().terminate_for_non_payment(invoice, actor)

    def unsuspend_after_payment(self, account_id: str, service_ids: Iterable[str], actor: str = ACTOR) -> list[str]:
        return self._services().unsuspend_after_payment(account_id, service_ids, actor)


def service_actions() -> ServiceActions:
    return ServicesCapability()


def dunning() -> Dunning:
    company = composition.company()
    return Dunning(
        store=dunning_store(),
        workflows=workflows(),
        services=service_actions(),
        directory=dunning_store(),
        clock=app_clock(),
        settings=company.dunning,
        timezone=company.locale.timezone,
        staff_alert_to=company.dunning.staff_alert_email or company.contact.support_email,
        staff_language=company.locale.default_language,
    )
