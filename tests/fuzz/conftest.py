"""The fuzz suite's devstack (in-process) and world (``support.fuzzing``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support.fuzzing import FuzzWorld, build_world
from support.stack_client import StackClient


@pytest.fixture(scope="session")
def devstack() -> Iterator[Any]:
    from devstack.stack import DevStack

    stack = DevStack(port=0).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def fuzz_world(devstack) -> FuzzWorld:
    return build_world(StackClient(devstack.url))
