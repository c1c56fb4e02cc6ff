"""An agreement's evaluation per community and period: each source's state and score and the
finalised (or provisional) composite and grade, read from `evaluations.overview.board` as
the evaluation page shows it, for the communities the caller reads (a residents' committee
its own)."""
import re

from flask import request

from procurement.accounts.roles import Role
from procurement.api import bp, int_arg, respond, stamp, who
from procurement.api import spec as s
from procurement.api.contracts import readable_agreement
from procurement.api.errors import bad_parameter
from procurement.core.permissions import allow
from procurement.evaluations import overview, plan
from procurement.evaluations.states import PeriodKind

READERS = (Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
           Role.FINANCE_OFFICER, Role.UNIVERSITY_EVALUATOR, Role.AUDITOR)

SOURCE = s.obj(source=s.string(), source_label=s.string(), weight=s.string(),
               state=s.string(nullable=True, description="评分表或问卷的状态代码"),
               status=s.string(description="中文说明"), late=s.boolean(),
               score=s.string(nullable=True), weighted=s.string(nullable=True))
PERIOD = s.obj(
    period_id=s.integer(), period=s.string(description="如 quarter-1、midterm-1"),
    kind=s.string(), number=s.integer(), label=s.string(), start_date=s.string("date"),
    end_date=s.string("date"), sources=s.array(SOURCE), final=s.boolean(),
    composite=s.string(nullable=True, description="已确定的综合得分，未确定时为暂算值"),
    grade=s.string(nullable=True), finalised_at=s.string("date-time", nullable=True),
    missing=s.array(s.string()))
COMMUNITY = s.obj(id=s.integer(), name=s.string(), periods=s.array(PERIOD))
PERIOD_PARAM = s.param("period", "只返回该期，如 quarter-1、midterm-1、final-1",
                       s.string(pattern=r"^(quarter|midterm|final)-\d$"))
_PERIOD = re.compile(r"^(quarter|midterm|final)-([1-9])$")


def _decimal(value) -> str | None:
    return None if value is None else str(value)


def _source(cell: overview.Cell) -> dict:
    if cell.survey is not None:
        state = cell.survey.state.value
    else:
        state = cell.sheet.state.value if cell.readable else None
    return {"source": cell.source.value, "source_label": str(cell.source.label),
            "weight": _decimal(cell.weight), "state": state, "status": str(cell.status),
            "late": cell.late, "score": _decimal(cell.score), "weighted": _decimal(cell.weighted)}


def _period(row: overview.PeriodRow) -> dict:
    p = row.period
    grade = row.result.grade if row.final else row.provisional_grade
    return {"period_id": p.id, "period": f"{p.kind.value}-{p.number}", "kind": p.kind.value,
            "number": p.number, "label": str(p.label), "start_date": stamp(p.start_date),
            "end_date": stamp(p.end_date), "sources": [_source(c) for c in row.cells],
            "final": row.final, "composite": _decimal(row.composite),
            "grade": grade.value if grade else None,
            "finalised_at": stamp(row.result.finalised_at) if row.final else None,
            "missing": [src.value for src in row.missing]}


def _period_arg():
    raw = request.args.get("period")
    if raw is None or raw.strip() == "":
        return None
    match = _PERIOD.match(raw.strip())
    if not match:
        raise bad_parameter("period", "参数 period 的格式应为 quarter-1、midterm-1 或 final-1。")
    return PeriodKind(match.group(1)), int(match.group(2))


@bp.route("/agreements/<int:agreement_id>/evaluations")
@allow(*READERS)
@s.operation("协议的绩效评价（各社区、各期）", s.obj(data=s.obj(
    agreement_id=s.integer(), communities=s.array(COMMUNITY))), tag="绩效评价",
    params=(s.COMMUNITY, PERIOD_PARAM),
    description="各来源的评分与状态、已确定（或暂算）的综合得分和等级；居委会只能读本社区。")
def agreement_evaluations(agreement_id: int):
    community_id = int_arg("community_id")
    wanted = _period_arg()
    agreement = readable_agreement(agreement_id)
    communities = overview.communities_of(who(), agreement)
    if community_id is not None:
        communities = [c for c in communities if c.id == community_id]
    periods = plan.periods(agreement)
    if wanted is not None:
        periods = [p for p in periods if (p.kind, p.number) == wanted]
    board = overview.board(agreement, communities, periods) if communities and periods else None
    return respond({"data": {"agreement_id": agreement.id, "communities": [
        {"id": c.id, "name": c.name,
         "periods": [_period(r) for r in board.rows[c.id]] if board else []}
        for c in communities]}})
