"""A batch of queue messages: the failed ones go back to the queue, the others are done; all failing fails."""

from __future__ import annotations

import pytest

from balcao.runtime.queues import BatchFailedError, QueueMessage, process_batch


def batch(*bodies: str) -> dict[str, object]:
    return {
        "Records": [{"messageId": f"m{i}", "body": body, "eventSource": "aws:sqs"} for i, body in enumerate(bodies)]
    }


def test_only_the_messages_that_failed_go_back_to_the_queue() -> None:
    # Given a batch whose second message cannot be handled
    handled: list[str] = []

    def handle(message: QueueMessage) -> None:
        if message.body == "bad":
            raise ValueError("cannot handle")
        handled.append(message.body)

    # When it is processed
    answer = process_batch(batch("a", "bad", "c"), handle)

    # Then the others were handled and only the failed one is reported
    assert handled == ["a", "c"]
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_a_batch_where_every_message_failed_fails_the_invocation() -> None:
    def handle(message: QueueMessage) -> None:
        raise RuntimeError("the panel is down")

    with pytest.raises(BatchFailedError):
        process_batch(batch("a", "b"), handle)


def test_an_empty_batch_is_done() -> None:
    assert process_batch({"Records": []}, lambda message: None) == {"batchItemFailures": []}
