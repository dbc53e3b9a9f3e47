"""SES v2 ``Raw`` sending: one multipart/alternative MIME message (text + HTML), attachments inside.

Raw MIME is what we send everywhere (moto keeps only the HTML part of ``Simple`` messages, and attachments need
Raw anyway). The configuration set routes delivery, bounce and complaint feedback.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from balcao.domain.email import OutgoingEmail


def build_mime(message: OutgoingEmail) -> bytes:
    mime = EmailMessage()
    mime["From"] = message.sender
    mime["To"] = ", ".join(message.recipients)
    mime["Subject"] = message.subject
    mime["Date"] = formatdate(usegmt=True)
    mime["Message-ID"] = make_msgid(domain=message.sender.rsplit("@", 1)[-1])
    if message.reply_to:
        mime["Reply-To"] = message.reply_to
    for name, value in message.headers:
        mime[name] = value
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        main, _, sub = attachment.content_type.partition("/")
        mime.add_attachment(attachment.content, maintype=main, subtype=sub, filename=attachment.filename)
    mime["Content-Language"] = message.language  # last: making parts moves Content-* headers into them
    return mime.as_bytes()


class SesMailer:
    def __init__(self, configuration_set: str | None = None) -> None:
        self._configuration_set = configuration_set
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("sesv2")
        return self._client

    def send(self, message: OutgoingEmail) -> str:
        arguments: dict[str, Any] = {
            "FromEmailAddress": message.sender,
            "Destination": {"ToAddresses": list(message.recipients)},
            "Content": {"Raw": {"Data": build_mime(message)}},
        }
        if self._configuration_set:
            arguments["ConfigurationSetName"] = self._configuration_set
        response = self.client.send_email(**arguments)
        return str(response["MessageId"])
