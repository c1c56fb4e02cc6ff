"""Completion of an agreement's service task list for one community, computed by
`tasks.completion` exactly as the completion page shows it, with the page's scoping: readers
of the agreement's work, a residents' committee for its own community only."""
from datetime import date

import sqlalchemy as sa
from flask import request
from sqlalchemy.orm import joinedload

from procurement.accounts.roles import Role
from procurement.api import (ApiError, bp, choice_arg, int_arg, money, paged, respond, stamp,
                             who)
from procurement.api import spec as s
from procurement.api.contracts import readable_agreement
from procurement.api.errors import bad_parameter
from procurement.core.permissions import allow
from procurement.disbursements.models import Account, Instalment, Movement
from procurement.disbursements.permissions import visible_account_condition
from procurement.disbursements.states import InstalmentState
from procurement.extensions import db
from procurement.tasks import completion
from procurement.tasks.permissions import reads_every_community

READERS = (Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
           Role.FINANCE_OFFICER, Role.UNIVERSITY_EVALUATOR, Role.AUDITOR)

PROGRESS = s.obj(done=s.integer(), target=s.integer(),
                 percent=s.string(nullable=True, description="完成率（%，一位小数），无目标时为空"),
                 status=s.string(), status_label=s.string(), note=s.string())
QUARTER_PROGRESS = s.obj(quarter=s.integer(), **PROGRESS["properties"])
TASK = s.obj(id=s.integer(), title=s.string(), target=s.string(),
             quarters=s.array(QUARTER_PROGRESS), year=PROGRESS,
             grids=s.array(s.obj(id=s.integer(), number=s.integer(), name=s.string(),
                                 quarters=s.array(QUARTER_PROGRESS))))
COMPLETION = s.obj(
    agreement_id=s.integer(), community_id=s.integer(), community=s.string(),
    as_of=s.string("date"),
    quarters=s.array(s.obj(number=s.integer(), start=s.string("date"), end=s.string("date"),
                           overall=s.string(nullable=True))),
    tasks=s.array(TASK))
GRIDS = s.param("grids", "为 1 时附上各网格的完成情况", s.integer(minimum=0, maximum=1))


def progress_json(p: completion.Progress) -> dict:
    return {"done": p.done, "target": p.target,
            "percent": None if p.percent is None else str(p.percent),
            "status": p.status.value, "status_label": str(p.status.label), "note": p.note}


def _quarters(quarters, progresses) -> list[dict]:
    return [{"quarter": q.number, **progress_json(p)} for q, p in zip(quarters, progresses)]


@bp.route("/agreements/<int:agreement_id>/communities/<int:community_id>/completion")
@allow(*READERS)
@s.operation("服务任务完成情况（按任务、季度）", s.obj(data=COMPLETION), tag="网格工作",
             params=(GRIDS,),
             description="由工作记录计算，与完成情况页面相同；居委会只能读本社区。")
def completion_of(agreement_id: int, community_id: int):
    with_grids = int_arg("grids", 0, minimum=0, maximum=1) == 1
    agreement = readable_agreement(agreement_id)
    row = next((c for c in agreement.communities if c.community_id == community_id), None)
    user = who()
    if row is None or not (reads_every_community(user, agreement)
                           or row.community.committee_id == user.org_id):
        raise ApiError(404, "要查找的记录不存在。")
    book = completion.ledger(agreement, row.community)
    rows = completion.table(book, with_grids=with_grids)
    quarters = book.quarters
    overall = [completion.overall([r.quarters[n] for r in rows]) for n in range(len(quarters))]
    return respond({"data": {
        "agreement_id": agreement.id, "community_id": row.community_id,
        "community": row.community.name, "as_of": book.as_of.isoformat(),
        "quarters": [{"number": q.number, "start": q.start.isoformat(), "end": q.end.isoformat(),
                      "overall": None if o is None else str(o)}
                     for q, o in zip(quarters, overall)],
        "tasks": [{"id": r.task.id, "title": r.task.title, "target": r.target,
                   "quarters": _quarters(quarters, r.quarters), "year": progress_json(r.year),
                   "grids": [{"id": g.id, "number": g.number, "name": g.name,
                              "quarters": _quarters(quarters, ps)} for g, ps in r.grids]}
                  for r in rows]}})


