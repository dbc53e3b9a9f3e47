"""An email ready to send: already rendered (HTML and text) in the recipient's language."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str
    language: str
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    reply_to: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)
