"""PynamoDB models of the single table. Keys come from ``keys.py``; repositories map items ⇄ domain objects.

Every item has ``pk``/``sk``, an ``entity`` discriminator (never a key: PynamoDB forbids it), optional index keys
(GSI1–3) and an optional ``ttl`` (epoch seconds). The table's name is read from the typed settings when a model
first talks to DynamoDB, not at import.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    DiscriminatorAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from balcao.runtime.settings import load_settings


class _TableName:
    """Resolves ``Meta.table_name`` lazily from the environment's typed settings."""

    def __get__(self, instance: object, owner: type) -> str:
        return load_settings().table_name


class Gsi1(GlobalSecondaryIndex["BalcaoItem"]):
    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex["BalcaoItem"]):
    class Meta:
        index_name = "GSI2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class Gsi3(GlobalSecondaryIndex["BalcaoItem"]):
    class Meta:
        index_name = "GSI3"
        projection = AllProjection()

    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class BalcaoItem(Model):
    class Meta:
        table_name = _TableName()
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    entity = DiscriminatorAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    ttl = NumberAttribute(null=True)

    by_gsi1 = Gsi1()
    by_gsi2 = Gsi2()
    by_gsi3 = Gsi3()


class SettingsItem(BalcaoItem, discriminator="Settings"):
    """The company settings document (one item)."""

    document = JSONAttribute(default=dict)
    version = VersionAttribute()


class AuditItem(BalcaoItem, discriminator="Audit"):
    """One audit entry under ``ACCOUNT#{id}`` or ``USERAUDIT#{user}``; retention by ``ttl``."""

    audit_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    actor_user_id = UnicodeAttribute(null=True)
    actor_email = UnicodeAttribute(null=True)
    account_id = UnicodeAttribute(null=True)
    action = UnicodeAttribute()
    target = JSONAttribute(default=dict)
    source_ip = UnicodeAttribute(null=True)
    request_id = UnicodeAttribute(null=True)
    staff = NumberAttribute(default=0)


def every_model() -> list[type[BalcaoItem]]:
    """Every concrete model (for tests that round-trip each one against the table made from template.yaml)."""

    def walk(cls: type[Any]) -> list[type[BalcaoItem]]:
        found: list[type[BalcaoItem]] = []
        for sub in cls.__subclasses__():
            found.append(sub)
            found.extend(walk(sub))
        return found

    return walk(BalcaoItem)
