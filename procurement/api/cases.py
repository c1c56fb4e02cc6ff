"""Grid cases (网格事件) over the API, as the grid information platform pushes them: report a
case, then each step of its flow through `tasks.cases` — the service the case page calls, so
the same person-and-state rules refuse the same steps. Reads scoped as the case list is."""
import sqlalchemy as sa
from flask import request
from sqlalchemy.orm import joinedload

from procurement.accounts.roles import Role
from procurement.api import (body, bp, choice_arg, commit, datetime_arg, int_arg,
                             load, paged, respond, stamp, who, written)
from procurement.api import spec as s
from procurement.core.permissions import allow
from procurement.orgs.models import Grid
from procurement.tasks import cases
from procurement.tasks.models import GridCase
from procurement.tasks.permissions import can_view_case, visible_cases
from procurement.tasks.states import CaseCategory, CaseState, Urgency

AGENCY = Role.AGENCY_STAFF
OFFICE = (Role.CONTRACT_MANAGER, Role.LEADER)
REPORTERS = (AGENCY, Role.COMMITTEE_STAFF)
READERS = (*REPORTERS, *OFFICE, Role.FINANCE_OFFICER, Role.AUDITOR)

CASE = s.obj(
    id=s.integer(), number=s.string(), community_id=s.integer(), community=s.string(),
    grid_id=s.integer(), grid=s.string(), category=s.string(), urgency=s.string(),
    state=s.string(), state_label=s.string(), title=s.string(), description=s.string(),
    location=s.string(nullable=True), reporter=s.string(),
    reported_at=s.string("date-time"), due_at=s.string("date-time"), overdue=s.boolean(),
    verified_at=s.string("date-time", nullable=True),
    cancel_reason=s.string(nullable=True), cancelled_at=s.string("date-time", nullable=True),
    department=s.string(nullable=True), escalated_at=s.string("date-time", nullable=True),
    result=s.string(nullable=True), handled_at=s.string("date-time", nullable=True),
    feedback=s.string(nullable=True), fed_back_at=s.string("date-time", nullable=True),
    closed_at=s.string("date-time", nullable=True), rating=s.integer(nullable=True),
    rating_comment=s.string(nullable=True), rated_at=s.string("date-time", nullable=True))
ONE = s.obj(data=CASE)
STEP_TIMES = (GridCase.reported_at, GridCase.verified_at, GridCase.cancelled_at,
              GridCase.escalated_at, GridCase.handled_at, GridCase.fed_back_at,
              GridCase.closed_at, GridCase.rated_at)


def case_json(c: GridCase) -> dict:
    return {
        "id": c.id, "number": c.number, "community_id": c.community_id,
        "community": c.community.name, "grid_id": c.grid_id, "grid": c.grid.name,
        "category": c.category.value, "urgency": c.urgency.value, "state": c.state.value,
        "state_label": str(c.state.label), "title": c.title, "description": c.description,
        "location": c.location, "reporter": c.reporter.name,
        "reported_at": stamp(c.reported_at), "due_at": stamp(c.due_at),
        "overdue": cases.is_overdue(c), "verified_at": stamp(c.verified_at),
        "cancel_reason": c.cancel_reason, "cancelled_at": stamp(c.cancelled_at),
        "department": c.department, "escalated_at": stamp(c.escalated_at),
        "result": c.result, "handled_at": stamp(c.handled_at), "feedback": c.feedback,
        "fed_back_at": stamp(c.fed_back_at), "closed_at": stamp(c.closed_at),
        "rating": c.rating, "rating_comment": c.rating_comment, "rated_at": stamp(c.rated_at)}


def readable_case(case_id: int) -> GridCase:
    return load(GridCase, case_id, can_view_case)


@bp.route("/cases")
@allow(*READERS)
@s.operation("网格事件列表", s.page_of(CASE), tag="网格工作",
             params=(*s.PAGINATED, s.COMMUNITY,
                     s.param("state", "状态", s.string(enum=[m.value for m in CaseState])),
                     s.param("reported_since", "上报时间不早于（ISO 8601）", s.string("date-time")),
                     s.UPDATED_SINCE),
             description="范围与网格事件页面相同。")
