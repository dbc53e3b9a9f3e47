"""In-process figures on moto (``mock_aws``, resources from template.yaml, the devstack's hooks): DynamoDB calls per
route, warm handler time outside AWS calls, and the portal's pages.

- DynamoDB calls per route: every operation of the merged OpenAPI document (as the BOLA matrix enumerates them),
  called by an authorized caller with the matrix's sample bodies and its world's ids; reads first, then each
  mutation on a fresh copy of the world's data.
- Warm handler time: the main routes, ``warm_calls`` calls each after a warm-up, minus the time inside AWS calls.
- Portal pages: every page without a form post, signed in, p50 server time and DynamoDB calls (of a warm
  container's visit; the first visit's are kept beside them).

``python -m bench.inprocess RESULT.json``
"""

from __future__ import annotations

import copy
import importlib.util
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from bench.common import (
    ROOT,
    TESTS,
    AwsProbe,
    Sizes,
    fake_aws_environment,
    median,
    percentile,
    progress,
    use_test_support,
    write_result,
)

if TYPE_CHECKING:
    from moto.core.config import DefaultConfig

MOTO_CONFIG: DefaultConfig = {"stepfunctions": {"execute_state_machine": False}, "lambda": {"use_docker": False}}
ACCOUNT, REGION = "123456789012", "eu-west-1"
# The routes a customer calls most, each with what fills its path (keys of the world's ids).
MAIN_ROUTES = [
    ("GET", "/api/me"),
    ("GET", "/api/accounts/{account_id}"),
    ("GET", "/api/accounts/{account_id}/contacts"),
    ("GET", "/api/accounts/{account_id}/services"),
    ("GET", "/api/accounts/{account_id}/invoices"),
    ("GET", "/api/accounts/{account_id}/invoices/{invoice_id}"),
    ("GET", "/api/accounts/{account_id}/tickets"),
    ("GET", "/api/accounts/{account_id}/tickets/{ticket_id}"),
    ("POST", "/api/accounts/{account_id}/contacts"),
]


# --- the moto world --------------------------------------------------------------------------------------------------
@contextmanager
def moto_world() -> Iterator[Any]:
    """``mock_aws`` with every resource of template.yaml, the hooks the tests install, and a fixed clock."""
    AwsProbe.install()  # before the first botocore session
    from moto import mock_aws

    from balcao.adapters.clock import SystemClock, install_clock
    from balcao.runtime.settings import load_settings
    from devstack import hooks, resources, template
    from devstack.gateway import LambdaContext
    from support.clocks import FixedClock

    def handler_for(name: str) -> Callable[[dict[str, Any], Any], Any] | None:
        definition = template.functions().get(name)
        return template.handler_of(definition) if definition else None

    hooks.install_fast_moto()
    hooks.install_no_retry_sleep()
    with mock_aws(config=MOTO_CONFIG):
        created = resources.create_all()
        os.environ.update(created.environment())
        os.environ["PAYMENTS_MODE"] = "local"
        load_settings.cache_clear()
        hooks.install_lambda_dispatch(handler_for, LambdaContext)
        install_clock(FixedClock())
        try:
            yield created
        finally:
            install_clock(SystemClock())


def invoke(folder: str, event: dict[str, Any]) -> Any:
    from devstack import template
    from devstack.gateway import LambdaContext

    return template.load_function_module(folder).lambda_handler(event, LambdaContext(folder))


def table_snapshot() -> dict[str, Any]:
    from moto.dynamodb.models import dynamodb_backends

    return {name: copy.deepcopy(table.items) for name, table in dynamodb_backends[ACCOUNT][REGION].tables.items()}


def restore(snapshot: dict[str, Any]) -> None:
    from moto.dynamodb.models import dynamodb_backends

    for name, table in dynamodb_backends[ACCOUNT][REGION].tables.items():
        table.items = copy.deepcopy(snapshot[name])
        if table.stream_shard is not None:
            table.stream_shard.items.clear()


