"""S3: documents (invoice PDFs, exports) and attachments, read through short-lived presigned URLs."""

from __future__ import annotations

from typing import Any

from balcao.domain.email import Attachment

DOWNLOAD_SECONDS = 300


def invoice_pdf_key(account_id: str, invoice_id: str) -> str:
    return f"invoices/{account_id}/{invoice_id}.pdf"


class S3Documents:
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

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self._bucket, Key=key, Body=body, ContentType=content_type, ServerSideEncryption="AES256"
        )

    def get(self, key: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self._bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None
        body: bytes = response["Body"].read()
        return body

    def download_url(self, key: str, filename: str, content_type: str, seconds: int = DOWNLOAD_SECONDS) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
                "ResponseContentType": content_type,
            },
            ExpiresIn=min(seconds, DOWNLOAD_SECONDS * 12 * 24),
        )
        return url

    def invoice_pdf(self, account_id: str, invoice_id: str) -> Attachment | None:
        """The stored PDF of an invoice, as an email attachment (None until it was rendered)."""
        body = self.get(invoice_pdf_key(account_id, invoice_id))
        if body is None:
            return None
        return Attachment(filename=f"{invoice_id}.pdf", content_type="application/pdf", content=body)