# --- instalments across agreements ------------------------------------------------------
# (They live here because this module is the one the blueprint imports for the remaining
# reads; the figures follow disbursements.ledger, the scoping disbursements.permissions.)

INSTALMENT_READERS = (Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER,
                      Role.LEADER, Role.FINANCE_OFFICER, Role.AUDITOR)
INSTALMENT = s.obj(
    id=s.integer(), agreement_id=s.integer(), agreement_number=s.string(),
    account_id=s.integer(), community_id=s.integer(nullable=True),
    community=s.string(nullable=True), number=s.integer(), quarter=s.integer(nullable=True),
    due_date=s.string("date"), state=s.string(), state_label=s.string(), scheduled=s.MONEY,
    payable=s.MONEY_OR_NULL, paid=s.MONEY, withheld=s.MONEY, outstanding=s.MONEY,
    grade=s.string(nullable=True))


def date_arg(name: str):
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise bad_parameter(name, f"参数 {name} 必须是日期，例如 2026-01-31。") from None


def paid_by_instalment(ids) -> dict[int, int]:
    """Paid per instalment: the sum of its movements, as the ledger counts it."""
    if not ids:
        return {}
    return {i: int(total) for i, total in db.session.execute(
        sa.select(Movement.instalment_id, sa.func.sum(Movement.amount_fen))
        .where(Movement.instalment_id.in_(ids)).group_by(Movement.instalment_id))}


def instalment_json(i: Instalment, paid: int) -> dict:
    withheld = i.withheld_fen if i.state in (InstalmentState.PAID,
                                             InstalmentState.WITHHELD) else 0
    account = i.account
    return {"id": i.id, "agreement_id": account.agreement_id,
            "agreement_number": account.agreement.number, "account_id": account.id,
            "community_id": account.community_id,
            "community": account.community.name if account.community else None,
            "number": i.number, "quarter": i.quarter, "due_date": stamp(i.due_date),
            "state": i.state.value, "state_label": str(i.state.label),
            "scheduled": money(i.amount_fen), "payable": money(i.payable_fen),
            "paid": money(paid), "withheld": money(withheld),
            "outstanding": money(i.amount_fen - paid - withheld),
            "grade": i.grade.value if i.grade else None}


@bp.route("/instalments")
@allow(*INSTALMENT_READERS)
@s.operation("拨付分期列表（可读的各协议）", s.page_of(INSTALMENT), tag="拨付",
             params=(*s.PAGINATED, s.COMMUNITY,
                     s.param("agreement_id", "只返回该协议的分期", s.integer(minimum=1)),
                     s.param("state", "状态：" + "、".join(m.value for m in InstalmentState),
                             s.string(enum=[m.value for m in InstalmentState])),
                     s.param("due_from", "应拨日期不早于（YYYY-MM-DD）", s.string("date")),
                     s.param("due_to", "应拨日期不晚于（YYYY-MM-DD）", s.string("date"))),
             description="范围与拨付台账页面相同：居委会只能读本社区的账户。")
def instalments():
    query = (sa.select(Instalment).join(Account, Account.id == Instalment.account_id)
             .where(visible_account_condition(who())))
    community_id = int_arg("community_id")
    if community_id is not None:
        query = query.where(Account.community_id == community_id)
    agreement_id = int_arg("agreement_id")
    if agreement_id is not None:
        query = query.where(Account.agreement_id == agreement_id)
    state = choice_arg("state", InstalmentState)
    if state is not None:
        query = query.where(Instalment.state == state)
    due_from, due_to = date_arg("due_from"), date_arg("due_to")
    if due_from is not None:
        query = query.where(Instalment.due_date >= due_from)
    if due_to is not None:
        query = query.where(Instalment.due_date <= due_to)
    query = query.options(
        joinedload(Instalment.account).joinedload(Account.agreement),
        joinedload(Instalment.account).joinedload(Account.community),
    ).order_by(Instalment.due_date, Instalment.id)
    page = paged(query, lambda i: i)
    paid = paid_by_instalment([i.id for i in page["data"]])
    page["data"] = [instalment_json(i, paid.get(i.id, 0)) for i in page["data"]]
    return respond(page)
