"""Grid cases (网格事件, RULES.md "Grid work"): reported by grid staff or a residents'
committee → verified or cancelled → handled on the spot or escalated to a street-office
department → the result reported back to the reporter → checked and closed by someone other
than the handler → rated by the reporter. Each step: check → change → audit → flush."""
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from procurement.accounts.roles import Role
from procurement.audit import record, snapshot
from procurement.contracts.models import Agreement, AgreementCommunity, Cooperation
from procurement.contracts.states import DocumentState
from procurement.core import clock
from procurement.core.errors import DomainError
from procurement.extensions import db
from procurement.orgs.models import Grid
from procurement.tasks.models import GridCase
from procurement.tasks.states import CASE, OPEN_CASES, CaseCategory, CaseState, Urgency

CASE_FIELDS = ("number", "state", "category", "urgency", "title", "department", "result",
               "feedback", "rating")
OFFICE_ROLES = (Role.CONTRACT_MANAGER, Role.LEADER)


def serving_agency_id(community_id: int, day: date) -> int | None:
    """The agency whose annual agreement in force covers this community on this day."""
    return db.session.scalar(
        sa.select(Cooperation.agency_id).join(Agreement, Agreement.cooperation_id == Cooperation.id)
        .join(AgreementCommunity, AgreementCommunity.agreement_id == Agreement.id)
        .where(AgreementCommunity.community_id == community_id,
               Agreement.state == DocumentState.IN_FORCE,
               Agreement.start_date <= day, Agreement.end_date >= day)
        .limit(1))


def time_limit(urgency: Urgency) -> timedelta:
    return timedelta(hours=current_app.config["GRID_CASE_HOURS"][Urgency(urgency).value])


def is_overdue(case: GridCase, at: datetime | None = None) -> bool:
    return case.state in OPEN_CASES and (at or clock.now()) > case.due_at


def _text(value: str | None, label: str, field: str, limit: int = 5000) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(f"请填写{label}。", field=field)
    return value[:limit]


def is_serving_agency_staff(actor, case: GridCase) -> bool:
    return actor.has_role(Role.AGENCY_STAFF) and actor.org_id == case.agency_id


def is_office_staff(actor, case: GridCase) -> bool:
    return actor.has_role(*OFFICE_ROLES) and actor.org_id == case.community.street_office_id


def _require_agency(actor, case: GridCase, action: str) -> None:
    if not is_serving_agency_staff(actor, case):
        raise DomainError(f"只有承接本社区服务的机构人员可以{action}。")


def _step(actor, case: GridCase, target: CaseState, action: str, apply) -> GridCase:
    before = snapshot(case, *CASE_FIELDS)
    CASE.check(case, target, action)
    apply()
    CASE.move(case, target, action)
    db.session.flush()
    record(actor, f"case.{target.value}", case, before, snapshot(case, *CASE_FIELDS))
    return case


def _next_number(day: date) -> str:
    prefix = f"WG{day:%Y%m%d}-"
    count = db.session.scalar(sa.select(sa.func.count()).select_from(GridCase)
                              .where(GridCase.number.like(f"{prefix}%")))
    return f"{prefix}{count + 1:03d}"


def report(actor, *, grid: Grid, category: CaseCategory, urgency: Urgency, title: str,
           description: str, location: str | None = None) -> GridCase:
    """By the serving agency's grid staff, or by the residents' committee of that community."""
    community = grid.community
    now = clock.now()
    agency_id = serving_agency_id(community.id, clock.today())
    if agency_id is None:
        raise DomainError(f"{community.name}目前没有生效的服务协议，网格事件无人承办。")
    by_agency = actor.has_role(Role.AGENCY_STAFF) and actor.org_id == agency_id
    by_committee = actor.has_role(Role.COMMITTEE_STAFF) and actor.org_id == community.committee_id
    if not (by_agency or by_committee):
        raise DomainError("只有本社区的网格工作人员或居委会人员可以上报网格事件。")
    case = GridCase(number=_next_number(clock.today()), community_id=community.id,
                    community=community, grid_id=grid.id, grid=grid, agency_id=agency_id,
                    category=CaseCategory(category), urgency=Urgency(urgency),
                    state=CaseState.REPORTED,
                    title=_text(title, "事件标题", "title", 200),
                    description=_text(description, "事件描述", "description"),
                    location=(location or "").strip()[:200] or None, reporter_id=actor.id,
                    reporter=actor, reported_at=now, due_at=now + time_limit(urgency))
    db.session.add(case)
    db.session.flush()
    record(actor, "case.reported", case, None, snapshot(case, *CASE_FIELDS))
    return case


