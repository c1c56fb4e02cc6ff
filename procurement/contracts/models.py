"""A cooperation (合作期) of up to three years with the winning agency, signed one annual
agreement (年度协议) at a time; each agreement has its parties, sub-contracts, money per
community with budget lines, and evaluation settings. Amendments and special-service
agreements are signed like agreements; signatures of all three kinds share one table."""
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procurement.contracts.states import (BudgetCategory, CooperationState, DocumentKind,
                                          DocumentState, Grade, PartyRole, SubContractKind)
from procurement.core.calendar import now_utc
from procurement.core.types import UTCDateTime, enum_type
from procurement.extensions import db


class Cooperation(db.Model):
    __tablename__ = "cooperations"
    __table_args__ = (sa.CheckConstraint("end_date > start_date", name="end_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    tender_id: Mapped[int] = mapped_column(sa.ForeignKey("tenders.id"), unique=True)
    street_office_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    university_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    start_date: Mapped[date]
    end_date: Mapped[date]
    justification: Mapped[str | None] = mapped_column(sa.Text)  # needed for a term over 1 year
    state: Mapped[CooperationState] = mapped_column(
        enum_type(CooperationState, "cooperation_state"), default=CooperationState.DRAFT)
    end_reason: Mapped[str | None] = mapped_column(sa.Text)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    tender = relationship("Tender")
    street_office = relationship("Organisation", foreign_keys=[street_office_id])
    agency = relationship("Organisation", foreign_keys=[agency_id])
    university = relationship("Organisation", foreign_keys=[university_id])
    agreements: Mapped[list["Agreement"]] = relationship(
        back_populates="cooperation", order_by="Agreement.year_no")
    specials: Mapped[list["SpecialAgreement"]] = relationship(
        back_populates="cooperation", order_by="SpecialAgreement.number")

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class Agreement(db.Model):
    """One year of the cooperation. In force only when every party signed this version."""

    __tablename__ = "agreements"
    __table_args__ = (
        sa.UniqueConstraint("cooperation_id", "year_no"),
        sa.CheckConstraint("end_date > start_date", name="end_after_start"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperation_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperations.id"), index=True)
    year_no: Mapped[int]
    number: Mapped[str] = mapped_column(sa.String(50), unique=True)
    start_date: Mapped[date]
    end_date: Mapped[date]
    state: Mapped[DocumentState] = mapped_column(enum_type(DocumentState, "agreement_state"),
                                                 default=DocumentState.DRAFT)
    version: Mapped[int] = mapped_column(default=1)
    content_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    sign_due: Mapped[date | None]
    # Settings of the year for the evaluation issue: {source: "0.30"}, {grade: "90"}.
    evaluation_weights: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    grade_bands: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # The year's evaluated grade: the renewal gate reads it (set by the evaluation side).
    annual_grade: Mapped[Grade | None] = mapped_column(enum_type(Grade, "grade"))
    in_force_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    cooperation: Mapped[Cooperation] = relationship(back_populates="agreements")
    parties: Mapped[list["AgreementParty"]] = relationship(
        back_populates="agreement", order_by="AgreementParty.position",
        cascade="all, delete-orphan")
    communities: Mapped[list["AgreementCommunity"]] = relationship(
        back_populates="agreement", order_by="AgreementCommunity.community_id",
        cascade="all, delete-orphan")
    budget_lines: Mapped[list["BudgetLine"]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan",
        order_by="(BudgetLine.community_id, BudgetLine.position)")
    sub_contracts: Mapped[list["SubContract"]] = relationship(
        back_populates="agreement", order_by="SubContract.number", cascade="all, delete-orphan")
    amendments: Mapped[list["Amendment"]] = relationship(
        back_populates="agreement", order_by="Amendment.number")

    kind = DocumentKind.AGREEMENT

    def __str__(self) -> str:
        return f"{self.number} 第{self.year_no}年度协议"

    @property
    def amount_fen(self) -> int:
        return sum(c.amount_fen for c in self.communities)


class AgreementParty(db.Model):
    __tablename__ = "agreement_parties"
    __table_args__ = (sa.UniqueConstraint("agreement_id", "org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id", ondelete="CASCADE"))
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    role: Mapped[PartyRole] = mapped_column(enum_type(PartyRole, "party_role"))
    position: Mapped[int]
    duties: Mapped[str] = mapped_column(sa.Text)

    agreement: Mapped[Agreement] = relationship(back_populates="parties")
    org = relationship("Organisation", lazy="joined")


class AgreementCommunity(db.Model):
    """The amount for one community for the year (Lingyuan: 400,000 yuan)."""

    __tablename__ = "agreement_communities"
    __table_args__ = (sa.UniqueConstraint("agreement_id", "community_id"),
                      sa.CheckConstraint("amount_fen > 0", name="amount_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)

    agreement: Mapped[Agreement] = relationship(back_populates="communities")
    community = relationship("Community", lazy="joined")


class BudgetLine(db.Model):
    """One category of one community's amount; a community's lines add up to its amount."""

    __tablename__ = "budget_lines"
    __table_args__ = (sa.UniqueConstraint("agreement_id", "community_id", "category"),
                      sa.CheckConstraint("amount_fen >= 0", name="amount_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id", ondelete="CASCADE"),
                                              index=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    category: Mapped[BudgetCategory] = mapped_column(enum_type(BudgetCategory, "budget_category"))
    position: Mapped[int]
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)

    agreement: Mapped[Agreement] = relationship(back_populates="budget_lines")
    community = relationship("Community")


class SubContract(db.Model):
    """A part of the service (子合同): grid or centre work, with its content. The task list
    it brings hangs off it (the task issue)."""

    __tablename__ = "sub_contracts"
    __table_args__ = (sa.UniqueConstraint("agreement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id", ondelete="CASCADE"),
                                              index=True)
    number: Mapped[int]
    kind: Mapped[SubContractKind] = mapped_column(enum_type(SubContractKind, "sub_contract_kind"))
    title: Mapped[str] = mapped_column(sa.String(100))
    content: Mapped[str] = mapped_column(sa.Text)

    agreement: Mapped[Agreement] = relationship(back_populates="sub_contracts")


class Amendment(db.Model):
    """A numbered change (变更) to an agreement in force, with its reason and the before and
    after values; it takes effect when every party has signed it."""

    __tablename__ = "amendments"
    __table_args__ = (sa.UniqueConstraint("agreement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id"), index=True)
    number: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.Text)
    # [{"field": ..., "label": ..., "before": ..., "after": ...}]
    changes: Mapped[list] = mapped_column(sa.JSON)
    state: Mapped[DocumentState] = mapped_column(enum_type(DocumentState, "amendment_state"),
                                                 default=DocumentState.DRAFT)
    version: Mapped[int] = mapped_column(default=1)
    content_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    in_force_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    agreement: Mapped[Agreement] = relationship(back_populates="amendments")

    kind = DocumentKind.AMENDMENT

    def __str__(self) -> str:
        return f"{self.agreement.number} 第{self.number}号变更"


class SpecialAgreement(db.Model):
    """专项服务合作协议: a task outside the contract with its own budget and signatures."""

    __tablename__ = "special_agreements"
    __table_args__ = (sa.UniqueConstraint("cooperation_id", "number"),
                      sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
                      sa.CheckConstraint("end_date >= start_date", name="end_after_start"))

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperation_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperations.id"), index=True)
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    content: Mapped[str] = mapped_column(sa.Text)
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)
    budget: Mapped[dict] = mapped_column(sa.JSON)  # {category: fen}, adding up to amount_fen
    start_date: Mapped[date]
    end_date: Mapped[date]
    state: Mapped[DocumentState] = mapped_column(enum_type(DocumentState, "special_state"),
                                                 default=DocumentState.DRAFT)
    version: Mapped[int] = mapped_column(default=1)
    content_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    in_force_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    cooperation: Mapped[Cooperation] = relationship(back_populates="specials")
    agreement: Mapped[Agreement] = relationship()

    kind = DocumentKind.SPECIAL

    def __str__(self) -> str:
        return f"{self.cooperation.number} 专项协议{self.number}：{self.title}"


class Signature(db.Model):
    """One party's signature on one version of an agreement, amendment or special agreement.
    The unique key makes a second signature by the same party on the same version impossible,
    however many people click at once."""

    __tablename__ = "signatures"
    __table_args__ = (sa.UniqueConstraint("document_kind", "document_id", "version", "org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_kind: Mapped[DocumentKind] = mapped_column(enum_type(DocumentKind, "document_kind"))
    document_id: Mapped[int]
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    signer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    org = relationship("Organisation", lazy="joined")
    signer = relationship("User", lazy="joined")


sa.Index("ix_signatures_document", Signature.document_kind, Signature.document_id)