def bola_matrix() -> Any:
    """The BOLA matrix's module: its route enumeration, sample bodies and two-account world."""
    path = TESTS / "integration" / "test_bola_matrix.py"
    spec = importlib.util.spec_from_file_location("bench_bola_matrix", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def status_of(response: Any) -> int:
    return int(response.get("statusCode", 0)) if isinstance(response, dict) else 0


# --- DynamoDB calls per route -----------------------------------------------------------------------------------------
STRONG_PASSWORD = "Bench-Passw0rd-2026!"  # noqa: S105 - a throwaway user of the local stack


class RouteCaller:
    """Calls a route as an authorized caller with valid data: A's owner (with a user record), staff_admin with
    MFA for staff routes; public routes get bodies of their own (a real login for ``login``)."""

    def __init__(self, bola: Any, world: Any) -> None:
        from balcao.adapters.dynamodb.identity import DynamoIdentityStore
        from balcao.domain.identity import User, UserStatus
        from support.identity import NOW, given_staff
        from support.portal import PASSWORD, login_user, unique

        self.bola = bola
        self.world = world
        self.staff = given_staff("staff_admin")
        self.values = {**world.a_ids, "account_id": world.a}
        owner = world.a_owner
        DynamoIdentityStore().create_user(User(owner.user_id, owner.email, "Alfa Owner", "en", UserStatus.ACTIVE, NOW))
        login_email = unique("bench-login")
        login_user(login_email, "Bench Login")
        signup_email = unique("bench-signup")
        self.public_bodies = {
            "LoginRequest": {"email": login_email, "password": PASSWORD},
            "SignupRequest": {
                "email": signup_email,
                "password": STRONG_PASSWORD,
                "name": "Bench Signup",
                "language": "pt-BR",
                "accept_terms": True,
            },
            "ConfirmRequest": {"email": signup_email, "code": "123456"},
            "MfaRequest": {"session": "bench-session", "code": "123456"},
            "RefreshRequest": {"refresh_token": "bench-refresh-token"},
            "ForgotRequest": {"email": login_email},
            "ResetRequest": {"email": login_email, "code": "123456", "password": STRONG_PASSWORD},
        }

    def body_for(self, operation: dict[str, Any]) -> Any:
        content = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
        if content is None:
            return None
        schema = content["schema"]
        name = schema.get("$ref", "").rsplit("/", 1)[-1] or schema.get("title", "")
        body = copy.deepcopy(self.public_bodies.get(name, self.bola.SAMPLE_BODIES.get(name)))
        if name == "OwnerTransfer":
            body = {"user_id": self.values.get("user_id", "")}
        if isinstance(body, dict) and body.get("account_id") == "ACCOUNT":
            body["account_id"] = self.world.a
        return body

    def event(self, method: str, path: str, operation: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        from support.events import api_event

        access = operation.get("x-balcao-access")
        caller = self.staff if access == "staff" else (None if access == "public" else self.world.a_owner)
        concrete = re.sub(r"\{(\w+)\}", lambda m: self.values.get(m.group(1), "unknown"), path)
        query = {p["name"]: "ab" for p in operation.get("parameters", []) if p["in"] == "query" and p.get("required")}
        event = api_event(
            method,
            concrete,
            resource=path,
            claims=caller.claims if caller else None,
            body=self.body_for(operation),
            query=query or None,
        )
        folder = self.bola.FOLDERS[self.bola.FUNCTIONS[(method, path)]]
        return folder, event


def dynamodb_calls_per_route(bola: Any) -> list[dict[str, Any]]:
    from balcao.adapters.clock import install_clock
    from balcao.adapters.dynamodb.settings import forget_cached_settings
    from support.clocks import FixedClock
    from support.identity import NOW
    from support.moto_state import reset_data

    reset_data()
    forget_cached_settings()
    install_clock(FixedClock(NOW))
    world = bola.build_world()
    caller = RouteCaller(bola, world)
    snapshot = table_snapshot()
    operations = sorted(bola.operations(), key=lambda o: (o[0] != "GET", o[1], o[0]))
    rows = []
    for method, path, operation in operations:
        folder, event = caller.event(method, path, operation)
        with AwsProbe.record() as recording:
            response = invoke(folder, event)
        calls = recording.operations("dynamodb")
        rows.append(
            {
                "method": method,
                "path": path,
                "access": operation.get("x-balcao-access"),
                "status": status_of(response),
                "dynamodb_calls": len(calls),
                "scans": calls.count("Scan"),
                "operations": calls,
                "other_aws_calls": [f"{c.service}.{c.operation}" for c in recording.calls if c.service != "dynamodb"],
            }
        )
        if method != "GET":
            restore(snapshot)
            forget_cached_settings()
    return rows


# --- warm handler time ------------------------------------------------------------------------------------------------
def warm_handler_time(bola: Any, sizes: Sizes) -> list[dict[str, Any]]:
    from balcao.adapters.dynamodb.settings import forget_cached_settings
    from support.moto_state import reset_data

    reset_data()
    forget_cached_settings()
    world = bola.build_world()
    caller = RouteCaller(bola, world)
    documented = {(m, p): o for m, p, o in bola.operations()}
    rows = []
    for method, path in MAIN_ROUTES:
        operation = documented.get((method, path))
        if operation is None:
            rows.append({"method": method, "path": path, "measured": False, "reason": "route not present"})
            continue
        progress(f"warm handler: {method} {path} × {sizes.warm_calls}")
        for _ in range(min(20, sizes.warm_calls)):  # warm-up: lazy imports, cached settings, connections
            invoke(*caller.event(method, path, operation))
        totals, outside, inside, statuses = [], [], [], set()
        # A write is measured on the same data every time: what it added is taken away, untimed, before the next.
        before = table_snapshot() if method != "GET" else None
        for _ in range(sizes.warm_calls):
            folder, event = caller.event(method, path, operation)
            with AwsProbe.record() as recording:
                started = time.perf_counter()
                response = invoke(folder, event)
                elapsed = time.perf_counter() - started
            if before is not None:
                restore(before)
            statuses.add(status_of(response))
            totals.append(elapsed)
            inside.append(recording.aws_seconds)
            outside.append(elapsed - recording.aws_seconds)
        rows.append(
            {
                "method": method,
                "path": path,
                "measured": True,
                "calls": sizes.warm_calls,
                "statuses": sorted(statuses),
                "total_p50_ms": median(totals) * 1000,
                "aws_p50_ms": median(inside) * 1000,
                "overhead_p50_ms": median(outside) * 1000,
                "overhead_p99_ms": percentile(outside, 0.99) * 1000,
                "total_p99_ms": percentile(totals, 0.99) * 1000,
            }
        )
    return rows


# --- portal pages -----------------------------------------------------------------------------------------------------
def portal_pages(bola: Any, sizes: Sizes) -> list[dict[str, Any]]:
    """Every GET page of the portal, signed in as the owner of an account with data (the BOLA world's A)."""
    from balcao.adapters.dynamodb.identity import DynamoIdentityStore
    from balcao.adapters.dynamodb.settings import forget_cached_settings
    from devstack import template
    from support.moto_state import reset_data
    from support.portal import Visitor, login_user, unique

    reset_data()
    forget_cached_settings()
    email = unique("portal")
    owner_id = login_user(email, "Paula Portal")
    world = bola.build_world()
    # Paula, with a real login, joins A (and its data) as an owner.
    from balcao.adapters.dynamodb.accounts import member_item
    from balcao.domain.accounts import ALL_PERMISSIONS, Membership, Role
    from support.identity import NOW

    member_item(Membership(world.a, owner_id, Role.OWNER, ALL_PERMISSIONS, "Alfa", user_email=email), NOW).save()
    visitor = Visitor(invoke)
    visitor.sign_in(email)
    sessions = DynamoIdentityStore().sessions_of(owner_id)
    values = {**world.a_ids, "account_id": world.a, "session_id": sessions[0].session_id if sessions else "unknown"}
    values["path"] = "portal.css"
    pages = sorted({r.path for r in template.api_routes() if r.function == "PortalFunction" and r.method == "GET"})
    rows = []
    for page in pages:
        concrete = re.sub(r"\{(\w+)\+?\}", lambda m: values.get(m.group(1), "unknown"), page)
        with AwsProbe.record() as cold:
            first = visitor.get(concrete)
        # The budget is a warm container's: what a container caches (the catalog, 30 s) is read on the first visit.
        with AwsProbe.record() as warm:
            visitor.get(concrete)
        calls = warm.operations("dynamodb")
        times = []
        for _ in range(sizes.page_calls):
            started = time.perf_counter()
            visitor.get(concrete)
            times.append(time.perf_counter() - started)
        rows.append(
            {
                "path": page,
                "status": status_of(first),
                "p50_ms": median(times) * 1000,
                "dynamodb_calls": len(calls),
                "first_visit_dynamodb_calls": len(cold.operations("dynamodb")),
                "scans": calls.count("Scan") + cold.operations("dynamodb").count("Scan"),
                "operations": calls,
            }
        )
    return rows


def measure(sizes: Sizes) -> dict[str, Any]:
    fake_aws_environment()
    use_test_support()
    os.chdir(ROOT)
    with moto_world():
        bola = bola_matrix()
        progress("DynamoDB calls per route: every route from the resolvers")
        routes = dynamodb_calls_per_route(bola)
        warm = warm_handler_time(bola, sizes)
        progress(f"portal pages: every page, p50 of {sizes.page_calls}")
        pages = portal_pages(bola, sizes)
    return {
        "dynamodb_per_route": {"measured": True, "routes": routes},
        "warm_handler": {"measured": True, "routes": warm},
        "portal_pages": {"measured": True, "pages": pages},
    }


def main(argv: list[str]) -> int:
    write_result(argv[0], measure(Sizes.from_environment()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