def case_list():
    query = visible_cases(who())
    community_id = int_arg("community_id")
    if community_id is not None:
        query = query.where(GridCase.community_id == community_id)
    state = choice_arg("state", CaseState)
    if state is not None:
        query = query.where(GridCase.state == state)
    since = datetime_arg("reported_since")
    if since is not None:
        query = query.where(GridCase.reported_at >= since)
    changed = datetime_arg("updated_since")
    if changed is not None:  # any step taken since: each step stamps its own time
        query = query.where(sa.or_(*(column > changed for column in STEP_TIMES)))
    query = query.options(joinedload(GridCase.community), joinedload(GridCase.grid),
                          joinedload(GridCase.reporter)
                          ).order_by(GridCase.reported_at.desc(), GridCase.id.desc())
    return respond(paged(query, case_json))


@bp.route("/cases/<int:case_id>")
@allow(*READERS)
@s.operation("一件网格事件", ONE, tag="网格工作")
def case_detail(case_id: int):
    return respond({"data": case_json(readable_case(case_id))})


REPORT = [body.ref("grid_id", "网格", Grid, required=True),
          body.choice("category", "事件类别", CaseCategory, required=True),
          body.choice("urgency", "紧急程度", Urgency, required=True),
          body.text("title", "事件标题", 200, required=True),
          body.text("description", "事件描述", 5000, required=True),
          body.text("location", "发生地点", 200)]


@bp.route("/cases", methods=["POST"])
@allow(*REPORTERS)
@s.operation("上报网格事件", ONE, tag="网格工作", body=REPORT, status=201,
             description="承接该社区服务的机构人员或该社区居委会人员可以上报；"
                         "办结时限按紧急程度计算。")
def case_report():
    values = body.read(REPORT)
    grid = values.pop("grid_id")
    case = commit(lambda: cases.report(who(), grid=grid, **values))
    return written({"data": case_json(case)}, 201)


def _step(name: str, summary: str, roles, fields, operation, description: str = ""):
    """One step of a case's flow as POST /cases/<id>/<name>: the case must be readable
    (else 404), the body is read (a step without fields takes `{}` or nothing), the
    service decides."""
    def view(case_id: int):
        case = readable_case(case_id)
        values = body.read(fields) if fields or request.get_data(cache=True) else {}
        commit(lambda: operation(case, values))
        return written({"data": case_json(case)})

    view.__name__ = f"case_{name.replace('-', '_')}"
    view = s.operation(summary, ONE, tag="网格工作", body=fields, description=description)(view)
    view = allow(*roles)(view)
    bp.add_url_rule(f"/cases/<int:case_id>/{name}", view_func=view, methods=["POST"])


def _text(name: str, label: str, limit: int = 5000):
    return [body.text(name, label, limit, required=True)]


_step("verify", "核实事件", (AGENCY,), [], lambda c, v: cases.verify(who(), c))
_step("cancel", "撤销事件（写明原因）", (AGENCY,), _text("reason", "撤销原因"),
      lambda c, v: cases.cancel(who(), c, v["reason"]))
_step("handle", "登记就地处置结果", (AGENCY,), _text("result", "处置结果"),
      lambda c, v: cases.handle_on_spot(who(), c, v["result"]))
_step("escalate", "上报街道部门", (AGENCY,), _text("department", "承办部门", 100),
      lambda c, v: cases.escalate(who(), c, v["department"]))
_step("department-result", "登记街道部门的处置结果", OFFICE, _text("result", "处置结果"),
      lambda c, v: cases.record_department_result(who(), c, v["result"]))
_step("feed-back", "将处置结果反馈上报人", (AGENCY,), _text("feedback", "反馈内容"),
      lambda c, v: cases.feed_back(who(), c, v["feedback"]))
_step("close", "核查办结（不能由处置人本人）", (AGENCY, *OFFICE), [],
      lambda c, v: cases.close(who(), c))
_step("rate", "上报人评价处置（1–5 分）", REPORTERS,
      [body.count("rating", "评分", 1, 5, required=True), body.text("comment", "评价意见", 500)],
      lambda c, v: cases.rate(who(), c, v["rating"], v.get("comment")))
