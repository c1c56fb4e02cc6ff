"""Tables of the disbursement side. Money is integer fen. The database holds the invariants
as well as the code: an account's payments never exceed its limit (CHECK), and an
instalment has at most one standing payment (a partial unique index)."""
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procurement.contracts.states import BudgetCategory, Grade
from procurement.core.calendar import now_utc
from procurement.core.types import UTCDateTime, enum_type
from procurement.disbursements.states import InstalmentState, MovementKind
from procurement.extensions import db


class PaymentRule(db.Model):
    """How a quarter's grade maps to the share payable ({grade: "0.90"}), per agreement."""

    __tablename__ = "payment_rules"

    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id"), primary_key=True)
    shares: Mapped[dict] = mapped_column(sa.JSON)


class Account(db.Model):
    """What may be paid for one community of an annual agreement (or one special
    agreement): the limit is the agreed amount plus amendments; `paid_fen` is kept with
    every movement, under a row lock, and the database refuses it over the limit."""

    __tablename__ = "disbursement_accounts"
    __table_args__ = (
        sa.CheckConstraint("paid_fen >= 0", name="paid_not_negative"),
        sa.CheckConstraint("paid_fen <= limit_fen", name="paid_within_limit"),
        sa.CheckConstraint("(community_id IS NULL) <> (special_agreement_id IS NULL)",
                           name="community_or_special"),
        sa.UniqueConstraint("agreement_id", "community_id"),
        sa.UniqueConstraint("special_agreement_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(sa.ForeignKey("communities.id"))
    special_agreement_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("special_agreements.id"))
    limit_fen: Mapped[int] = mapped_column(sa.BigInteger)
    paid_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    agreement = relationship("Agreement")
    community = relationship("Community")
    special = relationship("SpecialAgreement")
    instalments: Mapped[list["Instalment"]] = relationship(
        back_populates="account", order_by="Instalment.number")


class Instalment(db.Model):
    __tablename__ = "instalments"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "number"),
        sa.CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
        sa.CheckConstraint("payable_fen IS NULL OR (payable_fen >= 0 AND payable_fen <= amount_fen)",
                           name="payable_within_amount"),
        sa.CheckConstraint("requested_by_id IS NULL OR approved_by_id IS NULL "
                           "OR requested_by_id <> approved_by_id", name="approved_by_another"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("disbursement_accounts.id"), index=True)
    number: Mapped[int]
    quarter: Mapped[int | None]   # the agreement quarter whose evaluation it follows
    due_date: Mapped[date]
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)   # scheduled
    state: Mapped[InstalmentState] = mapped_column(
        enum_type(InstalmentState, "instalment_state"), default=InstalmentState.SCHEDULED)
    grade: Mapped[Grade | None] = mapped_column(enum_type(Grade, "instalment_grade"))
    share: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 4))
    payable_fen: Mapped[int | None] = mapped_column(sa.BigInteger)
    computation: Mapped[str | None] = mapped_column(sa.Text)   # how the payable was computed
    withheld_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # still withheld
    withhold_reason: Mapped[str | None] = mapped_column(sa.Text)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(sa.Text)  # e.g. why it was re-planned

    account: Mapped[Account] = relationship(back_populates="instalments")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    movements: Mapped[list["Movement"]] = relationship(back_populates="instalment",
                                                       order_by="Movement.id")


class Movement(db.Model):
    """Money actually paid (or reversed): a payment, a release of withheld money, or a
    reversal. Never edited; a reversal is a new row pointing at the payment it undoes."""

    __tablename__ = "disbursement_movements"
    __table_args__ = (
        sa.CheckConstraint("(kind = 'reversal') = (amount_fen < 0)", name="sign_matches_kind"),
        # One standing payment per instalment, however many clicks arrive at once.
        sa.Index("uq_movements_one_payment", "instalment_id", unique=True,
                 sqlite_where=sa.text("kind = 'payment' AND reversed = 0"),
                 postgresql_where=sa.text("kind = 'payment' AND NOT reversed")),
        sa.UniqueConstraint("reverses_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instalment_id: Mapped[int] = mapped_column(sa.ForeignKey("instalments.id"), index=True)
    kind: Mapped[MovementKind] = mapped_column(enum_type(MovementKind, "movement_kind"))
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)
    paid_on: Mapped[date]
    voucher_no: Mapped[str] = mapped_column(sa.String(40))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    reversed: Mapped[bool] = mapped_column(default=False)
    reverses_id: Mapped[int | None] = mapped_column(sa.ForeignKey("disbursement_movements.id"))
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    instalment: Mapped[Instalment] = relationship(back_populates="movements")
    recorded_by = relationship("User")


class SpendingReport(db.Model):
    """The agency's actual spending on one budget line of one community in one quarter."""

    __tablename__ = "spending_reports"
    __table_args__ = (sa.UniqueConstraint("agreement_id", "community_id", "quarter", "category"),
                      sa.CheckConstraint("actual_fen >= 0", name="actual_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id"), index=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    quarter: Mapped[int]
    category: Mapped[BudgetCategory] = mapped_column(enum_type(BudgetCategory, "spending_category"))
    actual_fen: Mapped[int] = mapped_column(sa.BigInteger)
    note: Mapped[str | None] = mapped_column(sa.String(500))
    reported_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
