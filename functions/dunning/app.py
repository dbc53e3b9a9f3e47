"""The dunning state machine's tasks (``infra/statemachines/dunning.asl.json``): ``plan``, ``check``, ``notify``,
``suspend``, ``terminate``, ``pending_alert`` and ``alert``.

Each invocation names its task, the invoice and the execution; the task decides by the step the state machine passes
in and the invoice's state. A failure that may pass (a lost race, a throttled or unreachable dependency, a
retryable control-panel error) is raised as ``DunningTransientError``, which the state machine retries; anything
else reaches its Catch (staff alert, then the dead-letter queue).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.domain.dunning import DunningTransientError
from balcao.domain.provisioning import ProvisioningError
from balcao.runtime.dunning_composition import dunning
from balcao.runtime.observability import logger, metrics

TRANSIENT_AWS_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
    }
)


def run(task: str, event: dict[str, Any]) -> dict[str, Any]:
    service = dunning()
    account_id, invoice_id, execution = str(event["account_id"]), str(event["invoice_id"]), str(event["execution"])
    if task == "plan":
        return service.plan(account_id, invoice_id, execution)
    if task == "check":
        return service.check(
            account_id, invoice_id, execution, str(event["step"]), str(event["at"]), int(event.get("rechecks") or 0)
        )
    if task == "notify":
        return service.notify(account_id, invoice_id, execution, str(event["step"]))
    if task == "suspend":
        return service.suspend(account_id, invoice_id, execution)
    if task == "terminate":
        return service.terminate(account_id, invoice_id, execution)
    if task == "pending_alert":
        return service.pending_alert(account_id, invoice_id, execution)
    if task == "alert":
        failure = event.get("error") or {}
        return service.alert(
            account_id, invoice_id, execution, str(failure.get("Error") or ""), str(failure.get("Cause") or "")
        )
    raise ValueError(f"unknown dunning task {task!r}")


def is_transient(error: Exception) -> bool:
    if isinstance(error, DunningTransientError):
        return True
    if isinstance(error, ProvisioningError):
        return error.retryable
    from botocore.exceptions import ClientError
    from botocore.exceptions import ConnectionError as BotocoreConnectionError

    if isinstance(error, BotocoreConnectionError):
        return True
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code") in TRANSIENT_AWS_CODES
    return False


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = str(event["task"])
    try:
        result = run(task, event)
    except Exception as error:
        if is_transient(error) and not isinstance(error, DunningTransientError):
            logger.warning("dunning task failed, will be retried", extra={"task": task, "error": repr(error)})
            raise DunningTransientError() from error
        raise
    metrics.add_metric(name=f"Dunning.{task}", unit="Count", value=1)
    return result
