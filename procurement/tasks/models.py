"""Grid work: the service task list with its targets, the registers the targets count
against (households, enterprises and shops per grid), the progress records, grid cases
(网格事件) and the team."""
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procurement.core.calendar import now_utc
from procurement.core.types import UTCDateTime, enum_type
from procurement.extensions import db
from procurement.tasks.states import (CaseCategory, CaseState, Frequency, Measure, Population,
                                      PremisesKind, RecordKind, RecordStatus, TaskKind,
                                      TeamRole, Urgency)


class GridCase(db.Model):
    __tablename__ = "grid_cases"
    __table_args__ = (
        sa.CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="rating_1_to_5"),
        sa.CheckConstraint("closed_by_id IS NULL OR closed_by_id <> handler_id",
                           name="closed_by_someone_else"),
        sa.Index("ix_grid_cases_community_state", "community_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(30), unique=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    grid_id: Mapped[int] = mapped_column(sa.ForeignKey("grids.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    category: Mapped[CaseCategory] = mapped_column(enum_type(CaseCategory, "case_category"))
    urgency: Mapped[Urgency] = mapped_column(enum_type(Urgency, "case_urgency"))
    state: Mapped[CaseState] = mapped_column(enum_type(CaseState, "case_state"),
                                             default=CaseState.REPORTED)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    location: Mapped[str | None] = mapped_column(sa.String(200))
    reporter_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    department: Mapped[str | None] = mapped_column(sa.String(100))  # when escalated
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handler_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(sa.Text)
    fed_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feedback: Mapped[str | None] = mapped_column(sa.Text)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None]
    rating_comment: Mapped[str | None] = mapped_column(sa.String(500))
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    community = relationship("Community")
    grid = relationship("Grid")
    agency = relationship("Organisation")
    reporter = relationship("User", foreign_keys=[reporter_id])
    verified_by = relationship("User", foreign_keys=[verified_by_id])
    handler = relationship("User", foreign_keys=[handler_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class TeamMember(db.Model):
    """A member of the agency's team in one community for one annual agreement (DOMAIN.md
    5). Leaving is recorded with a date and reason, never deleted."""

    __tablename__ = "team_members"
    __table_args__ = (
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
        sa.Index("ix_team_members_agreement_community", "agreement_id", "community_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id"))
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    grid_id: Mapped[int | None] = mapped_column(sa.ForeignKey("grids.id"))
    role: Mapped[TeamRole] = mapped_column(enum_type(TeamRole, "team_role"))
    name: Mapped[str] = mapped_column(sa.String(40))
    phone: Mapped[str | None] = mapped_column(sa.String(30))
    qualification: Mapped[str | None] = mapped_column(sa.String(100))  # e.g. 社会工作师
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    end_reason: Mapped[str | None] = mapped_column(sa.String(500))

    agreement = relationship("Agreement")
    community = relationship("Community")
    grid = relationship("Grid")
    user = relationship("User")

    def __str__(self) -> str:
        return f"{self.name}（{self.role.label}）"

    def active_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or self.end_date >= day)


class ServiceTask(db.Model):
    """One line of an annual agreement's service list (服务清单) for one community, with its
    measurable target: `measure` says how completion is computed from the records,
    `frequency` the period the target repeats over, `quantity` how many per period (COUNT)
    or the percentage (RAMP per week, SHARE of the period's items)."""

    __tablename__ = "service_tasks"
    __table_args__ = (
        sa.UniqueConstraint("agreement_id", "community_id", "kind"),
        sa.CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("within_months IS NULL OR within_months BETWEEN 1 AND 12",
                           name="within_months_1_to_12"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id"), index=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    sub_contract_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sub_contracts.id"))
    kind: Mapped[TaskKind] = mapped_column(enum_type(TaskKind, "task_kind"))
    title: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    measure: Mapped[Measure] = mapped_column(enum_type(Measure, "task_measure"))
    frequency: Mapped[Frequency] = mapped_column(enum_type(Frequency, "task_frequency"))
    population: Mapped[Population | None] = mapped_column(enum_type(Population, "task_population"))
    quantity: Mapped[int | None]
    within_months: Mapped[int | None]  # Frequency.WITHIN: the first N months
    per_grid: Mapped[bool] = mapped_column(default=False)  # COUNT targets: per grid
    position: Mapped[int] = mapped_column(default=0)

    agreement = relationship("Agreement")
    community = relationship("Community")
    sub_contract = relationship("SubContract")

    def __str__(self) -> str:
        return self.title


class Household(db.Model):
    """A household in a grid's register (住户台账); any vulnerable flag makes it a household
    visited monthly. Removed households stay, inactive."""

    __tablename__ = "households"
    __table_args__ = (sa.UniqueConstraint("community_id", "address"),
                      sa.CheckConstraint("members >= 0", name="members_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    grid_id: Mapped[int] = mapped_column(sa.ForeignKey("grids.id"), index=True)
    building: Mapped[str] = mapped_column(sa.String(60))  # 楼栋 / 门牌
    address: Mapped[str] = mapped_column(sa.String(120))  # the building and the room
    head_name: Mapped[str] = mapped_column(sa.String(40))
    phone: Mapped[str | None] = mapped_column(sa.String(30))
    members: Mapped[int] = mapped_column(default=1)
    elderly_alone: Mapped[bool] = mapped_column(default=False)  # 独居老人
    needy: Mapped[bool] = mapped_column(default=False)          # 困难家庭
    migrant: Mapped[bool] = mapped_column(default=False)        # 流动人口
    correction: Mapped[bool] = mapped_column(default=False)     # 社区矫正
    disabled: Mapped[bool] = mapped_column(default=False)       # 残疾人
    notes: Mapped[str | None] = mapped_column(sa.String(500))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    community = relationship("Community")
    grid = relationship("Grid")

    VULNERABLE_FLAGS = ("elderly_alone", "needy", "migrant", "correction", "disabled")

    @property
    def vulnerable(self) -> bool:
        return any(getattr(self, flag) for flag in self.VULNERABLE_FLAGS)

    @classmethod
    def vulnerable_clause(cls):
        return sa.or_(*(getattr(cls, flag) for flag in cls.VULNERABLE_FLAGS))

    def __str__(self) -> str:
        return f"{self.address} {self.head_name}"


class Premises(db.Model):
    """An enterprise or a shop in a grid, inspected for safety (monthly / quarterly)."""

    __tablename__ = "premises"
    __table_args__ = (sa.UniqueConstraint("community_id", "kind", "name", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    grid_id: Mapped[int] = mapped_column(sa.ForeignKey("grids.id"), index=True)
    kind: Mapped[PremisesKind] = mapped_column(enum_type(PremisesKind, "premises_kind"))
    name: Mapped[str] = mapped_column(sa.String(100))
    address: Mapped[str] = mapped_column(sa.String(120))
    credit_code: Mapped[str | None] = mapped_column(sa.String(18))
    business: Mapped[str | None] = mapped_column(sa.String(60))  # 行业 / 经营范围
    contact: Mapped[str | None] = mapped_column(sa.String(40))
    phone: Mapped[str | None] = mapped_column(sa.String(30))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    community = relationship("Community")
    grid = relationship("Grid")

    def __str__(self) -> str:
        return self.name


class WorkRecord(db.Model):
    """A piece of work done on a day (工作记录): a visit, an inspection with its findings,
    an information update, an activity with its participants, a meeting with its minutes...
    Never deleted: a correction is a new record that `replaces` the old one (which becomes
    CORRECTED); a mistaken one is WITHDRAWN with the reason. Only CURRENT records count."""

    __tablename__ = "work_records"
    __table_args__ = (
        sa.CheckConstraint("participants IS NULL OR participants >= 0",
                           name="participants_not_negative"),
        sa.Index("ix_work_records_agreement_kind_day", "agreement_id", "kind", "day"),
        sa.Index("ix_work_records_community_day", "community_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id"))
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    grid_id: Mapped[int | None] = mapped_column(sa.ForeignKey("grids.id"))
    kind: Mapped[RecordKind] = mapped_column(enum_type(RecordKind, "record_kind"))
    day: Mapped[date]
    household_id: Mapped[int | None] = mapped_column(sa.ForeignKey("households.id"), index=True)
    premises_id: Mapped[int | None] = mapped_column(sa.ForeignKey("premises.id"), index=True)
    title: Mapped[str | None] = mapped_column(sa.String(200))
    participants: Mapped[int | None]
    hazards: Mapped[int | None]  # inspections: hazards found
    findings: Mapped[str | None] = mapped_column(sa.Text)
    minutes: Mapped[str | None] = mapped_column(sa.Text)
    resolved: Mapped[bool | None]  # window services and home handling: 办结
    notes: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[RecordStatus] = mapped_column(enum_type(RecordStatus, "record_status"),
                                                 default=RecordStatus.CURRENT)
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("work_records.id"),
                                                    unique=True)
    change_reason: Mapped[str | None] = mapped_column(sa.String(500))  # why this corrects
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdraw_reason: Mapped[str | None] = mapped_column(sa.String(500))

    agreement = relationship("Agreement")
    community = relationship("Community")
    grid = relationship("Grid")
    household = relationship("Household")
    premises = relationship("Premises")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    withdrawn_by = relationship("User", foreign_keys=[withdrawn_by_id])
    replaces = relationship("WorkRecord", remote_side=[id])

    def __str__(self) -> str:
        return f"{self.kind.label} {self.day:%Y-%m-%d}"
