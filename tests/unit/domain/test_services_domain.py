"""The services domain: the catalog's rules, a service's lifecycle and paid periods, the proration it feeds (worked
examples and the properties the issue asks for), cPanel usernames, and what the provisioning step still wants."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balcao.domain.catalog import (
    CycleNotOfferedError,
    DomainInvalidError,
    Price,
    Product,
    ProductType,
    ProvisioningModule,
    SupportLevelNotOfferedError,
    normalise_domain,
)
from balcao.domain.cycles import BillingCycle, add_months, period_start
from balcao.domain.money import Currency, Money
from balcao.domain.proration import quote_change
from balcao.domain.renewals import period_from
from balcao.domain.service_lifecycle import IllegalTransitionError, ServiceReason, ServiceStatus
from balcao.domain.services import PaidPeriod, ProvisioningAction, ProvisioningRequest, ProvisioningState, Service
from balcao.services.provisioning import random_password, still_wanted
from balcao.services.services import panel_username

BRL = "BRL"
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def brl(amount: int) -> Money:
    return Money.of(amount, BRL)


def a_service(**changes) -> Service:
    base = Service(
        service_id="01JSERVICE0000000000000ABCD",
        account_id="A",
        name="Hospedagem Básica",
        status=ServiceStatus.ACTIVE,
        domain="loja.com.br",
        cycle=BillingCycle.MONTHLY,
        plan_price=brl(4990),
        support_price=brl(0),
        next_due_date=date(2026, 12, 22),
        anchor_day=22,
        paid_periods=(PaidPeriod(date(2026, 11, 22), date(2026, 12, 22), brl(4990)),),
    )
    return replace(base, **changes)


# --- the catalog ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "expected"),
    [("Loja.COM.br", "loja.com.br"), ("www.loja.com.br.", "loja.com.br"), ("açaí.com.br", "xn--aa-4iaz.com.br")],
)
def test_domains_are_normalised(typed, expected):
    assert normalise_domain(typed) == expected


@pytest.mark.parametrize("typed", ["", "localhost", "loja..com", "-loja.com", "loja.c", "a b.com", "x" * 64 + ".com"])
def test_invalid_domains_name_their_field(typed):
    with pytest.raises(DomainInvalidError) as refused:
        normalise_domain(typed, "items.0.domain")
    assert refused.value.fields[0].field == "items.0.domain"


def test_a_product_offers_its_cycles_per_currency_and_its_first_support_level_by_default():
    from balcao.domain.catalog import SupportLevel

    levels = (
        SupportLevel("standard", {"en": "Standard"}, (Price(BillingCycle.MONTHLY, brl(0), brl(0)),)),
        SupportLevel("premium", {"en": "Premium"}, (Price(BillingCycle.MONTHLY, brl(1990), brl(0)),)),
    )
    product = Product(
        "P",
        {"en": "Plan"},
        ProductType.SHARED_HOSTING,
        (Price(BillingCycle.MONTHLY, brl(4990), brl(1000)),),
        support_levels=levels,
        module=ProvisioningModule.CPANEL,
        package="basic",
    )
    assert product.price_for(BillingCycle.MONTHLY, Currency.BRL).setup_fee == brl(1000)
    with pytest.raises(CycleNotOfferedError):
        product.price_for(BillingCycle.ANNUAL, Currency.BRL)
    with pytest.raises(CycleNotOfferedError):
        product.price_for(BillingCycle.MONTHLY, Currency.EUR)
    level, price = product.support_for(None, BillingCycle.MONTHLY, Currency.BRL)
    assert (level.code, price) == ("standard", brl(0))
    assert product.support_for("premium", BillingCycle.MONTHLY, Currency.BRL)[1] == brl(1990)
    with pytest.raises(SupportLevelNotOfferedError):
        product.support_for("gold", BillingCycle.MONTHLY, Currency.BRL)
    assert product.needs_domain


# --- the lifecycle and the paid periods -------------------------------------------------------------------------------
def test_a_transition_keeps_its_reason_and_actor_and_a_final_status_stops_renewing():
    suspended, change = a_service().moved_to(ServiceStatus.SUSPENDED, ServiceReason.ABUSE, "staff:u1", NOW)
    assert (change.reason, change.actor, suspended.reason) == (ServiceReason.ABUSE, "staff:u1", ServiceReason.ABUSE)
    active, _ = suspended.moved_to(ServiceStatus.ACTIVE, ServiceReason.STAFF, "staff:u1", NOW)
    assert active.reason is None and [c.status for c in active.history] == [
        ServiceStatus.SUSPENDED,
        ServiceStatus.ACTIVE,
    ]
    terminated, _ = active.moved_to(ServiceStatus.TERMINATED, ServiceReason.OVERDUE, "system:dunning", NOW)
    assert terminated.auto_renew is False
    with pytest.raises(IllegalTransitionError):
        terminated.moved_to(ServiceStatus.ACTIVE, None, "staff:u1", NOW)


def test_a_paid_period_replaces_those_it_overlaps_and_only_a_few_are_kept():
    service = a_service().with_paid_period(PaidPeriod(date(2026, 12, 10), date(2026, 12, 22), brl(3996)))
    assert service.paid_periods == (PaidPeriod(date(2026, 12, 10), date(2026, 12, 22), brl(3996)),)
    for month in range(1, 7):
        start = add_months(date(2026, 12, 22), month - 1)
        service = service.with_paid_period(PaidPeriod(start, add_months(start, 1), brl(4990)))
    assert len(service.paid_periods) == 4 and service.paid_periods[-1].end == date(2027, 6, 22)


def test_the_current_period_and_a_prepaid_next_one():
    # Given the renewal of 22 December already paid (the due date moved to 22 January)
    service = a_service(next_due_date=date(2027, 1, 22)).with_paid_period(
        PaidPeriod(date(2026, 12, 22), date(2027, 1, 22), brl(4990))
    )
    current, prepaid = service.proration_periods(date(2026, 12, 10))
    assert (current.start, current.end, current.paid) == (date(2026, 11, 22), date(2026, 12, 22), brl(4990))
    assert prepaid is not None and (prepaid.end, prepaid.paid) == (date(2027, 1, 22), brl(4990))
    # And a service without known payments: the period ending on its due date, nothing paid
    unknown, none = a_service(paid_periods=()).proration_periods(date(2026, 12, 10))
    assert (unknown.start, unknown.paid, none) == (date(2026, 11, 22), brl(0), None)


def test_worked_examples_of_the_issue():
    # 12 of 30 days left: credit 49,90 × 12/30 = 19,96; debit 99,90 × 12/30 = 39,96; due 20,00
    current, _ = a_service().proration_periods(date(2026, 12, 10))
    quote = quote_change(current, date(2026, 12, 10), brl(9990), BillingCycle.MONTHLY, anchor_day=22)
    assert (quote.credit, quote.debit, quote.amount_due) == (brl(1996), brl(3996), brl(2000))
    # 11 of 31 days left (March): credit 17,71, debit 35,45 (35,448… rounds half up), due 17,74
    march = a_service(
        next_due_date=date(2026, 4, 1),
        anchor_day=1,
        paid_periods=(PaidPeriod(date(2026, 3, 1), date(2026, 4, 1), brl(4990)),),
    )
    current, _ = march.proration_periods(date(2026, 3, 21))
    quote = quote_change(current, date(2026, 3, 21), brl(9990), BillingCycle.MONTHLY, anchor_day=1)
    assert (quote.credit, quote.debit, quote.amount_due) == (brl(1771), brl(3545), brl(1774))


def test_a_service_started_on_the_31st_keeps_its_day():
    assert period_from(date(2026, 2, 28), BillingCycle.MONTHLY, 31).next_due_date == date(2026, 3, 31)
    assert period_from(date(2026, 1, 31), BillingCycle.MONTHLY, 31).end == date(2026, 2, 27)
    assert period_start(date(2026, 2, 28), BillingCycle.MONTHLY, 31) == date(2026, 1, 31)


# --- properties -------------------------------------------------------------------------------------------------------
cycles = st.sampled_from(list(BillingCycle))
amounts = st.integers(min_value=100, max_value=2_000_000)


@st.composite
def paid_services(draw):
    cycle = draw(cycles)
    start = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 1500)))
    anchor = start.day
    end = add_months(start, cycle.months, anchor)
    paid = brl(draw(st.integers(0, 2_000_000)))
    service = a_service(
        cycle=cycle,
        plan_price=paid if paid.amount else brl(1000),
        next_due_date=end,
        anchor_day=anchor,
        paid_periods=(PaidPeriod(start, end, paid),),
    )
    today = start + timedelta(days=draw(st.integers(0, (end - start).days - 1)))
    return service, today


@given(paid_services(), amounts, cycles)
def test_the_credit_never_exceeds_what_was_paid_for_the_period(drawn, new_price, new_cycle):
    service, today = drawn
    current, _ = service.proration_periods(today)
    quote = quote_change(current, today, brl(new_price), new_cycle, anchor_day=service.anchor_day)
    assert brl(0) <= quote.credit <= current.paid


@given(paid_services(), amounts)
def test_an_upgrade_then_a_downgrade_on_the_same_day_net_to_zero_within_one_minor_unit(drawn, higher):
    service, today = drawn
    assert service.plan_price is not None and service.cycle is not None
    old_price = service.plan_price
    service = replace(service, paid_periods=(replace(service.paid_periods[0], paid=old_price),))
    current, _ = service.proration_periods(today)
    up = quote_change(current, today, brl(higher), service.cycle, anchor_day=service.anchor_day)
    # the change applied: the current period restarts today, paid with the debit
    changed = service.with_paid_period(PaidPeriod(today, current.end, up.debit))
    after, _ = changed.proration_periods(today)
    down = quote_change(after, today, old_price, service.cycle, anchor_day=service.anchor_day)
    assert abs((up.amount_due + down.amount_due).amount) <= 1


# --- the panel --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("anasouza.com.br", "anasouzaabcd"),
        ("1loja.com", "u1lojaabcd"),
        ("test-site.dev", "utestsitabcd"),
        ("a.io", "aabcd"),
    ],
)
def test_panel_usernames_follow_cpanels_rules(domain, expected):
    username = panel_username(domain, "01JSERVICE0000000000000ABCD")
    assert username == expected and len(username) <= 16 and username[0].isalpha() and username.islower()


def test_a_request_is_carried_out_only_while_the_service_still_wants_it():
    request = ProvisioningRequest("R", "A", "S", ProvisioningAction.SUSPEND, ProvisioningState.QUEUED, NOW, NOW)
    assert still_wanted(request, a_service(status=ServiceStatus.SUSPENDED))
    assert not still_wanted(request, a_service(status=ServiceStatus.ACTIVE))
    terminate = replace(request, action=ProvisioningAction.TERMINATE)
    assert still_wanted(terminate, a_service(status=ServiceStatus.CANCELLED))
    assert not still_wanted(
        replace(request, action=ProvisioningAction.CREATE), a_service(status=ServiceStatus.CANCELLED)
    )


def test_new_panel_passwords_are_strong():
    from balcao.domain.passwords import check_password

    for _ in range(20):
        check_password(random_password())
