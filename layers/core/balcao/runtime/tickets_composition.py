"""Building the ticket use-cases with their adapters, once per container (the tickets functions and the portal
share it). The company settings are read per call (cached 30 s by their store), so a staff change applies soon."""

from __future__ import annotations

from functools import cache

from balcao.adapters.attachments import S3AttachmentFiles, SealedUploadTokens
from balcao.adapters.clock import WallClock, app_clock
from balcao.adapters.crypto import Sealer
from balcao.adapters.dynamodb.tickets import DynamoTicketStore
from balcao.adapters.secrets import secret_value
from balcao.runtime import composition
from balcao.runtime.settings import load_settings
from balcao.services.tickets import Tickets


@cache
def ticket_store() -> DynamoTicketStore:
    return DynamoTicketStore()


@cache
def attachment_files() -> S3AttachmentFiles:
    return S3AttachmentFiles(load_settings().attachments_bucket)


@cache
def upload_tokens() -> SealedUploadTokens:
    """Sealed with the app's at-rest key under their own purpose (bound as associated data)."""
    settings = load_settings()
    return SealedUploadTokens(Sealer(lambda: secret_value(settings.totp_key_secret_id)), WallClock())


def tickets() -> Tickets:
    company = composition.company()
    return Tickets(
        store=ticket_store(),
        files=attachment_files(),
        upload_tokens=upload_tokens(),
        clock=app_clock(),
        wall=WallClock(),
        settings=company.tickets,
        staff_language=company.locale.default_language,
    )


def attachments_form_origin() -> str:
    """What the portal's Content-Security-Policy adds to ``form-action`` so uploads can post to the bucket."""
    return attachment_files().form_origin()
