"""Company settings: brand, locale, contact addresses and every capability's policy, edited by staff.

One document with a section per concern (each with defaults, so a stored document from an older release still
loads). Staff read and save the whole document, validated by ``CompanySettings``
(``balcao.services.company_settings_document``, which imports every capability's section). A request reads it
through ``CompanySettingsView``: each section is validated when first read, and a capability's section module (with
its domain modules) is imported only then, so a function imports only the sections it uses — a queue consumer that
reads the brand does not import dunning, invoicing and payment policies at its cold start.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from balcao.services.ports import SettingsStore

if TYPE_CHECKING:
    from balcao.services.dunning_settings import DunningSettings
    from balcao.services.invoice_settings import InvoiceSettings
    from balcao.services.payment_settings import PaymentSettings
    from balcao.services.service_settings import ServiceSettings

LanguageCode = Literal["pt-BR", "es", "en"]
CurrencyCode = Literal["BRL", "EUR"]
HEX_COLOUR = r"^#[0-9a-fA-F]{6}$"
LOGO_URL = r"^(https://[A-Za-z0-9.-]+(:\d+)?/[^\s\"'<>]*|/static/(theme/)?[A-Za-z0-9._-]+)$"  # https, or served here


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BrandSettings(Section):
    name: str = Field(default="Balcão Hosting", min_length=1, max_length=80)
    logo_url: str | None = Field(default=None, max_length=500, pattern=LOGO_URL)
    primary_colour: str = Field(default="#0B5CAD", pattern=HEX_COLOUR)
    accent_colour: str = Field(default="#0A7A4B", pattern=HEX_COLOUR)

    @property
    def image_origins(self) -> tuple[str, ...]:
        """The logo's origin, for the portal's Content-Security-Policy (none when it is served from here)."""
        if not self.logo_url or not self.logo_url.startswith("https://"):
            return ()
        host = self.logo_url.removeprefix("https://").split("/", 1)[0]
        return (f"https://{host}",)


class LocaleSettings(Section):
    timezone: str = Field(default="America/Sao_Paulo", max_length=64)
    default_currency: CurrencyCode = "BRL"
    default_language: LanguageCode = "pt-BR"

    @field_validator("timezone")
    @classmethod
    def known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown timezone") from None
        return value


class ContactSettings(Section):
    public_base_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(:\d+)?$")
    support_email: str = Field(default="suporte@balcao.example", pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    support_phone: str | None = Field(default=None, pattern=r"^\+[1-9]\d{6,14}$")


class RateLimit(Section):
    """A token bucket: ``capacity`` attempts, refilled evenly over ``window_seconds``."""

    capacity: int = Field(ge=1, le=100_000)
    window_seconds: int = Field(ge=1, le=86_400)


class RouteLimits(Section):
    per_ip: RateLimit
    per_email: RateLimit | None = None


class RateLimitSettings(Section):
    """App-level limits of the access routes, keyed by (route, source IP) and (route, normalised email)."""

    signup: RouteLimits = RouteLimits(
        per_ip=RateLimit(capacity=10, window_seconds=3600), per_email=RateLimit(capacity=3, window_seconds=3600)
    )
    confirm: RouteLimits = RouteLimits(
        per_ip=RateLimit(capacity=30, window_seconds=900), per_email=RateLimit(capacity=10, window_seconds=900)
    )
    login: RouteLimits = RouteLimits(
        per_ip=RateLimit(capacity=30, window_seconds=900), per_email=RateLimit(capacity=10, window_seconds=900)
    )
    mfa: RouteLimits = RouteLimits(per_ip=RateLimit(capacity=30, window_seconds=900))
    forgot: RouteLimits = RouteLimits(
        per_ip=RateLimit(capacity=10, window_seconds=3600), per_email=RateLimit(capacity=3, window_seconds=3600)
    )
    reset: RouteLimits = RouteLimits(
        per_ip=RateLimit(capacity=30, window_seconds=900), per_email=RateLimit(capacity=10, window_seconds=900)
    )


class IdentitySettings(Section):
    unconfirmed_signup_days: int = Field(default=7, ge=1, le=90)


class RetentionSettings(Section):
    """How long the email log and the audit log are kept (LGPD/GDPR); fiscal records are not affected."""

    email_log_days: int = Field(default=730, ge=30, le=3650)
    audit_log_days: int = Field(default=1825, ge=365, le=3650)
    fiscal_years: int = Field(default=5, ge=1, le=15)  # after a closure, personal data is anonymised then


# --- tickets: departments (with what each is for, in every language), auto-close, the callback department ---------
def _every_language(texts: dict[LanguageCode, str]) -> dict[LanguageCode, str]:
    if set(texts) != {"pt-BR", "es", "en"} or not all(t.strip() for t in texts.values()):
        raise ValueError("give a text in pt-BR, es and en")
    return texts


class TicketDepartment(Section):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    name: dict[LanguageCode, str]
    description: dict[LanguageCode, str]
    notification_email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

    @field_validator("name", "description")
    @classmethod
    def in_every_language(cls, texts: dict[LanguageCode, str]) -> dict[LanguageCode, str]:
        if any(len(t) > 300 for t in texts.values()):
            raise ValueError("at most 300 characters")
        return _every_language(texts)


DEFAULT_TICKET_DEPARTMENTS = (
    TicketDepartment(
        code="technical_support",
        name={"pt-BR": "Suporte Técnico", "es": "Soporte técnico", "en": "Technical Support"},
        description={
            "pt-BR": "Site fora do ar, problemas com e-mails, dificuldades com o painel de controle (cPanel/Plesk), "
            "erros de programação.",
            "es": "Web caída, problemas con el correo, dificultades con el panel de control (cPanel/Plesk), errores "
            "de programación.",
            "en": "Website down, email problems, trouble with the control panel (cPanel/Plesk), programming errors.",
        },
    ),
    TicketDepartment(
        code="billing",
        name={"pt-BR": "Financeiro", "es": "Facturación", "en": "Billing"},
        description={
            "pt-BR": "Dúvidas sobre faturas, pagamentos, cobranças, renovações e cancelamentos.",
            "es": "Dudas sobre facturas, pagos, cobros, renovaciones y bajas.",
            "en": "Questions about invoices, payments, charges, renewals and cancellations.",
        },
    ),
    TicketDepartment(
        code="sales",
        name={"pt-BR": "Vendas", "es": "Ventas", "en": "Sales"},
        description={
            "pt-BR": "Informações sobre novos serviços, upgrades de planos ou dúvidas comerciais.",
            "es": "Información sobre nuevos servicios, cambios de plan o dudas comerciales.",
            "en": "New services, plan upgrades or other commercial questions.",
        },
    ),
)


class TicketSettings(Section):
    departments: tuple[TicketDepartment, ...] = Field(default=DEFAULT_TICKET_DEPARTMENTS, min_length=1, max_length=20)
    auto_close_days: int | None = Field(default=7, ge=1, le=90)  # answered tickets close after this; None: never
    callback_department: str = "technical_support"  # where phone callback requests go

    @field_validator("departments")
    @classmethod
    def unique_codes(cls, departments: tuple[TicketDepartment, ...]) -> tuple[TicketDepartment, ...]:
        codes = [d.code for d in departments]
        if len(set(codes)) != len(codes):
            raise ValueError("department codes must be unique")
        return departments

    @field_validator("callback_department")
    @classmethod
    def known_department(cls, code: str, info: ValidationInfo) -> str:
        departments = info.data.get("departments") or ()
        if code not in {d.code for d in departments}:
            raise ValueError("not one of the departments")
        return code

    def department(self, code: str) -> TicketDepartment | None:
        return next((d for d in self.departments if d.code == code), None)


class SectionOf[SectionT: BaseModel]:
    """A section of the settings document, validated when a view first reads it (and kept on that view)."""

    def __init__(self, model: Callable[[], type[SectionT]]) -> None:
        self.model = model
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, view: CompanySettingsView, owner: type | None = None) -> SectionT:
        found = view.sections.get(self.name)
        if found is None:
            found = self.model().model_validate(view.document.get(self.name, {}))
            view.sections[self.name] = found
        return found  # type: ignore[return-value]


def _dunning() -> type[DunningSettings]:
    from balcao.services.dunning_settings import DunningSettings

    return DunningSettings


def _invoices() -> type[InvoiceSettings]:
    from balcao.services.invoice_settings import InvoiceSettings

    return InvoiceSettings


def _payments() -> type[PaymentSettings]:
    from balcao.services.payment_settings import PaymentSettings

    return PaymentSettings


def _services() -> type[ServiceSettings]:
    from balcao.services.service_settings import ServiceSettings

    return ServiceSettings


class CompanySettingsView:
    """The stored settings document as a request reads it: the same sections as ``CompanySettings``, each validated
    (with its defaults) when first read. The document was validated whole when it was saved."""

    brand = SectionOf(lambda: BrandSettings)
    locale = SectionOf(lambda: LocaleSettings)
    contact = SectionOf(lambda: ContactSettings)
    rate_limits = SectionOf(lambda: RateLimitSettings)
    identity = SectionOf(lambda: IdentitySettings)
    retention = SectionOf(lambda: RetentionSettings)
    tickets = SectionOf(lambda: TicketSettings)
    invoices = SectionOf(_invoices)
    dunning = SectionOf(_dunning)
    services = SectionOf(_services)
    payments = SectionOf(_payments)

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.sections: dict[str, BaseModel] = {}


def load_company_settings(store: SettingsStore) -> CompanySettingsView:
    document, _ = store.load()
    return CompanySettingsView(document)


def deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``patch`` over ``base``: nested objects merge, everything else (lists, scalars, null) replaces."""
    merged = dict(base)
    for key, value in patch.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged
