"""The simulated control panel: latency, opt-in failures, WHM's idempotent semantics, the call log, threads."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from balcao.adapters.provisioning.simulated import (
    SIMULATED_IP,
    SIMULATED_SERVER,
    SimulatedAccount,
    SimulatedProvisioner,
    reset_simulated_panel,
    simulated_account,
    simulated_calls,
)
from balcao.domain.provisioning import (
    AccountStatus,
    LiveState,
    ProvisionedAccount,
    ProvisioningError,
    ProvisioningRequest,
)


def request_for(username: str, domain: str | None = None) -> ProvisioningRequest:
    return ProvisioningRequest(
        username=username,
        domain=domain or f"{username}.example.com.br",
        package="hospedagem_basica",
        contact_email=f"contato@{username}.example.com.br",
        password="Segredo#2025",
    )


def panel(**options: Any) -> tuple[SimulatedProvisioner, list[float]]:
    """A simulated provisioner whose latency is recorded instead of slept."""
    sleeps: list[float] = []
    return SimulatedProvisioner(sleep=sleeps.append, **options), sleeps


@pytest.fixture(autouse=True)
def _empty_panel() -> Iterator[None]:
    reset_simulated_panel()
    yield
    reset_simulated_panel()


EVERY_ACTION: list[tuple[str, Callable[[SimulatedProvisioner], object]]] = [
    ("create", lambda p: p.create(request_for("padaria1"))),
    ("status", lambda p: p.status("padaria1")),
    ("change_package", lambda p: p.change_package("padaria1", "hospedagem_pro")),
    ("change_password", lambda p: p.change_password("padaria1", "Outro#Segredo1")),
    ("sso_url", lambda p: p.sso_url("padaria1")),
    ("suspend", lambda p: p.suspend("padaria1", "Invoice overdue")),
    ("unsuspend", lambda p: p.unsuspend("padaria1")),
    ("terminate", lambda p: p.terminate("padaria1")),
]


def test_by_default_every_action_takes_20_ms_and_none_fails():
    # Given the default simulated panel
    provisioner, sleeps = panel()

    # When every action runs once
    for _, action in EVERY_ACTION:
        action(provisioner)

    # Then each waited 20 ms, none failed, and the log holds each call in order
    assert sleeps == [0.02] * len(EVERY_ACTION)
    assert simulated_calls() == [(name, "padaria1") for name, _ in EVERY_ACTION]


@pytest.mark.parametrize(("latency", "expected_sleeps"), [(0.25, [0.25, 0.25]), (0.0, [])])
def test_latency_is_configurable(latency: float, expected_sleeps: list[float]):
    # Given a panel with the chosen latency
    provisioner, sleeps = panel(latency_seconds=latency)

    # When two calls are made
    provisioner.create(request_for("padaria1"))
    provisioner.status("padaria1")

    # Then each call waited that long (or not at all)
    assert sleeps == expected_sleeps


def test_an_account_goes_through_its_whole_life():
    # Given an empty panel
    provisioner, _ = panel()

    # When an account is created, suspended, unsuspended, moved to another package and terminated
    created = provisioner.create(request_for("padaria1", "Padaria-Exemplo.com.br"))
    active = provisioner.status("padaria1")
    provisioner.suspend("padaria1", "Invoice 2025-0042 overdue")
    suspended = provisioner.status("padaria1")
    provisioner.unsuspend("padaria1")
    provisioner.change_package("padaria1", "hospedagem_pro")
    provisioner.change_password("padaria1", "Outro#Segredo1")
    after_changes = simulated_account("padaria1")
    provisioner.terminate("padaria1")
    gone = provisioner.status("padaria1")

    # Then each step shows in the panel's state
    assert created == ProvisionedAccount(
        username="padaria1", domain="padaria-exemplo.com.br", server=SIMULATED_SERVER, ip=SIMULATED_IP
    )
    assert active == AccountStatus(state=LiveState.ACTIVE, disk_used_mb=0, disk_limit_mb=None, bandwidth_used_mb=0)
    assert suspended.state is LiveState.SUSPENDED
    assert suspended.suspended_reason == "Invoice 2025-0042 overdue"
    assert after_changes == SimulatedAccount(
        username="padaria1",
        domain="padaria-exemplo.com.br",
        package="hospedagem_pro",
        contact_email="contato@padaria1.example.com.br",
    )
    assert gone == AccountStatus(state=LiveState.MISSING)
    assert simulated_account("padaria1") is None


def test_repeated_actions_succeed_without_change():
    # Given an account
    provisioner, _ = panel()
    first = provisioner.create(request_for("padaria1"))

    # When it is created again, suspended twice, unsuspended twice and terminated twice
    again = provisioner.create(request_for("padaria1"))
    provisioner.suspend("padaria1", "first reason")
    provisioner.suspend("padaria1", "second reason")
    still_suspended = provisioner.status("padaria1")
    provisioner.unsuspend("padaria1")
    provisioner.unsuspend("padaria1")
    still_active = provisioner.status("padaria1")
    provisioner.terminate("padaria1")
    provisioner.terminate("padaria1")

    # Then every repeat succeeded and left the account as the first call did
    assert again == first
    assert still_suspended.suspended_reason == "first reason"
    assert still_active.state is LiveState.ACTIVE
    assert simulated_account("padaria1") is None


def test_a_username_or_domain_held_by_another_account_is_refused():
    # Given an account for one domain
    provisioner, _ = panel()
    provisioner.create(request_for("padaria1", "padaria-exemplo.com.br"))

    # When the same username is asked for another domain, or another username for the same domain
    with pytest.raises(ProvisioningError) as same_username:
        provisioner.create(request_for("padaria1", "outra-padaria.com.br"))
    with pytest.raises(ProvisioningError) as same_domain:
        provisioner.create(request_for("padaria2", "padaria-exemplo.com.br"))

    # Then both are final refusals and the panel keeps one account
    assert same_username.value.retryable is False
    assert same_domain.value.retryable is False
    assert simulated_account("padaria2") is None


@pytest.mark.parametrize(
    "action",
    [
        lambda p: p.suspend("ghost01", "reason"),
        lambda p: p.unsuspend("ghost01"),
        lambda p: p.change_package("ghost01", "hospedagem_pro"),
        lambda p: p.change_password("ghost01", "Segredo#2025"),
        lambda p: p.sso_url("ghost01"),
    ],
    ids=["suspend", "unsuspend", "change_package", "change_password", "sso_url"],
)
def test_acting_on_a_missing_account_is_refused(action: Callable[[SimulatedProvisioner], object]):
    # Given an empty panel
    provisioner, _ = panel()

    # When an action needs an account that does not exist
    with pytest.raises(ProvisioningError) as raised:
        action(provisioner)

    # Then the refusal is final
    assert raised.value.retryable is False


def test_an_empty_password_is_refused():
    # Given an account
    provisioner, _ = panel()
    provisioner.create(request_for("padaria1"))

    # When its password is set to nothing, Then the panel refuses for good
    with pytest.raises(ProvisioningError) as raised:
        provisioner.change_password("padaria1", "")
    assert raised.value.retryable is False


def test_sso_url_points_at_the_dev_panel_with_a_fresh_session():
    # Given an account and a panel served at a custom base URL
    provisioner, _ = panel(sso_base_url="http://localhost:9000/")
    provisioner.create(request_for("padaria1"))

    # When two single sign-on URLs are asked for
    first = provisioner.sso_url("padaria1")
    second = provisioner.sso_url("padaria1")

    # Then both open the dev panel page of the account, each with its own session
    for url in (first, second):
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://localhost:9000/_dev/cpanel/padaria1"
        assert len(parse_qs(parts.query)["session"][0]) >= 20
    assert first != second


def test_sso_into_a_suspended_account_is_refused():
    # Given a suspended account
    provisioner, _ = panel()
    provisioner.create(request_for("padaria1"))
    provisioner.suspend("padaria1", "Invoice overdue")

    # When a single sign-on URL is asked for, Then the panel refuses, as WHM does
    with pytest.raises(ProvisioningError) as raised:
        provisioner.sso_url("padaria1")
    assert raised.value.retryable is False


def test_named_actions_fail_every_time_without_changing_the_panel():
    # Given a panel told to fail suspensions
    provisioner, sleeps = panel(fail_actions=frozenset({"suspend"}))
    provisioner.create(request_for("padaria1"))

    # When the account is suspended twice
    for _ in range(2):
        with pytest.raises(ProvisioningError) as raised:
            provisioner.suspend("padaria1", "Invoice overdue")
        # Then each attempt fails as retryable
        assert raised.value.retryable is True

    # And the account stays active, other actions still work, and every attempt was logged after its latency
    assert provisioner.status("padaria1").state is LiveState.ACTIVE
    assert simulated_calls() == [
        ("create", "padaria1"),
        ("suspend", "padaria1"),
        ("suspend", "padaria1"),
        ("status", "padaria1"),
    ]
    assert sleeps == [0.02] * 4


def test_random_failures_follow_the_seeded_generator():
    # Given a panel failing half of the calls, drawn from a seeded generator, and a twin of that generator
    provisioner, _ = panel(failure_rate=0.5, rng=random.Random(2025))
    twin = random.Random(2025)

    # When the status is read twenty times
    outcomes = []
    for _ in range(20):
        try:
            provisioner.status("padaria1")
        except ProvisioningError as error:
            assert error.retryable is True
            outcomes.append("failed")
        else:
            outcomes.append("answered")

    # Then exactly the draws below the rate failed, and both outcomes occurred
    assert outcomes == ["failed" if twin.random() < 0.5 else "answered" for _ in range(20)]
    assert set(outcomes) == {"failed", "answered"}


def test_a_failure_rate_of_one_always_fails():
    # Given a panel that always fails, When an account is created, Then it fails and nothing was created
    provisioner, _ = panel(failure_rate=1.0)
    with pytest.raises(ProvisioningError) as raised:
        provisioner.create(request_for("padaria1"))
    assert raised.value.retryable is True
    assert simulated_account("padaria1") is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fail_actions": frozenset({"reboot"})}, "reboot"),
        ({"failure_rate": 1.5}, "failure_rate"),
        ({"latency_seconds": -0.1}, "latency"),
    ],
    ids=["unknown-action", "rate-above-one", "negative-latency"],
)
def test_invalid_settings_are_refused(options: dict[str, Any], message: str):
    # Given an impossible setting, When a panel is built, Then it is refused
    with pytest.raises(ValueError, match=message):
        SimulatedProvisioner(**options)


def test_instances_share_one_panel_per_process():
    # Given two provisioners, as two handlers of the devstack would build them
    first, _ = panel()
    second, _ = panel(latency_seconds=0)

    # When one creates and suspends an account
    first.create(request_for("padaria1"))
    first.suspend("padaria1", "Invoice overdue")

    # Then the other sees it, and the log holds both instances' calls
    assert second.status("padaria1").state is LiveState.SUSPENDED
    assert simulated_calls()[-1] == ("status", "padaria1")


def test_concurrent_calls_keep_the_panel_consistent():
    # Given eight threads, each with its own provisioner and its own accounts, released together
    threads_count, accounts_per_thread = 8, 25
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def work(thread_number: int) -> None:
        provisioner, _ = panel(latency_seconds=0)
        try:
            barrier.wait()
            provisioner.create(request_for("shared1", "shared.example.com.br"))
            for index in range(accounts_per_thread):
                username = f"t{thread_number}u{index}"
                provisioner.create(request_for(username))
                provisioner.suspend(username, "Invoice overdue")
                provisioner.unsuspend(username)
                if index % 2:
                    provisioner.terminate(username)
        except BaseException as error:  # reported to the main thread
            errors.append(error)

    # When they all create the same shared account and work on their own accounts at once
    workers = [threading.Thread(target=work, args=(number,)) for number in range(threads_count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    # Then no call failed, the shared account exists once, and exactly the even-numbered accounts remain active
    assert errors == []
    assert simulated_account("shared1") is not None
    for thread_number in range(threads_count):
        for index in range(accounts_per_thread):
            account = simulated_account(f"t{thread_number}u{index}")
            if index % 2:
                assert account is None
            else:
                assert account is not None
                assert account.suspended is False

    # And the log holds every call, each thread's calls in the order that thread made them
    calls = simulated_calls()
    calls_per_thread = 1 + accounts_per_thread * 3 + accounts_per_thread // 2
    assert len(calls) == threads_count * calls_per_thread
    for thread_number in range(threads_count):
        prefix = f"t{thread_number}u"
        own = [call for call in calls if call[1].startswith(prefix)]
        expected = []
        for index in range(accounts_per_thread):
            username = f"{prefix}{index}"
            expected += [("create", username), ("suspend", username), ("unsuspend", username)]
            if index % 2:
                expected.append(("terminate", username))
        assert own == expected
