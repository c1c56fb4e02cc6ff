"""Column types shared by every domain: UTC timestamps and enums stored as checked strings."""
from datetime import datetime, timezone
from enum import Enum

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC on every database and returned timezone-aware.

    SQLite keeps no zone, PostgreSQL would convert on its own: storing naive UTC everywhere
    makes values, comparisons and audit hashes identical on both.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs a timezone-aware datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def enum_type(enum_cls: type[Enum], name: str) -> sa.Enum:
    """A state or kind stored as its string value with a CHECK constraint (never a free string)."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls) + 8,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )
