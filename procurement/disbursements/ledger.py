"""The ledger (拨付台账): per account (a community of an annual agreement, or a special
agreement) and instalment, what was scheduled, payable, paid, withheld and what remains;
it reconciles to the fen: paid is the sum of the movements, and scheduled = paid + withheld +
not yet paid. Execution by budget line compares the agency's reported spending with the
budget."""
from dataclasses import dataclass, field

import sqlalchemy as sa

from procurement.contracts.models import Agreement, BudgetLine
from procurement.contracts.states import BudgetCategory
from procurement.disbursements.models import Account, Instalment, Movement, SpendingReport
from procurement.disbursements.states import InstalmentState as S, MovementKind
from procurement.extensions import db


@dataclass
class Row:
    """One instalment's figures, in fen."""
    instalment: Instalment
    scheduled: int
    payable: int | None
    paid: int
    withheld: int

    @property
    def outstanding(self) -> int:
        """Scheduled money neither paid nor withheld yet."""
        return self.scheduled - self.paid - self.withheld


@dataclass
class AccountLedger:
    account: Account
    rows: list[Row] = field(default_factory=list)

    @property
    def scheduled(self) -> int:
        return sum(r.scheduled for r in self.rows)

    @property
    def paid(self) -> int:
        return sum(r.paid for r in self.rows)

    @property
    def withheld(self) -> int:
        return sum(r.withheld for r in self.rows)

    @property
    def remaining(self) -> int:
        return self.account.limit_fen - self.paid

    def reconciles(self) -> bool:
        return (self.paid == self.account.paid_fen and self.scheduled == self.account.limit_fen
                and all(r.outstanding >= 0 for r in self.rows))


def ledger(agreement: Agreement) -> list[AccountLedger]:
    accounts = list(db.session.scalars(sa.select(Account).where(
        Account.agreement_id == agreement.id).order_by(Account.community_id, Account.id)))
    paid = dict(db.session.execute(
        sa.select(Movement.instalment_id, sa.func.sum(Movement.amount_fen))
        .join(Instalment).join(Account).where(Account.agreement_id == agreement.id)
        .group_by(Movement.instalment_id)).all())
    books = []
    for account in accounts:
        book = AccountLedger(account)
        for i in account.instalments:
            if i.state is S.CANCELLED:
                continue
            book.rows.append(Row(i, i.amount_fen, i.payable_fen, int(paid.get(i.id, 0)),
                                 i.withheld_fen if i.state in (S.PAID, S.WITHHELD) else 0))
        books.append(book)
    return books


def movements(agreement: Agreement) -> list[Movement]:
    return list(db.session.scalars(
        sa.select(Movement).join(Instalment).join(Account)
        .where(Account.agreement_id == agreement.id).order_by(Movement.paid_on, Movement.id)))


@dataclass
class BudgetRow:
    category: BudgetCategory
    budget: int        # the year's budget line
    by_quarter: dict   # quarter → actual fen
    spent: int         # all reported so far

    @property
    def over(self) -> bool:
        return self.spent > self.budget


def execution(agreement: Agreement, community_id: int) -> list[BudgetRow]:
    """Reported spending per budget line against the year's budget, over budget flagged."""
    budget = {line.category: line.amount_fen for line in db.session.scalars(
        sa.select(BudgetLine).where(BudgetLine.agreement_id == agreement.id,
                                    BudgetLine.community_id == community_id))}
    reported: dict = {}
    for report in db.session.scalars(sa.select(SpendingReport).where(
            SpendingReport.agreement_id == agreement.id,
            SpendingReport.community_id == community_id)):
        reported.setdefault(report.category, {})[report.quarter] = report.actual_fen
    return [BudgetRow(c, budget.get(c, 0), reported.get(c, {}), sum(reported.get(c, {}).values()))
            for c in BudgetCategory if c in budget or c in reported]


def is_release(movement: Movement) -> bool:
    return movement.kind is MovementKind.RELEASE
