"""What the disbursement pages show, gathered in a fixed number of queries: the totals per
agreement for the list, an agreement's ledger restricted to the accounts the user reads,
its movements, why each scheduled instalment cannot be requested yet, the chart of paid
against scheduled, and the Excel workbook. Reading only: nothing here changes a row."""
import tempfile
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from openpyxl import Workbook
from sqlalchemy.orm import joinedload, selectinload

from procurement.accounts.models import User
from procurement.contracts.models import Agreement
from procurement.core.calendar import to_local
from procurement.core.money import from_fen
from procurement.core.numbers import percent_number
from procurement.disbursements import ledger, services
from procurement.disbursements.models import Account, Instalment, Movement
from procurement.disbursements.permissions import can_view_account, visible_account_condition
from procurement.disbursements.schedule import account_label
from procurement.disbursements.states import InstalmentState as S
from procurement.disbursements.voucher import quarter_of
from procurement.extensions import db


def totals(user, agreement_ids: list[int]) -> dict[int, dict]:
    """Scheduled, paid, withheld and remaining per agreement, over the accounts the user
    reads (a committee its own community's), in two queries."""
    visible = visible_account_condition(user)
    found = {i: {"scheduled": 0, "paid": 0, "withheld": 0, "limit": 0} for i in agreement_ids}
    if not agreement_ids:
        return found
    for agreement_id, limit, paid in db.session.execute(
            sa.select(Account.agreement_id, sa.func.sum(Account.limit_fen),
                      sa.func.sum(Account.paid_fen))
            .where(Account.agreement_id.in_(agreement_ids), visible)
            .group_by(Account.agreement_id)):
        found[agreement_id].update(limit=int(limit or 0), paid=int(paid or 0))
    withheld_now = sa.case((Instalment.state.in_((S.PAID, S.WITHHELD)), Instalment.withheld_fen),
                           else_=0)
    scheduled = sa.case((Instalment.state != S.CANCELLED, Instalment.amount_fen), else_=0)
    for agreement_id, amount, withheld in db.session.execute(
            sa.select(Account.agreement_id, sa.func.sum(scheduled), sa.func.sum(withheld_now))
            .join(Instalment, Instalment.account_id == Account.id)
            .where(Account.agreement_id.in_(agreement_ids), visible)
            .group_by(Account.agreement_id)):
        found[agreement_id].update(scheduled=int(amount or 0), withheld=int(withheld or 0))
    for row in found.values():
        row["remaining"] = row["limit"] - row["paid"]
    return found


def books(user, agreement: Agreement) -> list[ledger.AccountLedger]:
    """The ledger of the accounts the user reads. Accounts, instalments and the people on
    them are loaded first, so the ledger finds them in the session; they are held in
    `loaded` because the session keeps objects only while they are referenced."""
    return books_and_movements(user, agreement)[0]


def books_and_movements(user, agreement: Agreement):
    """`books` with the `movements` of those accounts, the paid sums taken from the
    movements (one query less than reading both apart)."""
    loaded = db.session.scalars(sa.select(Account).where(Account.agreement_id == agreement.id)
                                .order_by(Account.community_id, Account.id)
                                .options(joinedload(Account.community),
                                         joinedload(Account.special),
                                         selectinload(Account.instalments).options(
                                             joinedload(Instalment.requested_by)
                                             .lazyload(User.role_rows),
                                             joinedload(Instalment.approved_by)
                                             .lazyload(User.role_rows)))).all()
    visible = [account for account in loaded if can_view_account(user, account)]
    found = movements([account.id for account in visible])
    paid: dict[int, int] = {}
    for movement in found:
        paid[movement.instalment_id] = paid.get(movement.instalment_id, 0) + movement.amount_fen
    return ledger.ledger(agreement, accounts=visible, paid=paid), found


def movements(account_ids: list[int]) -> list[Movement]:
    """The money movements of these accounts, oldest first, with who recorded them."""
    if not account_ids:
        return []
    return list(db.session.scalars(
        sa.select(Movement).join(Instalment, Instalment.id == Movement.instalment_id)
        .where(Instalment.account_id.in_(account_ids))
        .options(joinedload(Movement.recorded_by).lazyload(User.role_rows))
        .order_by(Movement.paid_on, Movement.id)))


def block_of(instalment: Instalment, today: date) -> str | None:
    """Why a scheduled instalment cannot be requested yet (None when it can): a running
    quarter simply waits; an ended one asks the service's acceptance rule."""
    quarter = quarter_of(instalment)
    if quarter is not None and quarter.end >= today:
        return _("%(quarter)s尚未结束。", quarter=quarter.label)
    return services.acceptance(instalment)[0]


def blocks(books_, today: date) -> dict[int, str | None]:
    """`block_of` for every scheduled instalment, the ended ones' acceptance read in one
    batch (not a few queries per instalment)."""
    scheduled = [row.instalment for book in books_ for row in book.rows
                 if row.instalment.state is S.SCHEDULED]
    waiting, ended = {}, []
    for instalment in scheduled:
        quarter = quarter_of(instalment)
        if quarter is not None and quarter.end >= today:
            waiting[instalment.id] = _("%(quarter)s尚未结束。", quarter=quarter.label)
        else:
            ended.append(instalment)
    accepted = services.acceptances(ended)
    return {i.id: waiting[i.id] if i.id in waiting else accepted[i.id][0] for i in scheduled}


