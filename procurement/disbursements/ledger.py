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


def ledger(agreement: Agreement, accounts: list[Account] | None = None,
           paid: dict[int, int] | None = None) -> list[AccountLedger]:
    """The agreement's ledger; `accounts` when the caller already loaded them (in this order:
    community, then id), and `paid` (instalment id → sum of its movements) when it already
    loaded every movement of those accounts."""
    if accounts is None:
        accounts = list(db.session.scalars(sa.select(Account).where(
            Account.agreement_id == agreement.id).order_by(Account.community_id, Account.id)))
    if paid is not None:
        return _books(accounts, paid)
    paid = dict(db.session.execute(
        sa.select(Movement.instalment_id, sa.func.sum(Movement.amount_fen))
        .join(Instalment).join(Account).where(Account.agreement_id == agreement.id)
        .group_by(Movement.instalment_id)).all())
    return _books(accounts, paid)


def _books(accounts: list[Account], paid: dict) -> list[AccountLedger]:
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
    return executions(agreement, community_id).get(community_id, [])


def executions(agreement: Agreement, community_id: int | None = None) -> dict[int, list[BudgetRow]]:
    """`execution` of every community of the agreement (or the one given), in two queries."""
    lines = sa.select(BudgetLine).where(BudgetLine.agreement_id == agreement.id)
    reports = sa.select(SpendingReport).where(SpendingReport.agreement_id == agreement.id)
    if community_id is not None:
        lines = lines.where(BudgetLine.community_id == community_id)
        reports = reports.where(SpendingReport.community_id == community_id)
    budget: dict = {}
    for line in db.session.scalars(lines):
        budget.setdefault(line.community_id, {})[line.category] = line.amount_fen
    reported: dict = {}
    for report in db.session.scalars(reports):
        reported.setdefault(report.community_id, {}).setdefault(
            report.category, {})[report.quarter] = report.actual_fen
    found = {}
    for cid in set(budget) | set(reported):
        own, spent = budget.get(cid, {}), reported.get(cid, {})
        found[cid] = [BudgetRow(c, own.get(c, 0), spent.get(c, {}), sum(spent.get(c, {}).values()))
                      for c in BudgetCategory if c in own or c in spent]
    return found


def is_release(movement: Movement) -> bool:
    return movement.kind is MovementKind.RELEASE
