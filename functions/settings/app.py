"""Company settings for staff: GET/PATCH /api/staff/settings (brand, locale, contacts and every policy)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.adapters.clock import app_clock
from balcao.adapters.dynamodb.audit import DynamoAuditLog
from balcao.adapters.dynamodb.settings import DynamoSettingsStore
from balcao.domain.principal import StaffRole
from balcao.runtime import access
from balcao.runtime.audit import RequestAuditor
from balcao.runtime.http import rest_resolver
from balcao.runtime.observability import logger, tracer
from balcao.services.company_settings_document import CompanySettings, load_company_document, update_company_settings

app = rest_resolver(audit=RequestAuditor(DynamoAuditLog(), app_clock()))
store = DynamoSettingsStore()


@app.get("/api/staff/settings", **access.staff(StaffRole.SUPPORT, StaffRole.FINANCE))
def get_settings() -> CompanySettings:
    return load_company_document(store)


@app.patch("/api/staff/settings", **access.staff())
def patch_settings(patch: Annotated[dict[str, Any], Body(embed=False)]) -> CompanySettings:
    return update_company_settings(store, patch)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
