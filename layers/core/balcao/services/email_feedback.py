"""SES feedback (delivery, bounce, complaint) → the email log's status; hard bounces and complaints suppress the
address (and flag the contact), so later notices skip it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class FeedbackKind(StrEnum):
    DELIVERY = "delivery"
    BOUNCE = "bounce"
    COMPLAINT = "complaint"


STATUS_BY_KIND = {
    FeedbackKind.DELIVERY: "delivered",
    FeedbackKind.BOUNCE: "bounced",
    FeedbackKind.COMPLAINT: "complained",
}


@dataclass(frozen=True, slots=True)
class Feedback:
    message_id: str
    kind: FeedbackKind
    permanent: bool  # a hard bounce (or any complaint)
    recipients: tuple[str, ...]


class FeedbackStore(Protocol):
    def record(self, message_id: str, status: str, suppress: tuple[str, ...]) -> bool:
        """Set the logged email's status, suppress the addresses, flag their contacts; False when unknown."""
        ...


def apply_feedback(feedback: Feedback, store: FeedbackStore) -> bool:
    suppress = (
        feedback.recipients
        if feedback.kind is FeedbackKind.COMPLAINT or (feedback.kind is FeedbackKind.BOUNCE and feedback.permanent)
        else ()
    )
    return store.record(feedback.message_id, STATUS_BY_KIND[feedback.kind], suppress)
