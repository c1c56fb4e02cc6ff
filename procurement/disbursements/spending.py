"""The agency's quarterly spending report (经费使用情况): actual spending per budget line of
one community in one quarter, replaced by a later report for the same quarter (audited)."""
from procurement.accounts.roles import Role
from procurement.audit import record
from procurement.contracts.models import Agreement
from procurement.contracts.rules import quarters
from procurement.contracts.states import BudgetCategory
from procurement.core import clock
from procurement.core.errors import DomainError
from procurement.disbursements.models import SpendingReport
from procurement.extensions import db

MAX_FEN = 10**12


def report(actor, agreement: Agreement, community, quarter: int,
           amounts: dict[BudgetCategory, int], note: str = "") -> list[SpendingReport]:
    if not (actor.has_role(Role.AGENCY_STAFF) and actor.org_id == agreement.cooperation.agency_id):
        raise DomainError("只有承接本协议的机构人员可以报告经费使用情况。")
    if not any(row.community_id == community.id for row in agreement.communities):
        raise DomainError("该社区不在本协议的服务范围内。")
    periods = {q.number: q for q in quarters(agreement.start_date, agreement.end_date)}
    if quarter not in periods:
        raise DomainError("季度无效。", field="quarter")
    if clock.today() < periods[quarter].start:
        raise DomainError("该季度尚未开始。", field="quarter")
    if not amounts:
        raise DomainError("请至少填写一个科目的支出。", field="amounts")
    for category, fen in amounts.items():
        if not isinstance(fen, int) or isinstance(fen, bool) or not 0 <= fen < MAX_FEN:
            raise DomainError(f"{BudgetCategory(category).label}的支出金额无效。", field="amounts")
    existing = {r.category: r for r in db.session.query(SpendingReport).filter_by(
        agreement_id=agreement.id, community_id=community.id, quarter=quarter)}
    before = {c.value: r.actual_fen for c, r in existing.items()}
    rows = []
    for category, fen in amounts.items():
        category = BudgetCategory(category)
        row = existing.get(category)
        if row is None:
            row = SpendingReport(agreement_id=agreement.id, community_id=community.id,
                                 quarter=quarter, category=category, actual_fen=fen,
                                 reported_by_id=actor.id, reported_at=clock.now())
            db.session.add(row)
        else:
            row.actual_fen, row.reported_by_id, row.reported_at = fen, actor.id, clock.now()
        row.note = (note or "").strip()[:500] or None
        rows.append(row)
    db.session.flush()
    record(actor, "disbursement.spending", agreement, before or None,
           {c.value if hasattr(c, "value") else c: f for c, f in amounts.items()},
           label=f"{agreement.number} {community.name} 第{quarter}季度经费使用")
    return rows
