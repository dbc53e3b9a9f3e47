"""Executions of a Standard Step Functions state machine, by name (the ``Workflows`` port of dunning).

Names are the idempotency: starting a running execution again with the same name and input returns it; a closed
name (kept 90 days by Step Functions) or another input is refused, which ``WorkflowNameTakenError`` reports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from balcao.domain.dunning import ExecutionState
from balcao.services.dunning import WorkflowNameTakenError


class StepFunctionsWorkflows:
    def __init__(self, state_machine_arn: str) -> None:
        self.state_machine_arn = state_machine_arn
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("stepfunctions")
        return self._client

    def execution_arn(self, name: str) -> str:
        """``arn:…:stateMachine:{machine}`` → ``arn:…:execution:{machine}:{name}``."""
        prefix, machine = self.state_machine_arn.rsplit(":stateMachine:", 1)
        return f"{prefix}:execution:{machine}:{name}"

    def start(self, name: str, payload: Mapping[str, Any]) -> None:
        document = json.dumps(dict(payload), sort_keys=True, separators=(",", ":"))
        try:
            self.client.start_execution(stateMachineArn=self.state_machine_arn, name=name, input=document)
        except self.client.exceptions.ExecutionAlreadyExists:
            described = self.client.describe_execution(executionArn=self.execution_arn(name))
            if described["status"] != "RUNNING" or json.loads(described.get("input") or "{}") != dict(payload):
                raise WorkflowNameTakenError() from None

    def state(self, name: str) -> ExecutionState:
        try:
            described = self.client.describe_execution(executionArn=self.execution_arn(name))
        except self.client.exceptions.ExecutionDoesNotExist:
            return ExecutionState.MISSING
        return ExecutionState.RUNNING if described["status"] == "RUNNING" else ExecutionState.ENDED

    def stop(self, name: str, cause: str) -> None:
        if self.state(name) is not ExecutionState.RUNNING:
            return
        try:
            self.client.stop_execution(executionArn=self.execution_arn(name), cause=cause[:1000])
        except self.client.exceptions.ExecutionDoesNotExist:
            return
