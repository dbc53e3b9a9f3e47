"""The service lifecycle of API.md as a state machine."""

from __future__ import annotations

import pytest

from balcao.domain.service_lifecycle import (
    FINAL,
    IllegalTransitionError,
    ServiceReason,
    ServiceStatus,
    check_transition,
    lifts_on_payment,
)

S = ServiceStatus
LEGAL = {
    (S.PENDING, S.ACTIVE),
    (S.PENDING, S.CANCELLED),
    (S.ACTIVE, S.SUSPENDED),
    (S.SUSPENDED, S.ACTIVE),
    (S.ACTIVE, S.CANCELLED),
    (S.SUSPENDED, S.CANCELLED),
    (S.ACTIVE, S.TERMINATED),
    (S.SUSPENDED, S.TERMINATED),
}


@pytest.mark.parametrize(("current", "wanted"), [(a, b) for a in S for b in S])
def test_exactly_the_transitions_of_the_contract(current, wanted):
    if (current, wanted) in LEGAL:
        check_transition(current, wanted)
    else:
        with pytest.raises(IllegalTransitionError) as refused:
            check_transition(current, wanted)
        assert (refused.value.current, refused.value.wanted) == (current, wanted)
        assert refused.value.code == "conflict"


def test_cancelled_and_terminated_are_final():
    assert {S.CANCELLED, S.TERMINATED} == FINAL


def test_only_overdue_suspensions_lift_on_payment():
    assert lifts_on_payment(S.SUSPENDED, ServiceReason.OVERDUE)
    assert not lifts_on_payment(S.SUSPENDED, ServiceReason.ABUSE)
    assert not lifts_on_payment(S.SUSPENDED, ServiceReason.STAFF)
    assert not lifts_on_payment(S.ACTIVE, ServiceReason.OVERDUE)
