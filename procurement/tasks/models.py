"""Grid cases (网格事件). The task list, registers and progress records join them here."""
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procurement.core.calendar import now_utc
from procurement.core.types import UTCDateTime, enum_type
from procurement.extensions import db
from procurement.tasks.states import CaseCategory, CaseState, TeamRole, Urgency


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
