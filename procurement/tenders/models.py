"""A tender and what the purchaser and the bidders put into it.

Committee, rounds and scores are in `evaluation_models.py`.
"""
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procurement.core.calendar import now_utc
from procurement.core.types import UTCDateTime, enum_type
from procurement.extensions import db
from procurement.tenders.states import (BidState, ChallengeState, CriterionKind, DocumentKind,
                                        LowPriceDecision, ScoreCombination, TenderMethod,
                                        TenderState, TieBreak)

tender_communities = sa.Table(
    "tender_communities", db.metadata,
    sa.Column("tender_id", sa.ForeignKey("tenders.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("community_id", sa.ForeignKey("communities.id"), primary_key=True),
)


class Tender(db.Model):
    __tablename__ = "tenders"
    __table_args__ = (
        sa.CheckConstraint("budget_fen > 0", name="budget_positive"),
        sa.CheckConstraint("ceiling_fen IS NULL OR (ceiling_fen > 0 AND ceiling_fen <= budget_fen)",
                           name="ceiling_within_budget"),
        sa.CheckConstraint("deposit_fen >= 0 AND deposit_fen * 50 <= budget_fen",
                           name="deposit_at_most_2_percent"),
        sa.CheckConstraint("opening_time >= bid_deadline", name="opening_not_before_deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    street_office_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    method: Mapped[TenderMethod] = mapped_column(enum_type(TenderMethod, "tender_method"))
    state: Mapped[TenderState] = mapped_column(enum_type(TenderState, "tender_state"),
                                               default=TenderState.DRAFT, index=True)
    budget_fen: Mapped[int] = mapped_column(sa.BigInteger)
    ceiling_fen: Mapped[int | None] = mapped_column(sa.BigInteger)
    deposit_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    documents_until: Mapped[date]
    bid_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    opening_time: Mapped[datetime] = mapped_column(UTCDateTime)
    large_impact: Mapped[bool] = mapped_column(default=False)
    tie_break: Mapped[TieBreak] = mapped_column(enum_type(TieBreak, "tie_break"),
                                                default=TieBreak.TECHNICAL)
    score_combination: Mapped[ScoreCombination] = mapped_column(
        enum_type(ScoreCombination, "score_combination"), default=ScoreCombination.MEAN)
    # A bid below this share of the other valid bids' mean price must explain itself.
    low_price_ratio: Mapped[Decimal] = mapped_column(sa.Numeric(4, 2), default=Decimal("0.80"))

    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    report_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    report_text: Mapped[str | None] = mapped_column(sa.Text)
    awarded_bid_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("bids.id", use_alter=True, name="fk_tenders_awarded_bid_id_bids"))
    pick_reason: Mapped[str | None] = mapped_column(sa.Text)
    notice_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_end: Mapped[date | None]
    challenge_until: Mapped[date | None]
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(sa.Text)  # why it failed or was cancelled

    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    street_office = relationship("Organisation")
    communities = relationship("Community", secondary=tender_communities,
                               order_by="Community.name")
    criteria: Mapped[list["Criterion"]] = relationship(
        back_populates="tender", order_by="Criterion.position", cascade="all, delete-orphan")
    invitations: Mapped[list["Invitation"]] = relationship(
        back_populates="tender", cascade="all, delete-orphan", order_by="Invitation.id")
    bids: Mapped[list["Bid"]] = relationship(
        back_populates="tender", foreign_keys="Bid.tender_id", order_by="Bid.id")
    documents: Mapped[list["TenderDocument"]] = relationship(
        back_populates="tender", order_by="TenderDocument.id")
    clarifications: Mapped[list["Clarification"]] = relationship(
        back_populates="tender", order_by="Clarification.number")
    challenges: Mapped[list["Challenge"]] = relationship(
        back_populates="tender", order_by="Challenge.id")
    awarded_bid: Mapped["Bid | None"] = relationship(foreign_keys=[awarded_bid_id],
                                                     post_update=True)
    created_by = relationship("User", foreign_keys=[created_by_id])

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def price_criterion(self) -> "Criterion | None":
        return next((c for c in self.criteria if c.kind is CriterionKind.PRICE), None)

    @property
    def submitted_bids(self) -> list["Bid"]:
        return [b for b in self.bids if b.state is BidState.SUBMITTED]

    @property
    def valid_bids(self) -> list["Bid"]:
        return [b for b in self.submitted_bids if b.valid]


class Criterion(db.Model):
    """A scoring criterion (评分因素). Scores are given out of `max_score`; the tender's total
    is Σ (score / max_score × 100) × weight, so weights summing to 1 give a total out of 100."""

    __tablename__ = "tender_criteria"
    __table_args__ = (
        sa.UniqueConstraint("tender_id", "position"),
        sa.CheckConstraint("weight > 0 AND weight <= 1", name="weight_in_range"),
        sa.CheckConstraint("max_score > 0", name="max_score_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(sa.ForeignKey("tenders.id", ondelete="CASCADE"),
                                           index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[CriterionKind] = mapped_column(enum_type(CriterionKind, "criterion_kind"))
    max_score: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2))
    weight: Mapped[Decimal] = mapped_column(sa.Numeric(5, 4))
    guidance: Mapped[str] = mapped_column(sa.Text, default="")

    tender: Mapped[Tender] = relationship(back_populates="criteria")

    def __str__(self) -> str:
        return self.name


class TenderDocument(db.Model):
    __tablename__ = "tender_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(sa.ForeignKey("tenders.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(enum_type(DocumentKind, "tender_document_kind"))
    clarification_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tender_clarifications.id"))
    file_id: Mapped[int] = mapped_column(sa.ForeignKey("stored_files.id"), unique=True)

    tender: Mapped[Tender] = relationship(back_populates="documents")
    file = relationship("StoredFile", lazy="joined")


class Invitation(db.Model):
    """An agency invited to bid (邀请招标). All invitations go out at the moment of publishing."""

    __tablename__ = "tender_invitations"
    __table_args__ = (sa.UniqueConstraint("tender_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(sa.ForeignKey("tenders.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    drawn: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tender: Mapped[Tender] = relationship(back_populates="invitations")
    agency = relationship("Organisation", lazy="joined")


class PoolDraw(db.Model):
    """A random draw of invitees from a pool, with its witnesses (87号令 14)."""

    __tablename__ = "tender_pool_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(sa.ForeignKey("tenders.id"), index=True)
    pool: Mapped[list] = mapped_column(sa.JSON)
    draw_count: Mapped[int]
    drawn: Mapped[list] = mapped_column(sa.JSON)
    seed: Mapped[str] = mapped_column(sa.String(64))
    witnesses: Mapped[list] = mapped_column(sa.JSON)
    drawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class Clarification(db.Model):
    """A clarification or change of the tender documents (澄清或者修改, 87号令 27)."""

    __tablename__ = "tender_clarifications"
    __table_args__ = (sa.UniqueConstraint("tender_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(sa.ForeignKey("tenders.id"), index=True)
    number: Mapped[int]
    content: Mapped[str] = mapped_column(sa.Text)
    affects_bids: Mapped[bool]
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    deadline_before: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_after: Mapped[datetime] = mapped_column(UTCDateTime)
    opening_after: Mapped[datetime] = mapped_column(UTCDateTime)

    tender: Mapped[Tender] = relationship(back_populates="clarifications")

    @property
    def moved_deadline(self) -> bool:
        return self.deadline_after != self.deadline_before


class Bid(db.Model):
    """An agency's bid. Price, proposal and files are sealed until the opening: only
    `procurement.tenders.permissions.can_read_bid` decides who may see them."""

    __tablename__ = "bids"
    __table_args__ = (
        sa.UniqueConstraint("tender_id", "agency_id"),
        sa.CheckConstraint("price_fen > 0", name="price_positive"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(sa.ForeignKey("tenders.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    state: Mapped[BidState] = mapped_column(enum_type(BidState, "bid_state"),
                                            default=BidState.SUBMITTED)
    version: Mapped[int] = mapped_column(default=1)
    price_fen: Mapped[int] = mapped_column(sa.BigInteger)
    proposal: Mapped[str] = mapped_column(sa.Text)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opening_order: Mapped[int | None]
    # Qualification review (资格审查) and the abnormally-low-price procedure (87号令 60).
    valid: Mapped[bool | None]
    invalid_reason: Mapped[str | None] = mapped_column(sa.String(500))
    low_price: Mapped[bool] = mapped_column(default=False)
    low_price_decision: Mapped[LowPriceDecision | None] = mapped_column(
        enum_type(LowPriceDecision, "low_price_decision"))
    low_price_explanation: Mapped[str | None] = mapped_column(sa.Text)
    low_price_note: Mapped[str | None] = mapped_column(sa.Text)

    tender: Mapped[Tender] = relationship(back_populates="bids", foreign_keys=[tender_id])
    agency = relationship("Organisation", lazy="joined")
    files: Mapped[list["BidFile"]] = relationship(back_populates="bid", order_by="BidFile.id",
                                                  lazy="selectin")

    def __str__(self) -> str:
        return f"{self.agency.name}的投标"

    @property
    def current_files(self) -> list["BidFile"]:
        return [f for f in self.files if f.version == self.version]

    @property
    def rankable(self) -> bool:
        """Valid and not waiting on (or refused) a low-price explanation."""
        return bool(self.state is BidState.SUBMITTED and self.valid and (
            not self.low_price or self.low_price_decision is LowPriceDecision.ACCEPTED))


class BidFile(db.Model):
    __tablename__ = "bid_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bids.id"), index=True)
    version: Mapped[int]
    file_id: Mapped[int] = mapped_column(sa.ForeignKey("stored_files.id"), unique=True)

    bid: Mapped[Bid] = relationship(back_populates="files")
    file = relationship("StoredFile", lazy="joined")


class Challenge(db.Model):
    """A bidder's challenge (质疑) to the result, answered by the purchaser."""

    __tablename__ = "tender_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(sa.ForeignKey("tenders.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    state: Mapped[ChallengeState] = mapped_column(enum_type(ChallengeState, "challenge_state"),
                                                  default=ChallengeState.OPEN)
    content: Mapped[str] = mapped_column(sa.Text)
    may_change_result: Mapped[bool] = mapped_column(default=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    answer: Mapped[str | None] = mapped_column(sa.Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    tender: Mapped[Tender] = relationship(back_populates="challenges")
    agency = relationship("Organisation", lazy="joined")