def execution(agreement: Agreement, books_) -> list[tuple]:
    """Spending against the budget lines, per community account the user reads."""
    rows = ledger.executions(agreement)
    return [(book.account.community, rows.get(book.account.community_id, []))
            for book in books_ if book.account.community_id]


def _wan(fen: int) -> str:
    """A short amount for the chart: 30.00万."""
    return f"{from_fen(fen) / 10000:.2f}万"


def progress_chart(books_, movements_, today: date) -> dict | None:
    """Cumulative scheduled and paid money by due date (the quarters, and a special
    agreement after it ends), as SVG geometry. A payment counts at its instalment's due
    date, so each pair of bars compares what was due with what was paid for it."""
    rows = [row for book in books_ for row in book.rows]
    if not rows:
        return None
    due_of = {row.instalment.id: row.instalment.due_date for row in rows}
    labels: dict[date, list[str]] = {}
    for row in rows:
        quarter = quarter_of(row.instalment)
        text = quarter.label if quarter else _("专项")
        names = labels.setdefault(row.instalment.due_date, [])
        if text not in names:
            names.append(text)
    dues = sorted(labels)
    scheduled = [sum(r.scheduled for r in rows if r.instalment.due_date <= d) for d in dues]
    paid = [sum(m.amount_fen for m in movements_ if due_of.get(m.instalment_id, date.max) <= d)
            for d in dues]
    top = max(max(scheduled), 1)
    height, base, step, bar = 120, 140, 110, 34
    points = []
    for n, day in enumerate(dues):
        s_h = round(height * scheduled[n] / top, 1)
        p_h = round(height * max(paid[n], 0) / top, 1)
        points.append({"x": 60 + step * n, "bar": bar, "label": "、".join(labels[day]),
                       "day": day.isoformat(), "s_y": base - s_h, "s_h": s_h,
                       "s_text": _wan(scheduled[n]), "p_y": base - p_h, "p_h": p_h,
                       "p_text": _wan(paid[n]), "behind": paid[n] < scheduled[n] and day < today})
    return {"points": points, "width": 60 + step * len(dues) + 20, "height": 190,
            "base": base, "top": _wan(top), "top_y": base - height}


# --- the Excel workbook ----------------------------------------------------------------------


def _yuan(fen):
    return None if fen is None else from_fen(fen)


def _cell(value):
    """As documents.excel writes cells: local time without a zone, and no formula
    injection from typed text."""
    if isinstance(value, datetime):
        return to_local(value).replace(tzinfo=None)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def workbook(books_, movements_) -> bytes:
    """Two sheets: every instalment with its figures, and every movement of money."""
    book = Workbook(write_only=True)
    plan = book.create_sheet(_("拨付计划与执行"))
    plan.append([_("账户"), _("期次"), _("季度"), _("到期日"), _("计划金额（元）"), _("评估等级"),
                 _("拨付比例"), _("应拨金额（元）"), _("已拨金额（元）"), _("暂扣金额（元）"),
                 _("未拨金额（元）"), _("状态"), _("申请人"), _("申请时间"), _("审批人"),
                 _("审批时间"), _("计算说明"), _("暂扣原因"), _("备注")])
    for account_book in books_:
        for row in account_book.rows:
            i = row.instalment
            quarter = quarter_of(i)
            plan.append([_cell(v) for v in (
                account_label(account_book.account), i.number,
                quarter.label if quarter else _("专项"), i.due_date, _yuan(row.scheduled),
                i.grade.label if i.grade else None,
                f"{percent_number(i.share)}%" if i.share is not None else None,
                _yuan(row.payable), _yuan(row.paid), _yuan(row.withheld), _yuan(row.outstanding),
                i.state.label, i.requested_by.name if i.requested_by else None, i.requested_at,
                i.approved_by.name if i.approved_by else None, i.approved_at, i.computation,
                i.withhold_reason, i.note)])
    flows = book.create_sheet(_("拨付流水"))
    flows.append([_("拨付日期"), _("账户"), _("期次"), _("类别"), _("金额（元）"), _("凭证号"),
                  _("原因"), _("已冲正"), _("登记人"), _("登记时间")])
    accounts = {b.account.id: b.account for b in books_}
    for m in movements_:
        flows.append([_cell(v) for v in (
            m.paid_on, account_label(accounts[m.instalment.account_id]), m.instalment.number,
            m.kind.label, _yuan(m.amount_fen), m.voucher_no, m.reason,
            _("是") if m.reversed else "", m.recorded_by.name, m.recorded_at)])
    # Spool to disk past a few MB, as documents.excel does.
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as buffer:
        book.save(buffer)
        buffer.seek(0)
        return buffer.read()
