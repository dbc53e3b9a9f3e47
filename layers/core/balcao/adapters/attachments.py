"""Ticket attachments in S3: presigned POST uploads (limited to one key, one type and 10 MB, tagged
``state=unlinked`` so the bucket's lifecycle rule deletes what is never linked), what the confirmation reads (the
object's size and type, its first bytes), re-tagging on link, and short-lived presigned GETs.

Presigned URLs and the upload window are wall time (cryptographic freshness), never the business clock.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any
from urllib.parse import quote, urlsplit

from botocore.exceptions import ClientError

from balcao.adapters.crypto import SealBrokenError, Sealer
from balcao.domain.errors import NotFoundError
from balcao.services.tickets import StoredFile, UploadForm, WallClock

KEY_PREFIX = "attachments"
UNLINKED = "unlinked"
LINKED = "linked"
DOWNLOAD_SECONDS = 300
UPLOAD_TOKEN_SECONDS = 3600
UPLOAD_SEAL_PURPOSE = "ticket-attachment-upload"
_MISSING = ("404", "NoSuchKey", "NotFound")


def tagging(state: str) -> str:
    """The ``tagging`` form field of a POST upload (XML)."""
    return f"<Tagging><TagSet><Tag><Key>state</Key><Value>{state}</Value></Tag></TagSet></Tagging>"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the UTF-8 name (RFC 6266 / RFC 5987)."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = "".join(c if c.isalnum() or c in " ._-()" else "_" for c in ascii_name).strip() or "attachment"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


class S3AttachmentFiles:
    def __init__(self, bucket: str) -> None:
        self._bucket = bucket
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client("s3", config=Config(signature_version="s3v4"))
        return self._client

    def object_key(self, account_id: str, attachment_id: str) -> str:
        return f"{KEY_PREFIX}/{account_id}/{attachment_id}"

    def key_prefix(self, account_id: str, attachment_id: str) -> str:
        """Where a browser form's file goes, under its own name: ``attachments/{account}/{attachment}/``."""
        return f"{self.object_key(account_id, attachment_id)}/"

    @staticmethod
    def ids_from_key(key: str) -> tuple[str, str] | None:
        """``(account_id, attachment_id)`` of an attachment's object key, or None for any other key."""
        parts = key.split("/", 3)
        if len(parts) < 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
            return None
        return parts[1], parts[2]

    def upload_form(
        self, key: str, content_type: str, max_bytes: int, expires_seconds: int, redirect_url: str | None
    ) -> UploadForm:
        fields = {"Content-Type": content_type}
        return self._presigned_post(
            key, fields, [{"Content-Type": content_type}], max_bytes, expires_seconds, redirect_url
        )

    def browser_form(self, key_prefix: str, max_bytes: int, expires_seconds: int, redirect_url: str) -> UploadForm:
        """The file keeps its name (``${filename}``: the key may only start with ``key_prefix``); no type is
        declared, the confirmation reads it from the bytes."""
        return self._presigned_post(f"{key_prefix}${{filename}}", {}, [], max_bytes, expires_seconds, redirect_url)

    def _presigned_post(
        self,
        key: str,
        fields: dict[str, str],
        conditions: list[Any],
        max_bytes: int,
        expires_seconds: int,
        redirect_url: str | None,
    ) -> UploadForm:
        fields = {**fields, "tagging": tagging(UNLINKED)}
        conditions = [*conditions, {"tagging": tagging(UNLINKED)}, ["content-length-range", 1, max_bytes]]
        if redirect_url is not None:
            fields["success_action_redirect"] = redirect_url
            conditions.append({"success_action_redirect": redirect_url})
        post = self.client.generate_presigned_post(
            self._bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=expires_seconds
        )
        return UploadForm(url=str(post["url"]), fields={k: str(v) for k, v in post["fields"].items()})

    def uploaded_under(self, key_prefix: str) -> str | None:
        """The key of the file a browser form stored under ``key_prefix`` (the first, if sent twice)."""
        listed = self.client.list_objects_v2(Bucket=self._bucket, Prefix=key_prefix, MaxKeys=1)
        contents = listed.get("Contents") or []
        return str(contents[0]["Key"]) if contents else None

    def form_origin(self) -> str:
        """The origin browsers post uploads to: the portal's CSP ``form-action`` must list it."""
        url = self.client.generate_presigned_post(self._bucket, f"{KEY_PREFIX}/origin", ExpiresIn=60)["url"]
        parts = urlsplit(str(url))
        return f"{parts.scheme}://{parts.netloc}"

    def stored(self, key: str) -> StoredFile | None:
        try:
            head = self.client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        return StoredFile(size=int(head["ContentLength"]), content_type=head.get("ContentType"))

    def head_bytes(self, key: str, count: int) -> bytes:
        response = self.client.get_object(Bucket=self._bucket, Key=key, Range=f"bytes=0-{count - 1}")
        body: bytes = response["Body"].read(count)
        return body

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self._bucket, Key=key)

    def mark_linked(self, key: str) -> None:
        self.client.put_object_tagging(
            Bucket=self._bucket, Key=key, Tagging={"TagSet": [{"Key": "state", "Value": LINKED}]}
        )

    def download_url(self, key: str, filename: str, content_type: str) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentDisposition": content_disposition(filename),
                "ResponseContentType": content_type,
            },
            ExpiresIn=DOWNLOAD_SECONDS,
        )
        return url


class SealedUploadTokens:
    """The token of ``success_action_redirect``: the account and attachment it was issued for, sealed (AES-GCM,
    bound to its purpose) so it cannot be forged or altered, valid for an hour. It is single-use because an
    attachment is confirmed once."""

    def __init__(self, sealer: Sealer, wall: WallClock, lifetime_seconds: int = UPLOAD_TOKEN_SECONDS) -> None:
        self._sealer = sealer
        self._wall = wall
        self._lifetime = lifetime_seconds

    def issue(self, account_id: str, attachment_id: str) -> str:
        expires = int(self._wall.epoch_seconds()) + self._lifetime
        payload = json.dumps({"account_id": account_id, "attachment_id": attachment_id, "expires": expires})
        return self._sealer.seal(payload, UPLOAD_SEAL_PURPOSE)

    def redeem(self, token: str) -> tuple[str, str]:
        try:
            payload = json.loads(self._sealer.open(token, UPLOAD_SEAL_PURPOSE))
        except SealBrokenError:
            raise NotFoundError() from None
        if int(payload["expires"]) < self._wall.epoch_seconds():
            raise NotFoundError()
        return str(payload["account_id"]), str(payload["attachment_id"])
