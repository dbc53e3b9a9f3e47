"""Every capability's scheduled jobs (API.md's list, decision 0007) are ScheduleV2 events of that capability's jobs
function in template.yaml, whose handler dispatches them (``/_dev/jobs/{name}`` finds them the same way)."""

from __future__ import annotations

import json

import pytest

from devstack import template

JOBS_BY_CAPABILITY = {
    "identity": ("exports", "retention", "unconfirmed_signups"),
    "billing": ("renewals", "unpaid_funds", "late_fees"),
    "services": ("unpaid_orders", "unpaid_upgrades", "cancellations"),
    "payments": ("autocharge", "card_expiry"),
    "tickets": ("ticket_autoclose",),
    "dunning": ("reconcile_dunning",),
}
EVERY_JOB = [(capability, job) for capability, jobs in JOBS_BY_CAPABILITY.items() for job in jobs]


@pytest.mark.parametrize(("capability", "job"), EVERY_JOB, ids=[job for _, job in EVERY_JOB])
def test_the_job_is_scheduled_in_its_capabilitys_jobs_function(capability, job):
    schedules = template.schedules()
    assert job in schedules, f"{job} ({capability}) is not a ScheduleV2 event in template.yaml"
    function, payload = schedules[job]
    assert function == f"{capability.title()}JobsFunction", f"{job} belongs in {capability}'s jobs function"
    assert payload == {"job": job}
    definition = template.functions()[function]
    [event] = [
        e for e in definition.events_of("ScheduleV2").values() if json.loads(e["Properties"]["Input"]) == payload
    ]
    assert event["Properties"]["ScheduleExpression"].startswith(("cron(", "rate("))
    if event["Properties"]["ScheduleExpression"].startswith("cron("):
        assert event["Properties"].get("ScheduleExpressionTimezone"), f"{job}: daily jobs run in the company's timezone"
    assert f'"{job}"' in (definition.code_dir / "app.py").read_text(), f"{function}'s handler does not dispatch {job}"


def test_no_job_is_scheduled_that_no_capability_lists():
    assert set(template.schedules()) == {job for _, job in EVERY_JOB}
