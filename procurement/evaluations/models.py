"""Tables of the evaluation side. Scores are Decimal (Numeric), never float."""
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procurement.contracts.states import EvaluationSource, Grade
from procurement.core.calendar import now_utc
from procurement.core.types import UTCDateTime, enum_type
from procurement.evaluations.states import PeriodKind, SheetState, SurveyState
from procurement.extensions import db

SCORE = sa.Numeric(6, 2)


class IndicatorSet(db.Model):
    """One source's indicators for an annual agreement; editable until its first sheet is
    submitted, then locked."""

    __tablename__ = "indicator_sets"
    __table_args__ = (sa.UniqueConstraint("agreement_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id"))
    source: Mapped[EvaluationSource] = mapped_column(enum_type(EvaluationSource, "indicator_source"))
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agreement = relationship("Agreement")
    indicators: Mapped[list["Indicator"]] = relationship(
        back_populates="set", order_by="Indicator.position", cascade="all, delete-orphan")

    @property
    def max_total(self) -> Decimal:
        return sum((i.max_score for i in self.indicators), Decimal(0))


class Indicator(db.Model):
    __tablename__ = "indicators"
    __table_args__ = (sa.CheckConstraint("max_score > 0", name="max_score_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(sa.ForeignKey("indicator_sets.id", ondelete="CASCADE"),
                                        index=True)
    position: Mapped[int]
    dimension: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(200))
    max_score: Mapped[Decimal] = mapped_column(SCORE)
    guidance: Mapped[str] = mapped_column(sa.Text, default="")

    set: Mapped[IndicatorSet] = relationship(back_populates="indicators")


class EvaluationPeriod(db.Model):
    """A quarter of an annual agreement, or the cooperation's mid-term or final evaluation
    (held within one annual agreement)."""

    __tablename__ = "evaluation_periods"
    __table_args__ = (sa.UniqueConstraint("agreement_id", "kind", "number"),
                      sa.CheckConstraint("end_date >= start_date", name="end_after_start"))

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id"), index=True)
    kind: Mapped[PeriodKind] = mapped_column(enum_type(PeriodKind, "period_kind"))
    number: Mapped[int]  # the quarter 1..4; 1 for the mid-term and final evaluations
    start_date: Mapped[date]
    end_date: Mapped[date]
    self_due: Mapped[date]  # the agency's self-assessment is due by this day

    agreement = relationship("Agreement")

    @property
    def label(self) -> str:
        if self.kind is PeriodKind.QUARTER:
            return f"第{'一二三四'[self.number - 1]}季度"
        return self.kind.label


class EvaluationSheet(db.Model):
    """One source's evaluation of one community for one period."""

    __tablename__ = "evaluation_sheets"
    __table_args__ = (sa.UniqueConstraint("period_id", "community_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluation_periods.id"), index=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    source: Mapped[EvaluationSource] = mapped_column(enum_type(EvaluationSource, "sheet_source"))
    state: Mapped[SheetState] = mapped_column(enum_type(SheetState, "sheet_state"),
                                              default=SheetState.DRAFT)
    total: Mapped[Decimal | None] = mapped_column(SCORE)  # normalised to 100 when submitted
    narrative: Mapped[str] = mapped_column(sa.Text, default="")  # report / comments
    opinions: Mapped[str] = mapped_column(sa.Text, default="")   # residents' opinions collected
    completion: Mapped[dict | None] = mapped_column(sa.JSON)    # the self-assessment's evidence
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(default=False)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_comment: Mapped[str | None] = mapped_column(sa.Text)
    returns: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    period: Mapped[EvaluationPeriod] = relationship()
    community = relationship("Community")
    author = relationship("User", foreign_keys=[author_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    scores: Mapped[list["EvaluationScore"]] = relationship(back_populates="sheet",
                                                      cascade="all, delete-orphan")
    files: Mapped[list["EvaluationFile"]] = relationship(cascade="all, delete-orphan")


class EvaluationScore(db.Model):
    __tablename__ = "evaluation_scores"
    __table_args__ = (sa.UniqueConstraint("sheet_id", "indicator_id"),
                      sa.CheckConstraint("score >= 0", name="score_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluation_sheets.id", ondelete="CASCADE"))
    indicator_id: Mapped[int] = mapped_column(sa.ForeignKey("indicators.id"))
    score: Mapped[Decimal] = mapped_column(SCORE)
    note: Mapped[str | None] = mapped_column(sa.String(500))

    sheet: Mapped[EvaluationSheet] = relationship(back_populates="scores")
    indicator = relationship("Indicator")


class EvaluationFile(db.Model):
    """Evidence attached to a sheet (photos, sign-in sheets, reports)."""

    __tablename__ = "evaluation_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluation_sheets.id", ondelete="CASCADE"),
                                          index=True)
    file_id: Mapped[int] = mapped_column(sa.ForeignKey("stored_files.id"))

    file = relationship("StoredFile")


class Survey(db.Model):
    """The residents' satisfaction survey of one community for one period: so many one-time
    tokens (printed as QR codes), open until a date."""

    __tablename__ = "surveys"
    __table_args__ = (sa.UniqueConstraint("period_id", "community_id"),
                      sa.CheckConstraint("size > 0", name="size_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluation_periods.id"))
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    size: Mapped[int]
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[SurveyState] = mapped_column(enum_type(SurveyState, "survey_state"),
                                               default=SurveyState.OPEN)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    period = relationship("EvaluationPeriod")
    community = relationship("Community")


class SurveyToken(db.Model):
    """A one-time token. It records only that it was used: no time, and nothing that leads
    to the answer given with it."""

    __tablename__ = "survey_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(sa.ForeignKey("surveys.id"), index=True)
    token: Mapped[str] = mapped_column(sa.String(32), unique=True)
    used: Mapped[bool] = mapped_column(default=False)


class SurveyResponse(db.Model):
    """An anonymous answer: the survey it belongs to and the answers, nothing else."""

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(sa.ForeignKey("surveys.id"), index=True)
    answers: Mapped[dict] = mapped_column(sa.JSON)  # {question key: 1..5}
    score: Mapped[Decimal] = mapped_column(SCORE)    # the answers on a 100-point scale
    comment: Mapped[str | None] = mapped_column(sa.Text)


class PeriodResult(db.Model):
    """A community's finalised composite for a period: locks its scores and gives the grade
    that drives the quarter's payment and, over the year, the renewal."""

    __tablename__ = "period_results"
    __table_args__ = (sa.UniqueConstraint("period_id", "community_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluation_periods.id"), index=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    composite: Mapped[Decimal] = mapped_column(SCORE)
    grade: Mapped[Grade] = mapped_column(enum_type(Grade, "result_grade"))
    # [{"source": ..., "weight": "0.30", "score": "86.50", "weighted": "25.95"}]
    breakdown: Mapped[list] = mapped_column(sa.JSON)
    reweight_reason: Mapped[str | None] = mapped_column(sa.Text)
    finalised_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    finalised_at: Mapped[datetime] = mapped_column(UTCDateTime)

    period = relationship("EvaluationPeriod")
    community = relationship("Community")
    finalised_by = relationship("User")
