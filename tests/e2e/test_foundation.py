"""The foundation's acceptance, over HTTP on the devstack."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta

from openapi_spec_validator import validate

from balcao.adapters.ses import SesMailer
from balcao.domain.email import OutgoingEmail


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_one_valid_openapi_document(client):
    document = client.get("/api/openapi.json").json()
    validate(document)
    assert "/api/staff/settings" in document["paths"]
    assert client.get("/api/docs").status_code == 200


def test_staff_settings_401_without_token_403_for_a_customer_200_for_staff(client):
    anonymous = client.get("/api/staff/settings")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthorized"
    customer = client.get("/api/staff/settings", token=client.token("ana@example.com"))
    assert customer.status_code == 403 and customer.json()["error"]["code"] == "forbidden"
    staff = client.get("/api/staff/settings", token=client.staff_token())
    assert staff.status_code == 200 and staff.json()["brand"]["name"]


def test_a_bad_token_is_401(client):
    assert client.get("/api/staff/settings", token="not-a-jwt").status_code == 401


def test_unknown_api_routes_are_404_in_the_error_shape(client):
    response = client.get("/api/x")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_a_handlers_email_appears_in_the_mailbox_with_both_parts(devstack, client):
    import os

    message_id = SesMailer(os.environ["SES_CONFIGURATION_SET"]).send(
        OutgoingEmail(
            sender=os.environ["SENDER_ADDRESS"],
            recipients=("foundation-e2e@example.com",),
            subject="Olá do Balcão",
            text="Texto simples com acentuação: ção.",
            html='<html lang="pt-BR"><body><p>HTML com acentuação: ção.</p></body></html>',
            language="pt-BR",
        )
    )
    [received] = client.mail("foundation-e2e@example.com")
    assert received["id"] == message_id
    assert "ção" in received["text"] and "ção" in received["html"]
    assert received["to"] == ["foundation-e2e@example.com"]
    assert client.get("/_dev/mail").status_code == 200


def test_the_clock_only_moves_forward(client):
    now = client.clock()
    earlier = (datetime.fromisoformat(now.replace("Z", "+00:00")) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = client.http.post(client.url("/_dev/clock"), json={"now": earlier}, timeout=10)
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"
    assert client.http.post(client.url("/_dev/clock"), json={"advance": "nonsense"}, timeout=10).status_code == 422


def test_settle_and_unknown_jobs(client):
    client.settle()
    response = client.http.post(client.url("/_dev/jobs/no-such-job"), timeout=10)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_second_stack_on_a_busy_port_fails_naming_it(devstack):
    result = subprocess.run(
        [sys.executable, "-m", "devstack", "serve", "--port", str(devstack.port)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"port {devstack.port}" in result.stderr and "BALCAO_PORT" in result.stderr


def test_the_self_check_workflow_runs_our_task_and_its_3_day_wait_follows_the_clock(private_devstack):
    client = private_devstack
    sfn = client.aws("stepfunctions")
    now = datetime.fromisoformat(client.clock().replace("Z", "+00:00"))
    wait_until = (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    execution = sfn.start_execution(
        stateMachineArn=client.stack["resources"]["SelfCheckStateMachine"],
        name="self-check-e2e",
        input=json.dumps({"wait_until": wait_until}),
    )
    client.settle()  # the task ran; the execution now waits on the clock
    assert sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING"
    client.clock(advance="P2D")
    assert sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING"
    client.clock(advance="P1DT1M")
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"])["after"]["handler"] == "health.self_check"


def test_a_dev_route_whose_settle_gives_up_answers_504_at_once(devstack, client, monkeypatch):
    # Given a devstack whose settle() gives up at once, as it does after 60 s with more work than that to do
    from devstack import pumps

    monkeypatch.setattr(devstack, "settle", lambda timeout_seconds=60.0: pumps.settle(devstack.pumps, 0.0))
    # When a dev route that settles is called (a job run, a clock move, a payment or /_dev/settle itself)
    response = client.http.post(client.url("/_dev/settle"), timeout=10)
    # Then it answers 504 with what was still busy, rather than leaving the caller waiting on an open connection
    assert response.status_code == 504
    assert response.json()["error"]["message"].startswith("TimeoutError: the devstack did not settle")
    assert client.get("/health").status_code == 200
