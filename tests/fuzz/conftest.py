"""The fuzz suite's devstack (in-process) and world (``support.fuzzing``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support.fuzzing import FuzzWorld, build_world
from support.stack_client import StackClient

# While the fuzzer runs, nothing waits on the devstack's queues and streams: its pumps poll less often, so that they
# do not take the interpreter from the requests (polling every 10 ms keeps a whole core busy).
FUZZING_POLL_IDLE_SECONDS = 0.5


@pytest.fixture(scope="session")
def devstack() -> Iterator[Any]:
    from devstack.stack import DevStack

    stack = DevStack(port=0).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def fuzz_world(devstack) -> Iterator[FuzzWorld]:
    from devstack import pumps

    world = build_world(StackClient(devstack.url))  # settles the stack: pumps at their usual pace
    usual = pumps.POLL_IDLE_SECONDS
    pumps.POLL_IDLE_SECONDS = FUZZING_POLL_IDLE_SECONDS
    yield world
    pumps.POLL_IDLE_SECONDS = usual
