"""The embedded local AWS stack: one process, no docker, no AWS.

moto's ThreadedMotoServer (Step Functions executing, Lambda without docker) → every resource created from
template.yaml → our functions loaded in-process → pumps (SQS, the DynamoDB stream) → the demo seed → the gateway
on 127.0.0.1 (``BALCAO_PORT``, default 8000), which starts listening only after all of that.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from datetime import UTC, datetime
from typing import Any

import requests
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from devstack import hooks, mail, pumps, resources, seed, template
from devstack.clock import ClockMovedBackwardsError, DevClock, parse_duration
from devstack.functions import Functions
from devstack.gateway import Gateway, json_response
from devstack.tokens import TokenVerifier

OVERRIDES_VARIABLE = "BALCAO_TEMPLATE_OVERRIDES"  # the portal's template-override folder (docs/theming.md)

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": resources.REGION,
    "AWS_REGION": resources.REGION,
}


class PortBusyError(RuntimeError):
    """The gateway's port is taken (another ``make run``?)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ensure_port_free(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise PortBusyError(
                f"port {port} on 127.0.0.1 is already in use (another 'make run'?). "
                f"Stop it, or choose another port with BALCAO_PORT=<port>."
            ) from None


class DevStack:
    def __init__(
        self, port: int | None = None, seed_data: bool = True, overrides: dict[str, str] | None = None
    ) -> None:
        requested = port if port is not None else int(os.environ.get("BALCAO_PORT", "8000"))
        self.port = requested or free_port()
        self.seed_data = seed_data
        self.overrides = overrides or {}
        self.clock = DevClock()
        self.pumps: list[pumps.Pump] = []
        self.functions: Functions | None = None
        self.created: resources.Created | None = None
        self.seeded: seed.SeedContext | None = None
        self._moto: Any = None
        self._server: BaseWSGIServer | None = None
        self._serving: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- lifecycle --------------------------------------------------------------------------------------------
    def start(self) -> DevStack:
        ensure_port_free(self.port)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._start_moto()
        self._install_hooks()
        self.created = resources.create_all({"PublicBaseUrl": self.url, **self.overrides})
        own_theme = os.environ.get(OVERRIDES_VARIABLE)
        os.environ.update(self.created.environment())
        if own_theme:  # a developer restyling locally points this at their folder
            os.environ[OVERRIDES_VARIABLE] = own_theme
        os.environ["PAYMENTS_MODE"] = "local"
        os.environ["SECURE_COOKIES"] = "false"
        _reset_cached_clients()
        self.functions = Functions()
        hooks.install_lambda_dispatch(self.functions.handler_for, lambda name: None)
        self._start_pumps()
        if self.seed_data:
            self.seeded = seed.run(dict(os.environ))
            self.settle()
        self._start_gateway()
        return self

    def stop(self) -> None:
        for pump in self.pumps:
            pump.stop()
        if self._server is not None:
            self._server.shutdown()
        if self._moto is not None:
            self._stop_executions()
            self._moto.stop()

    def _start_moto(self) -> None:
        from moto.server import ThreadedMotoServer

        moto_port = free_port()
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
        self._moto.start()
        endpoint = f"http://127.0.0.1:{moto_port}"
        os.environ.update(FAKE_CREDENTIALS)
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        os.environ["MOTO_PORT"] = str(moto_port)
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Balcao")
        hooks.install_in_process_transport(self._moto._server.app, endpoint)
        requests.post(
            f"{endpoint}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}},
            timeout=10,
        ).raise_for_status()

    def _install_hooks(self) -> None:
        from balcao.adapters.clock import install_clock

        hooks.install_fast_moto()
        hooks.install_clock_waits(self.clock.now)
        hooks.install_no_retry_sleep()
        hooks.install_write_wakeups(pumps.wake_for)
        hooks.install_metrics_take_turns()
        install_clock(self.clock)

    def _start_pumps(self) -> None:
        assert self.created is not None and self.functions is not None
        resolver = self.created.resolver
        for definition in template.functions().values():
            for event in definition.events_of("SQS").values():
                props = event["Properties"]
                queue_arn = resolver.resolve(props["Queue"])
                queue_name = queue_arn.rsplit(":", 1)[-1]
                queue_url = next(
                    url
                    for lid, url in resolver.refs.items()
                    if resolver.attributes.get(f"{lid}.QueueName") == queue_name
                )
                self.pumps.append(
                    pumps.QueuePump(
                        queue_arn,
                        queue_url,
                        definition.logical_id,
                        self.functions.invoke,
                        int(props.get("BatchSize", 10)),
                        "ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                    )
                )
            for event in definition.events_of("DynamoDB").values():
                props = event["Properties"]
                filters = [json.loads(f["Pattern"]) for f in (props.get("FilterCriteria") or {}).get("Filters", [])]
                self.pumps.append(
                    pumps.StreamPump(
                        resolver.resolve(props["Stream"]),
                        definition.logical_id,
                        self.functions.invoke,
                        int(props.get("BatchSize", 100)),
                        filters,
                        "ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                    )
                )
        for pump in self.pumps:
            pump.start()

    def _start_gateway(self) -> None:
        assert self.functions is not None
        verifier = TokenVerifier(os.environ["USER_POOL_ID"], os.environ["USER_POOL_CLIENT_ID"], resources.REGION)
        gateway = Gateway(self.functions.invoke, verifier.verify)
        gateway.add_dev_route("/_dev/mail", self._mail_page, ["GET"])
        gateway.add_dev_route("/_dev/mail.json", self._mail_json, ["GET"])
        gateway.add_dev_route("/_dev/clock", self._clock_route, ["GET", "POST"])
        gateway.add_dev_route("/_dev/settle", self._settle_route, ["POST"])
        gateway.add_dev_route("/_dev/jobs/<name>", self._job_route, ["POST"])
        gateway.add_dev_route("/_dev/stack", self._stack_route, ["GET"])
        gateway.add_dev_route("/_dev/ses/<message_id>/<kind>", self._ses_route, ["POST"])
        gateway.add_dev_route("/_dev/cpanel/<username>", self._cpanel_route, ["GET"])
        gateway.add_dev_route("/_dev/pay/<invoice_id>", self._pay_route, ["POST"])
        self.gateway = gateway
        self._server = make_server("127.0.0.1", self.port, gateway, threaded=True)
        self._serving = threading.Thread(target=self._server.serve_forever, name="gateway", daemon=True)
        self._serving.start()

    def _stop_executions(self) -> None:
        try:
            from moto.stepfunctions.parser.models import stepfunctions_parser_backends

            backend = stepfunctions_parser_backends[resources.ACCOUNT][resources.REGION]
            for machine in backend.state_machines:
                for execution in machine.executions:
                    if execution.status == "RUNNING":
                        execution.stop(stop_date=datetime.now(UTC), error=None, cause=None)
        except Exception:  # shutting down: best effort
            pass

    # --- what tests and dev routes use ------------------------------------------------------------------------
    def settle(self, timeout_seconds: float = 60.0) -> None:
        pumps.settle(self.pumps, timeout_seconds)

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        assert self.functions is not None
        return self.functions.invoke(logical_id, event)

    def run_job(self, name: str) -> Any:
        jobs = template.schedules()
        if name not in jobs:
            raise KeyError(name)
        function, payload = jobs[name]
        result = self.invoke(function, {**payload, "source": "devstack"})
        self.settle()
        return result

    # --- dev routes -------------------------------------------------------------------------------------------
    def _mail_page(self, request: Request) -> Response:
        return Response(mail.mailbox_page(request.args.get("to")), content_type="text/html; charset=utf-8")

    def _mail_json(self, request: Request) -> Response:
        return json_response(mail.sent_messages(request.args.get("to")))

    def _clock_route(self, request: Request) -> Response:
        if request.method == "POST":
            body = request.get_json(silent=True) or {}
            try:
                if "now" in body:
                    self.clock.set(datetime.fromisoformat(str(body["now"]).replace("Z", "+00:00")))
                elif "advance" in body:
                    self.clock.advance(parse_duration(str(body["advance"])))
                else:
                    return json_response(
                        {
                            "error": {
                                "code": "validation_error",
                                "message": "Send now or advance.",
                                "fields": [{"field": "now", "code": "required", "message": "Send now or advance."}],
                            }
                        },
                        422,
                    )
            except ClockMovedBackwardsError as error:
                return json_response({"error": {"code": "conflict", "message": str(error)}}, 409)
            except ValueError as error:
                return json_response(
                    {
                        "error": {
                            "code": "validation_error",
                            "message": str(error),
                            "fields": [
                                {
                                    "field": "now" if "now" in body else "advance",
                                    "code": "invalid",
                                    "message": str(error),
                                }
                            ],
                        }
                    },
                    422,
                )
            self.settle()
        return json_response({"now": self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")})

    def _settle_route(self, request: Request) -> Response:
        self.settle()
        return json_response({"settled": True})

    def _stack_route(self, request: Request) -> Response:
        """Where the local AWS endpoint is and what was created (tests inspect state through it)."""
        assert self.created is not None
        return json_response(
            {
                "aws_endpoint": os.environ["AWS_ENDPOINT_URL"],
                "region": resources.REGION,
                "resources": self.created.resolver.refs,
                "environment": self.created.environment(),
                "jobs": sorted(template.schedules()),
            }
        )

    def _ses_route(self, request: Request) -> Response:
        """SES feedback (which moto never emits), injected through the real path: default bus → rule → queue."""
        arguments = request.view_args  # type: ignore[attr-defined]
        message_id, kind = arguments["message_id"], arguments["kind"]
        sent = next((m for m in mail.sent_messages() if m["id"] == message_id), None)
        if sent is None or kind not in mail.SES_FEEDBACK:
            return json_response({"error": {"code": "not_found", "message": "No such message or feedback kind."}}, 404)
        detail_type, detail = mail.ses_feedback_event(
            message_id, kind, sent["to"], bounce_type=request.args.get("type", "Permanent")
        )
        import boto3

        boto3.client("events").put_events(
            Entries=[
                {
                    "Source": "aws.ses",
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                    "EventBusName": "default",
                }
            ]
        )
        self.settle()
        return json_response({"message_id": message_id, "event": kind})

    def _pay_route(self, request: Request) -> Response:
        """The sandbox provider pays (or fails, or leaves pending) an invoice's open amount through a signed webhook."""
        from devstack import payments

        invoice_id = request.view_args["invoice_id"]  # type: ignore[attr-defined]
        outcome = str((request.get_json(silent=True) or {}).get("outcome", "paid"))
        if outcome not in payments.OUTCOMES:
            message = "outcome is paid, failed or pending."
            fields = [{"field": "outcome", "code": "invalid_choice", "message": message}]
            return json_response({"error": {"code": "validation_error", "message": message, "fields": fields}}, 422)
        try:
            result = payments.pay(self.url, invoice_id, outcome)
        except payments.NoSuchInvoiceError:
            return json_response({"error": {"code": "not_found", "message": "No such invoice."}}, 404)
        self.settle()
        return json_response(result)

    def _cpanel_route(self, request: Request) -> Response:
        """Where the simulated panel's single sign-on URL lands: the account it opened (as cPanel would)."""
        from html import escape

        from balcao.adapters.provisioning.simulated import simulated_account

        username = request.view_args["username"]  # type: ignore[attr-defined]
        account = simulated_account(username)
        if account is None or not request.args.get("session"):
            return Response("No such cPanel session.", status=404, content_type="text/plain; charset=utf-8")
        state = "suspended" if account.suspended else "active"
        body = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>cPanel (simulated)</title></head>"
            f"<body><h1>cPanel (simulated) — {escape(account.username)}</h1><dl>"
            f"<dt>Domain</dt><dd>{escape(account.domain)}</dd><dt>Package</dt><dd>{escape(account.package)}</dd>"
            f"<dt>Status</dt><dd>{state}</dd></dl></body></html>"
        )
        return Response(body, content_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})

    def _job_route(self, request: Request) -> Response:
        name = request.view_args["name"]  # type: ignore[attr-defined]
        try:
            result = self.run_job(name)
        except KeyError:
            return json_response({"error": {"code": "not_found", "message": f"No job named {name}."}}, 404)
        return json_response(result)


def _reset_cached_clients() -> None:
    """PynamoDB caches a connection (and its endpoint) per model class, boto3 a default session: drop them after
    the endpoint changed (and so that new ones carry the in-process transport)."""
    import boto3
    from pynamodb.models import Model

    boto3.DEFAULT_SESSION = None

    def walk(cls: type) -> list[type]:
        found = []
        for sub in cls.__subclasses__():
            found.append(sub)
            found.extend(walk(sub))
        return found

    for model in walk(Model):
        model._connection = None  # type: ignore[attr-defined]
