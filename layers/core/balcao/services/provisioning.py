"""Carrying out provisioning requests: the provisioning function takes ``service.provisioning_requested`` from its
queue and asks the control panel, once per (service, action, request id).

- A request already done (or made pointless by a later change) is not done again: duplicates of the message, and
  the queue's redeliveries, change nothing.
- Before acting, the request is checked against the service as it is now: a suspension lifted before it ran is not
  carried out (the panel converges on the service's status, whatever order the messages arrive in).
- A retryable failure (timeout, 5xx) goes back to the queue (SQS retries it after its visibility timeout) until
  the company's ``provisioning_attempts``; then — or at once for a refusal — the request is marked failed: staff
  see it (GSI3 ``provisioning_failures``) and may retry it, which queues the same request again. A message the
  function cannot handle at all ends in the dead-letter queue, whose alarm tells the operators.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, replace

from balcao.domain.errors import N_, NotFoundError
from balcao.domain.events import new_event
from balcao.domain.provisioning import ProvisioningError
from balcao.domain.provisioning import ProvisioningRequest as PanelAccount
from balcao.domain.service_lifecycle import ServiceStatus
from balcao.domain.services import (
    LiveSnapshot,
    ProvisioningAction,
    ProvisioningNotFailedError,
    ProvisioningRequest,
    ProvisioningState,
    Service,
)
from balcao.services.ports import Clock, Provisioner
from balcao.services.services import RequestWrite, ServiceChange, ServiceStore, ServiceWrite

PASSWORD_ALPHABET = string.ascii_letters + string.digits + "!#%+-.:=@_"
GIVE_UP_MESSAGE = N_("The control panel could not complete the action.")


class RetryLater(Exception):
    """The panel failed in a way a later attempt may fix: the message goes back to the queue."""


def random_password(length: int = 24) -> str:
    """A password for a new panel account (never stored; the customer signs in with single sign-on or sets one)."""
    while True:
        candidate = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
        if (
            any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
            and any(c.isdigit() for c in candidate)
            and any(not c.isalnum() for c in candidate)
        ):
            return candidate


def still_wanted(request: ProvisioningRequest, service: Service) -> bool:
    """Whether the service, as it is now, still needs what the request asks."""
    status = service.status
    if request.action is ProvisioningAction.CREATE:
        return status in (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)
    if request.action is ProvisioningAction.SUSPEND:
        return status is ServiceStatus.SUSPENDED
    if request.action is ProvisioningAction.UNSUSPEND:
        return status is ServiceStatus.ACTIVE
    if request.action is ProvisioningAction.TERMINATE:
        return status in (ServiceStatus.CANCELLED, ServiceStatus.TERMINATED)
    return status in (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)


@dataclass
class Provisioning:
    store: ServiceStore
    panel: Provisioner
    clock: Clock
    attempts: int = 5
    new_password: Callable[[], str] = random_password

    def run(self, account_id: str, request_id: str) -> str:
        """Carry out one request: ``done``, ``duplicate``, ``superseded``, ``failed`` or ``missing``; raises
        ``RetryLater`` when the queue should try again."""
        request = self.store.request(account_id, request_id)
        if request is None:
            return "missing"
        if request.state in (ProvisioningState.SUCCEEDED, ProvisioningState.SUPERSEDED):
            return "duplicate"
        service = self.store.service(account_id, request.service_id)
        if service is None or not still_wanted(request, service):
            self._finish(request, service, ProvisioningState.SUPERSEDED)
            return "superseded"
        if request.action is not ProvisioningAction.CREATE and not service.is_provisioned:
            # No account yet: a creation still to come makes it as the service is then (suspended if it is), and
            # none comes once the service has ended.
            self._finish(request, service, ProvisioningState.SUPERSEDED)
            return "superseded"
        try:
            service = self._act(request, service)
        except ProvisioningError as error:
            return self._failed(request, service, error)
        self._finish(request, service, ProvisioningState.SUCCEEDED)
        return "done"

    def _act(self, request: ProvisioningRequest, service: Service) -> Service:
        username = service.username or ""
        if request.action is ProvisioningAction.CREATE:
            created = self.panel.create(
                PanelAccount(
                    username=username,
                    domain=service.domain or "",
                    package=service.package or "default",
                    contact_email=request.contact_email or "",
                    password=self.new_password(),
                )
            )
            if service.status is ServiceStatus.SUSPENDED:
                self.panel.suspend(created.username, service.reason.value if service.reason else "suspended")
            state = "suspended" if service.status is ServiceStatus.SUSPENDED else "active"
            return replace(
                service,
                username=created.username,
                server=created.server,
                ip=created.ip,
                live=LiveSnapshot(state, self.clock.now()),
            )
        if request.action is ProvisioningAction.SUSPEND:
            self.panel.suspend(username, request.reason or "suspended")
            return replace(service, live=LiveSnapshot("suspended", self.clock.now()))
        if request.action is ProvisioningAction.UNSUSPEND:
            self.panel.unsuspend(username)
            return replace(service, live=LiveSnapshot("active", self.clock.now()))
        if request.action is ProvisioningAction.TERMINATE:
            self.panel.terminate(username)
            return replace(service, live=LiveSnapshot("missing", self.clock.now()))
        self.panel.change_package(username, service.package or "default")
        return service

    def _finish(self, request: ProvisioningRequest, service: Service | None, state: ProvisioningState) -> None:
        now = self.clock.now()
        done = replace(
            request, state=state, updated_at=now, error=None if state is not ProvisioningState.FAILED else request.error
        )
        change = ServiceChange(requests=[RequestWrite(done, request)])
        if service is not None:
            stored = self.store.service(service.account_id, service.service_id)
            if stored is not None:
                after = replace(
                    stored, username=service.username, server=service.server, ip=service.ip, live=service.live
                )
                if stored.provisioning is not None and stored.provisioning.request_id == request.request_id:
                    after = replace(after, provisioning=done.status())
                if after != stored:
                    change.services.append(ServiceWrite(after, stored))
        self.store.commit(change)

    def _failed(self, request: ProvisioningRequest, service: Service, error: ProvisioningError) -> str:
        attempts = request.attempts + 1
        now = self.clock.now()
        if error.retryable and attempts < self.attempts:
            self.store.commit(
                ServiceChange(
                    requests=[
                        RequestWrite(replace(request, attempts=attempts, error=error.detail, updated_at=now), request)
                    ]
                )
            )
            raise RetryLater(error.detail)
        failed = replace(request, state=ProvisioningState.FAILED, attempts=attempts, error=error.detail, updated_at=now)
        change = ServiceChange(requests=[RequestWrite(failed, request)])
        if service.provisioning is not None and service.provisioning.request_id == request.request_id:
            change.services.append(ServiceWrite(replace(service, provisioning=failed.status()), service))
        change.events.append(
            new_event(
                "service.provisioning_failed",
                now,
                account_id=request.account_id,
                service_id=request.service_id,
                request_id=request.request_id,
                action=request.action.value,
            )
        )
        self.store.commit(change)
        return "failed"

    # --- staff ------------------------------------------------------------------------------------------------------
    def failures(self, limit: int, cursor: str | None) -> tuple[list[ProvisioningRequest], str | None]:
        return self.store.failed_requests(limit, cursor)

    def retry(self, service_id: str) -> ProvisioningRequest:
        """Queue the service's failed request again (same request id: still done at most once)."""
        account_id = self.store.locate(service_id)
        service = self.store.service(account_id, service_id) if account_id else None
        if service is None:
            raise NotFoundError()
        state = service.provisioning
        request = self.store.request(service.account_id, state.request_id) if state is not None else None
        if request is None or request.state is not ProvisioningState.FAILED:
            raise ProvisioningNotFailedError()
        now = self.clock.now()
        queued = replace(request, state=ProvisioningState.QUEUED, attempts=0, updated_at=now)
        change = ServiceChange(
            services=[ServiceWrite(replace(service, provisioning=queued.status()), service)],
            requests=[RequestWrite(queued, request)],
            events=[
                new_event(
                    "service.provisioning_requested",
                    now,
                    account_id=service.account_id,
                    service_id=service_id,
                    request_id=request.request_id,
                    action=request.action.value,
                    retry=True,
                )
            ],
        )
        self.store.commit(change)
        return queued