def verify(actor, case: GridCase) -> GridCase:
    _require_agency(actor, case, "核实事件")

    def apply():
        case.verified_by_id, case.verified_at = actor.id, clock.now()

    return _step(actor, case, CaseState.VERIFIED, "核实", apply)


def cancel(actor, case: GridCase, reason: str) -> GridCase:
    """Not a real case (duplicate, wrong, already solved): cancelled with a reason."""
    _require_agency(actor, case, "撤销事件")
    reason = _text(reason, "撤销原因", "reason")

    def apply():
        case.cancel_reason, case.cancelled_at = reason, clock.now()

    return _step(actor, case, CaseState.CANCELLED, "撤销", apply)


def handle_on_spot(actor, case: GridCase, result: str) -> GridCase:
    _require_agency(actor, case, "处置事件")
    result = _text(result, "处置结果", "result")

    def apply():
        case.handler_id, case.handled_at, case.result = actor.id, clock.now(), result

    return _step(actor, case, CaseState.HANDLED, "就地处置", apply)


def escalate(actor, case: GridCase, department: str) -> GridCase:
    """Beyond the grid's reach: passed to a street-office department (e.g. 安监站, 城建办)."""
    _require_agency(actor, case, "上报街道部门")
    department = _text(department, "承办部门", "department", 100)

    def apply():
        case.department, case.escalated_at = department, clock.now()

    return _step(actor, case, CaseState.ESCALATED, "上报街道部门", apply)


def record_department_result(actor, case: GridCase, result: str) -> GridCase:
    """The street office records what its department did with an escalated case."""
    if not is_office_staff(actor, case):
        raise DomainError("只有本街道的工作人员可以登记部门处置结果。")
    result = _text(result, "处置结果", "result")

    def apply():
        case.handler_id, case.handled_at, case.result = actor.id, clock.now(), result

    return _step(actor, case, CaseState.HANDLED, "登记部门处置结果", apply)


def feed_back(actor, case: GridCase, feedback: str) -> GridCase:
    """The result is reported back to whoever reported the case."""
    _require_agency(actor, case, "反馈处置结果")
    feedback = _text(feedback, "反馈内容", "feedback")

    def apply():
        case.feedback, case.fed_back_at = feedback, clock.now()

    return _step(actor, case, CaseState.FED_BACK, "反馈上报人", apply)


def close(actor, case: GridCase) -> GridCase:
    """Checked and closed (核查办结) by someone other than the handler."""
    if not (is_serving_agency_staff(actor, case) or is_office_staff(actor, case)):
        raise DomainError("只有承办机构或本街道的工作人员可以核查办结。")
    if actor.id == case.handler_id:
        raise DomainError("处置人不能核查办结自己处置的事件，请由其他人员核查。")

    def apply():
        case.closed_by_id, case.closed_at = actor.id, clock.now()

    return _step(actor, case, CaseState.CLOSED, "核查办结", apply)


def rate(actor, case: GridCase, rating: int, comment: str | None = None) -> GridCase:
    """The reporter rates how the case was handled (1–5)."""
    if actor.id != case.reporter_id:
        raise DomainError("只有上报人可以评价事件处置。")
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise DomainError("评价应为 1 至 5 分。", field="rating")

    def apply():
        case.rating, case.rated_at = rating, clock.now()
        case.rating_comment = (comment or "").strip()[:500] or None

    return _step(actor, case, CaseState.RATED, "评价", apply)
