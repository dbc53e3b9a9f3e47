"""Demo catalog and services (a step of ``devstack.seed``): shared hosting (basic and professional, on cPanel),
cPanel reseller, a VPS and an SSL certificate, in reais and euros, with the standard and premium support levels.

Services in every status: on Ana's Brazilian account an active plan (due in 20 days: a plan change has days to
prorate, and no seeded service is inside the renewal run's 14-day window), one suspended for an overdue invoice, one
cancelled and one terminated; on her Spanish account an active plan in euros; on Bruno's an active plan with premium
support and one pending (ordered, its invoice unpaid; on his account because Ana's credit would pay it). Active and
suspended ones exist on the simulated panel (single sign-on works). Written through the services' store without
events (no emails).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devstack.seed import SeedContext


def _names(pt: str, es: str, en: str) -> dict[str, str]:
    return {"pt-BR": pt, "es": es, "en": en}


def demo_products() -> list[object]:
    from balcao.domain.catalog import Price, Product, ProductType, ProvisioningModule, SupportLevel
    from balcao.domain.cycles import BillingCycle
    from balcao.domain.money import Money

    def prices(*rows: tuple[str, int, int, str]) -> tuple[Price, ...]:
        return tuple(
            Price(BillingCycle(cycle), Money.of(price, currency), Money.of(fee, currency))
            for cycle, price, fee, currency in rows
        )

    support = (
        SupportLevel(
            "standard",
            _names("Padrão (tickets em até 24 h)", "Estándar (tickets en 24 h)", "Standard (tickets within 24 h)"),
            prices(
                ("monthly", 0, 0, "BRL"), ("annual", 0, 0, "BRL"), ("monthly", 0, 0, "EUR"), ("annual", 0, 0, "EUR")
            ),
        ),
        SupportLevel(
            "premium",
            _names("Premium (telefone e 2 h)", "Premium (teléfono y 2 h)", "Premium (phone and 2 h)"),
            prices(
                ("monthly", 1990, 0, "BRL"),
                ("annual", 19900, 0, "BRL"),
                ("monthly", 590, 0, "EUR"),
                ("annual", 5900, 0, "EUR"),
            ),
        ),
    )
    return [
        Product(
            product_id="",
            name=_names("Hospedagem Básica", "Alojamiento Básico", "Basic Hosting"),
            description=_names(
                "1 site, 10 GB, e-mails ilimitados", "1 web, 10 GB, correo ilimitado", "1 site, 10 GB, unlimited email"
            ),
            prices=prices(
                ("monthly", 2990, 0, "BRL"),
                ("annual", 29900, 0, "BRL"),
                ("monthly", 690, 0, "EUR"),
                ("annual", 6900, 0, "EUR"),
            ),
            package="balcao_basic",
            position=0,
            product_type=ProductType.SHARED_HOSTING,
            support_levels=support,
            module=ProvisioningModule.CPANEL,
        ),
        Product(
            product_id="",
            name=_names("Hospedagem Profissional", "Alojamiento Profesional", "Professional Hosting"),
            description=_names(
                "Sites ilimitados, 50 GB, SSL grátis",
                "Webs ilimitadas, 50 GB, SSL gratis",
                "Unlimited sites, 50 GB, free SSL",
            ),
            prices=prices(
                ("monthly", 4990, 0, "BRL"),
                ("annual", 49900, 0, "BRL"),
                ("monthly", 1290, 0, "EUR"),
                ("annual", 12900, 0, "EUR"),
            ),
            package="balcao_pro",
            position=1,
            product_type=ProductType.SHARED_HOSTING,
            support_levels=support,
            module=ProvisioningModule.CPANEL,
        ),
        Product(
            product_id="",
            name=_names("Revenda cPanel", "Reseller cPanel", "cPanel Reseller"),
            description=_names("30 contas cPanel, WHM", "30 cuentas cPanel, WHM", "30 cPanel accounts, WHM"),
            product_type=ProductType.RESELLER,
            prices=prices(("monthly", 14990, 5000, "BRL"), ("monthly", 3990, 1500, "EUR")),
            support_levels=support,
            module=ProvisioningModule.CPANEL,
            package="balcao_reseller",
            position=2,
        ),
        Product(
            product_id="",
            name=_names("Servidor VPS", "Servidor VPS", "VPS server"),
            description=_names("4 vCPU, 8 GB RAM", "4 vCPU, 8 GB RAM", "4 vCPU, 8 GB RAM"),
            product_type=ProductType.VPS,
            prices=prices(("monthly", 19990, 0, "BRL"), ("monthly", 4990, 0, "EUR")),
            module=ProvisioningModule.NONE,
            stock=20,
            position=3,
        ),
        Product(
            product_id="",
            name=_names("Certificado SSL", "Certificado SSL", "SSL certificate"),
            product_type=ProductType.SSL,
            prices=prices(("annual", 8990, 0, "BRL"), ("annual", 2490, 0, "EUR")),
            module=ProvisioningModule.NONE,
            tax_category="ssl",
            position=4,
        ),
    ]


def seed_services(context: SeedContext) -> None:
    from dataclasses import replace

    from balcao.adapters.provisioning.simulated import SimulatedProvisioner
    from balcao.domain.cycles import BillingCycle, period_start
    from balcao.domain.ids import new_ulid
    from balcao.domain.money import Money
    from balcao.domain.provisioning import ProvisioningRequest
    from balcao.domain.service_lifecycle import ServiceReason, ServiceStatus, StatusChange
    from balcao.domain.services import LiveSnapshot, PaidPeriod, Service
    from balcao.runtime import services_composition
    from balcao.services.services import DomainClaim, OrderLineInput, ServiceChange, ServiceWrite, panel_username

    catalog = services_composition.catalog()
    products = [catalog.create(p) for p in demo_products()]  # type: ignore[arg-type]
    basic, pro = products[0], products[1]
    store = services_composition.service_store()
    panel = SimulatedProvisioner(latency_seconds=0, sso_base_url=context.environment.get("PUBLIC_BASE_URL", ""))
    use_cases = services_composition.services()
    use_cases.invoices.announce = False
    now = use_cases.clock.now()
    today = use_cases.today()
    ana_br, ana_es = context.account_ids["ana@example.com"]
    (bruno,) = context.account_ids["bruno@example.com"]
    seeded: dict[str, list[str]] = {}

    def service(
        account_id: str,
        product: object,
        domain: str,
        currency: str,
        status: ServiceStatus,
        *,
        due_in_days: int = 20,
        reason: ServiceReason | None = None,
        support: str = "standard",
        language: str = "pt-BR",
    ) -> Service:
        from balcao.domain.catalog import Product

        assert isinstance(product, Product)
        cycle = BillingCycle.MONTHLY
        price = product.price_for(cycle, Money.zero(currency).currency).price
        level, support_price = product.support_for(support, cycle, price.currency)
        due = today + timedelta(days=due_in_days)
        start = period_start(due, cycle)
        service_id = new_ulid()
        history = [
            StatusChange(ServiceStatus.PENDING, None, "seed", now),
            StatusChange(ServiceStatus.ACTIVE, None, "seed", now),
        ]
        if status is not ServiceStatus.ACTIVE:
            history.append(StatusChange(status, reason, "seed", now))
        created = Service(
            service_id=service_id,
            account_id=account_id,
            name=product.name_in(language),
            status=status,
            created_at=now,
            domain=domain,
            product_id=product.product_id,
            product_type=product.product_type.value,
            reason=reason,
            cycle=cycle,
            plan_price=price,
            support_level=level.code if level else None,
            support_name=level.name.get(language) if level else None,
            support_price=support_price,
            tax_category=product.tax_category,
            next_due_date=due,
            anchor_day=due.day,
            module=product.module.value,
            package=product.package,
            username=panel_username(domain, service_id),
            history=tuple(history),
            paid_periods=(PaidPeriod(start, due, price + support_price),),
        )
        if status in (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED):
            assert created.username is not None
            account = panel.create(
                ProvisioningRequest(
                    created.username, domain, product.package or "default", "demo@example.com", "Demo-panel-2026!"
                )
            )
            if status is ServiceStatus.SUSPENDED:
                panel.suspend(account.username, reason.value if reason else "suspended")
            created = replace(
                created,
                server=account.server,
                ip=account.ip,
                live=LiveSnapshot(status.value, now, 120, 10240, 300),
            )
        change = ServiceChange(services=[ServiceWrite(created, None)])
        if status in (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED):
            change.claims.append(DomainClaim(domain, account_id, service_id))
        store.commit(change)
        seeded.setdefault(account_id, []).append(f"{domain} {status.value}")
        return created

    service(ana_br, basic, "anasouza.com.br", "BRL", ServiceStatus.ACTIVE)
    service(
        ana_br,
        basic,
        "loja.anasouza.com.br",
        "BRL",
        ServiceStatus.SUSPENDED,
        due_in_days=-9,
        reason=ServiceReason.OVERDUE,
    )
    service(
        ana_br, pro, "antigo.anasouza.com.br", "BRL", ServiceStatus.CANCELLED, reason=ServiceReason.CUSTOMER_REQUEST
    )
    service(ana_br, basic, "teste.anasouza.com.br", "BRL", ServiceStatus.TERMINATED, reason=ServiceReason.OVERDUE)
    service(ana_es, basic, "estudiosouza.es", "EUR", ServiceStatus.ACTIVE, due_in_days=24, language="es")
    service(bruno, pro, "brunolima.dev", "BRL", ServiceStatus.ACTIVE, due_in_days=26, support="premium")
    pending = use_cases.place_order(
        bruno, [OrderLineInput(basic.product_id, BillingCycle.MONTHLY, "blog.brunolima.dev")], "seed"
    )
    seeded[bruno].append(f"blog.brunolima.dev pending (invoice {pending.invoice.number})")
    context.facts["services"] = seeded
