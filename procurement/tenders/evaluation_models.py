"""The evaluation committee, its rounds and the judges' scores."""
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procurement.core.calendar import now_utc
from procurement.core.types import UTCDateTime, enum_type
from procurement.extensions import db
from procurement.tenders.states import CorrectionReason, MemberState, RoundState, SheetState

SCORE = sa.Numeric(7, 2)


class CommitteeMember(db.Model):
    """A judge on a tender's committee. Experts come from universities or the government
    expert pool; a judge from the street office is the purchaser's representative."""

    __tablename__ = "committee_members"
    __table_args__ = (sa.UniqueConstraint("tender_id", "judge_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(sa.ForeignKey("tenders.id"), index=True)
    judge_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    is_expert: Mapped[bool]
    is_chair: Mapped[bool] = mapped_column(default=False)
    state: Mapped[MemberState] = mapped_column(enum_type(MemberState, "member_state"),
                                               default=MemberState.ACTIVE)
    appointed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replace_reason: Mapped[str | None] = mapped_column(sa.String(500))
    replaced_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("committee_members.id"))

    tender = relationship("Tender")
    judge = relationship("User", lazy="joined")
    declarations: Mapped[list["Declaration"]] = relationship(back_populates="member")

    @property
    def active(self) -> bool:
        return self.state is MemberState.ACTIVE

    @property
    def role_label(self) -> str:
        return "评审专家" if self.is_expert else "采购人代表"


class Declaration(db.Model):
    """A judge's statement about a tie to one bidder (回避声明, 实施条例 9)."""

    __tablename__ = "committee_declarations"
    __table_args__ = (sa.UniqueConstraint("member_id", "bid_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("committee_members.id"))
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bids.id"))
    has_tie: Mapped[bool]
    tie_description: Mapped[str | None] = mapped_column(sa.String(500))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    member: Mapped[CommitteeMember] = relationship(back_populates="declarations")
    bid = relationship("Bid")


class EvaluationRound(db.Model):
    """One round of scoring (多轮评分) over the bids still in."""

    __tablename__ = "evaluation_rounds"
    __table_args__ = (sa.UniqueConstraint("tender_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(sa.ForeignKey("tenders.id"), index=True)
    number: Mapped[int]
    state: Mapped[RoundState] = mapped_column(enum_type(RoundState, "round_state"),
                                              default=RoundState.SCORING)
    shortlist: Mapped[int | None]  # how many go on to the next round, when set at closing
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    draw_seed: Mapped[str | None] = mapped_column(sa.String(64))

    tender = relationship("Tender")
    entries: Mapped[list["RoundEntry"]] = relationship(back_populates="round",
                                                       order_by="RoundEntry.id")
    sheets: Mapped[list["ScoreSheet"]] = relationship(back_populates="round")

    @property
    def label(self) -> str:
        return f"第{self.number}轮"


class RoundEntry(db.Model):
    """A bid in a round, with its computed price score and, after closing, its result."""

    __tablename__ = "round_entries"
    __table_args__ = (sa.UniqueConstraint("round_id", "bid_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluation_rounds.id"), index=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bids.id"))
    price_score: Mapped[Decimal] = mapped_column(SCORE)
    final_score: Mapped[Decimal | None] = mapped_column(SCORE)
    technical_score: Mapped[Decimal | None] = mapped_column(SCORE)
    rank: Mapped[int | None]
    tie_note: Mapped[str | None] = mapped_column(sa.String(300))

    round: Mapped[EvaluationRound] = relationship(back_populates="entries")
    bid = relationship("Bid", lazy="joined")


class ScoreSheet(db.Model):
    """One judge's scores for one bid in one round; other judges cannot see it."""

    __tablename__ = "score_sheets"
    __table_args__ = (sa.UniqueConstraint("round_id", "member_id", "bid_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluation_rounds.id"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("committee_members.id"), index=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bids.id"))
    state: Mapped[SheetState] = mapped_column(enum_type(SheetState, "sheet_state"),
                                              default=SheetState.DRAFT)
    total: Mapped[Decimal | None] = mapped_column(SCORE)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    round: Mapped[EvaluationRound] = relationship(back_populates="sheets")
    member: Mapped[CommitteeMember] = relationship()
    bid = relationship("Bid")
    # Sheets are read by the round, never one at a time: load their scores together.
    scores: Mapped[list["Score"]] = relationship(back_populates="sheet", lazy="selectin",
                                                 cascade="all, delete-orphan")

    def score_for(self, criterion_id: int) -> "Score | None":
        return next((s for s in self.scores if s.criterion_id == criterion_id), None)


class Score(db.Model):
    __tablename__ = "scores"
    __table_args__ = (sa.UniqueConstraint("sheet_id", "criterion_id"),
                      sa.CheckConstraint("value >= 0", name="value_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(sa.ForeignKey("score_sheets.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("tender_criteria.id"))
    value: Mapped[Decimal] = mapped_column(SCORE)

    sheet: Mapped[ScoreSheet] = relationship(back_populates="scores")
    criterion = relationship("Criterion", lazy="joined")


class ScoreCorrection(db.Model):
    """A change to a submitted score, only for a reason 87号令 64 allows."""

    __tablename__ = "score_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(sa.ForeignKey("score_sheets.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("tender_criteria.id"))
    old_value: Mapped[Decimal] = mapped_column(SCORE)
    new_value: Mapped[Decimal] = mapped_column(SCORE)
    reason: Mapped[CorrectionReason] = mapped_column(enum_type(CorrectionReason,
                                                               "correction_reason"))
    note: Mapped[str] = mapped_column(sa.String(500))
    corrected_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    corrected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    sheet = relationship("ScoreSheet")
    criterion = relationship("Criterion")
