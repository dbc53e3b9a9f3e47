"""Carrying out provisioning requests with an in-memory store and the simulated panel: once per request, retried
while the panel's failure is retryable and attempts remain, then failed for staff; refusals fail at once; the
services' key shapes are pinned."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from balcao.adapters.dynamodb import keys
from balcao.adapters.provisioning.simulated import SimulatedProvisioner, reset_simulated_panel, simulated_account
from balcao.domain.money import Money
from balcao.domain.service_lifecycle import ServiceStatus
from balcao.domain.services import ProvisioningAction, ProvisioningRequest, ProvisioningState, Service
from balcao.services.provisioning import Provisioning, RetryLater
from balcao.services.services import ServiceChange
from support.clocks import FixedClock

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


class MemoryStore:
    def __init__(self, service: Service, request: ProvisioningRequest) -> None:
        self.services = {service.service_id: service}
        self.requests = {request.request_id: request}
        self.events: list[str] = []

    def service(self, account_id: str, service_id: str) -> Service | None:
        return self.services.get(service_id)

    def request(self, account_id: str, request_id: str) -> ProvisioningRequest | None:
        return self.requests.get(request_id)

    def locate(self, service_id: str) -> str | None:
        return "A" if service_id in self.services else None

    def commit(self, change: ServiceChange) -> None:
        for write in change.services:
            self.services[write.after.service_id] = replace(write.after, revision=(write.after.revision or 0) + 1)
        for request_write in change.requests:
            after = request_write.after
            self.requests[after.request_id] = replace(after, revision=(after.revision or 0) + 1)
        self.events.extend(e.type for e in change.events)


def given(action: ProvisioningAction = ProvisioningAction.CREATE, status: ServiceStatus = ServiceStatus.ACTIVE):
    request = ProvisioningRequest("R1", "A", "S1", action, ProvisioningState.QUEUED, NOW, NOW, contact_email="a@x.com")
    service = Service(
        "S1",
        "A",
        "Hospedagem",
        status,
        domain="loja.com.br",
        plan_price=Money.of(4990, "BRL"),
        package="basic",
        username="lojaabcd",
        provisioning=request.status(),
    )
    return MemoryStore(service, request)


@pytest.fixture(autouse=True)
def empty_panel():
    reset_simulated_panel()


def test_a_creation_is_done_once_and_remembered_on_the_service():
    # Given a queued creation
    store = given()
    provisioning = Provisioning(store, SimulatedProvisioner(latency_seconds=0), FixedClock(NOW))
    # When it runs twice (a redelivered message)
    assert provisioning.run("A", "R1") == "done"
    assert provisioning.run("A", "R1") == "duplicate"
    # Then the panel has the account once and the service knows its server
    assert simulated_account("lojaabcd") is not None
    service = store.services["S1"]
    assert service.server == "simulated-panel" and service.provisioning.state is ProvisioningState.SUCCEEDED


def test_a_retryable_failure_goes_back_to_the_queue_until_the_attempts_are_spent():
    store = given()
    failing = SimulatedProvisioner(latency_seconds=0, fail_actions=frozenset({"create"}))
    provisioning = Provisioning(store, failing, FixedClock(NOW), attempts=3)
    for _ in range(2):
        with pytest.raises(RetryLater):
            provisioning.run("A", "R1")
    assert provisioning.run("A", "R1") == "failed"
    request = store.requests["R1"]
    assert (request.state, request.attempts) == (ProvisioningState.FAILED, 3)
    assert store.services["S1"].provisioning.state is ProvisioningState.FAILED
    assert store.events == ["service.provisioning_failed"]


def test_a_refusal_fails_at_once():
    store = given(ProvisioningAction.CHANGE_PACKAGE)
    store.services["S1"] = replace(store.services["S1"], server="simulated-panel")  # provisioned, but not on the panel
    provisioning = Provisioning(store, SimulatedProvisioner(latency_seconds=0), FixedClock(NOW))
    assert provisioning.run("A", "R1") == "failed"
    assert store.requests["R1"].attempts == 1


def test_a_suspension_of_an_account_not_created_yet_is_left_to_the_creation():
    store = given(ProvisioningAction.SUSPEND, ServiceStatus.SUSPENDED)
    provisioning = Provisioning(store, SimulatedProvisioner(latency_seconds=0), FixedClock(NOW))
    assert provisioning.run("A", "R1") == "superseded"


def test_service_key_shapes():
    assert keys.product_sk("P1") == "PRODUCT#P1" and keys.catalog_pk() == "CATALOG"
    assert keys.order_sk("O1") == "ORDER#O1" and keys.provisioning_sk("R1") == "PROVISIONING#R1"
    assert keys.service_lookup_pk("S1") == "SERVICEID#S1"
    assert keys.order_invoice_lookup_pk("I1") == "ORDERINVOICE#I1"
    assert keys.hosted_domain_lookup_pk(" Loja.com.BR ") == "HOSTED#loja.com.br"
