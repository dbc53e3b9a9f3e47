"""Integration: each handler with real events under ``moto.mock_aws``; every resource created from template.yaml."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto import mock_aws

from devstack import hooks, pumps, resources, template
from devstack.gateway import LambdaContext
from support.clocks import FixedClock
from support.ddb import DynamoCalls, count_dynamodb_calls
from support.moto_state import reset_data

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


@pytest.fixture(scope="session", autouse=True)
def _moto_hooks() -> None:
    """The devstack's hooks, installed the same way here: tasks run our handlers, Waits follow the clock, writes
    wake the pumps that read them."""
    from balcao.adapters.clock import app_clock

    def handler_for(name: str) -> Callable[[dict[str, Any], Any], Any] | None:
        definition = template.functions().get(name)
        return template.handler_of(definition) if definition else None

    hooks.install_fast_moto()
    hooks.install_no_retry_sleep()
    hooks.install_clock_waits(lambda: app_clock().now())
    hooks.install_lambda_dispatch(handler_for, LambdaContext)
    hooks.install_write_wakeups(pumps.wake_for)


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    from balcao.adapters.clock import SystemClock, install_clock

    fixed = FixedClock()
    install_clock(fixed)
    yield fixed
    install_clock(SystemClock())


@pytest.fixture(scope="session")
def aws_session() -> Iterator[resources.Created]:
    """moto with every resource of template.yaml, created once; the functions' environment applied."""
    from balcao.runtime.settings import load_settings

    saved = dict(os.environ)
    with mock_aws(config=MOTO_CONFIG):  # type: ignore[arg-type]
        created = resources.create_all()
        os.environ.update(created.environment())
        os.environ["PAYMENTS_MODE"] = "local"
        load_settings.cache_clear()
        yield created
    os.environ.clear()
    os.environ.update(saved)
    load_settings.cache_clear()


@pytest.fixture
def aws(aws_session: resources.Created, clock: FixedClock) -> Iterator[resources.Created]:
    """Empty tables, buckets, queues and outbox for this test (resources stay)."""
    from balcao.adapters.dynamodb.settings import forget_cached_settings

    reset_data()
    forget_cached_settings()
    yield aws_session
    forget_cached_settings()


@pytest.fixture
def invoke() -> Callable[[str, dict[str, Any]], Any]:
    """Call ``functions/<folder>/app.py``'s handler like Lambda would."""

    def call(folder: str, event: dict[str, Any]) -> Any:
        module = template.load_function_module(folder)
        return module.lambda_handler(event, LambdaContext(folder))

    return call


@pytest.fixture
def ddb_calls() -> Callable[[], Any]:
    return count_dynamodb_calls


__all__ = ["DynamoCalls"]
