"""Invoice and credit-note PDFs in the documents bucket (SSE), at ``invoice_pdf_key`` — where the notifications
consumer finds the attachment of "invoice created" — each tagged with the invoice version it shows."""

from __future__ import annotations

from botocore.exceptions import ClientError

from balcao.adapters.s3 import DOWNLOAD_SECONDS, S3Documents, invoice_pdf_key

PDF = "application/pdf"
REVISION_METADATA = "revision"


class S3InvoicePdfs:
    def __init__(self, documents: S3Documents, bucket: str) -> None:
        self._documents = documents
        self._bucket = bucket

    def revision(self, account_id: str, document_id: str) -> int | None:
        try:
            head = self._documents.client.head_object(Bucket=self._bucket, Key=invoice_pdf_key(account_id, document_id))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        value = (head.get("Metadata") or {}).get(REVISION_METADATA)
        return int(value) if value and value.isdigit() else None

    def put(self, account_id: str, document_id: str, pdf: bytes, revision: int) -> None:
        self._documents.client.put_object(
            Bucket=self._bucket,
            Key=invoice_pdf_key(account_id, document_id),
            Body=pdf,
            ContentType=PDF,
            ServerSideEncryption="AES256",
            Metadata={REVISION_METADATA: str(revision)},
        )

    def download_url(self, account_id: str, document_id: str, filename: str) -> str:
        return self._documents.download_url(invoice_pdf_key(account_id, document_id), filename, PDF, DOWNLOAD_SECONDS)
