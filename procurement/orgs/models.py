from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procurement.core.calendar import now_utc
from procurement.core.types import UTCDateTime, enum_type
from procurement.extensions import db


class OrgKind(StrEnum):
    STREET_OFFICE = "street_office"
    RESIDENTS_COMMITTEE = "residents_committee"
    UNIVERSITY = "university"
    AGENCY = "agency"
    GOVERNMENT = "government"

    @property
    def label(self) -> str:
        return str(ORG_KIND_LABELS[self])


ORG_KIND_LABELS = {
    OrgKind.STREET_OFFICE: _l("街道办事处"),
    OrgKind.RESIDENTS_COMMITTEE: _l("社区居民委员会"),
    OrgKind.UNIVERSITY: _l("高校"),
    OrgKind.AGENCY: _l("社工机构"),
    OrgKind.GOVERNMENT: _l("政府部门"),
}


class Organisation(db.Model):
    """Any body a user can belong to. A residents' committee is tied to its community."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrgKind] = mapped_column(enum_type(OrgKind, "org_kind"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    short_name: Mapped[str | None] = mapped_column(sa.String(40))
    # 统一社会信用代码 (18 characters), optional because demo bodies may lack one.
    credit_code: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    region: Mapped[str | None] = mapped_column(sa.String(40))
    address: Mapped[str | None] = mapped_column(sa.String(200))
    contact_person: Mapped[str | None] = mapped_column(sa.String(40))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(30))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    # Set for a residents' committee only: the community it serves.
    community: Mapped["Community | None"] = relationship(
        back_populates="committee", foreign_keys="Community.committee_id", uselist=False
    )

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name


class Community(db.Model):
    """A community (社区) of a street office, with one residents' committee and its grids."""

    __tablename__ = "communities"
    __table_args__ = (
        sa.UniqueConstraint("street_office_id", "name"),
        sa.CheckConstraint("households >= 0", name="households_not_negative"),
        sa.CheckConstraint("population >= 0", name="population_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    street_office_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    committee_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), unique=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    households: Mapped[int] = mapped_column(default=0, server_default="0")
    population: Mapped[int] = mapped_column(default=0, server_default="0")
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    street_office: Mapped[Organisation] = relationship(foreign_keys=[street_office_id])
    committee: Mapped[Organisation] = relationship(
        back_populates="community", foreign_keys=[committee_id]
    )
    grids: Mapped[list["Grid"]] = relationship(
        back_populates="community", order_by="Grid.number", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name


class Grid(db.Model):
    """A grid (网格) of a community, numbered from 1."""

    __tablename__ = "grids"
    __table_args__ = (
        sa.UniqueConstraint("community_id", "number"),
        sa.CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"), index=True)
    number: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(60))

    community: Mapped[Community] = relationship(back_populates="grids")

    def __str__(self) -> str:
        return f"{self.community.name}{self.name}"
