"""Grid-case pages (网格事件): the list and its export, reporting a case, and the case page
with its timeline and the step forms the current user may use now. Views hold no rules:
every refusal is the services' message (procurement/tasks/cases.py)."""
import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from procurement.accounts.forms import ConfirmForm
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.contracts.models import Agreement, AgreementCommunity, Cooperation
from procurement.contracts.states import DocumentState
from procurement.core import clock
from procurement.core.pages import paginate, perform
from procurement.core.permissions import allow, require
from procurement.documents.excel import xlsx_response
from procurement.extensions import db
from procurement.orgs.models import Community, Grid
from procurement.tasks import cases
from procurement.tasks.forms import (CancelForm, CaseFilterForm, DepartmentResultForm,
                                     EscalateForm, FeedbackForm, HandleForm, RateForm,
                                     ReportForm)
from procurement.tasks.models import GridCase
from procurement.tasks.permissions import can_view_case, visible_cases
from procurement.tasks.states import CASE, OPEN_CASES, CaseCategory, CaseState, Urgency

bp = Blueprint("cases", __name__, url_prefix="/cases")

AGENCY = Role.AGENCY_STAFF
COMMITTEE = Role.COMMITTEE_STAFF
OFFICE = (Role.CONTRACT_MANAGER, Role.LEADER)
READERS = (AGENCY, COMMITTEE, *OFFICE, Role.FINANCE_OFFICER)
REPORTERS = (AGENCY, COMMITTEE)


def load(case_id: int) -> GridCase:
    case = db.get_or_404(GridCase, case_id)
    require(can_view_case(current_user, case))
    return case


# --- the list ------------------------------------------------------------------------------


def _filtered(form: CaseFilterForm):
    if not form.validate():
        return sa.select(GridCase).where(sa.false())
    query = visible_cases(current_user)
    if form.q.data:
        like = f"%{form.q.data}%"
        query = query.where(sa.or_(GridCase.number.ilike(like), GridCase.title.ilike(like)))
    if form.state.data:
        query = query.where(GridCase.state == CaseState(form.state.data))
    if form.urgency.data:
        query = query.where(GridCase.urgency == Urgency(form.urgency.data))
    if form.overdue.data:  # the same rule as cases.is_overdue, in SQL
        query = query.where(GridCase.state.in_(OPEN_CASES), GridCase.due_at < clock.now())
    # Every row shows its community, grid and reporter: load them with the cases.
    return query.options(joinedload(GridCase.community), joinedload(GridCase.grid),
                         joinedload(GridCase.reporter)).order_by(GridCase.reported_at.desc(),
                                                                 GridCase.id.desc())


@bp.route("/")
@allow(*READERS, read_only=[Role.AUDITOR])
def index():
    form = CaseFilterForm(request.args)
    page = paginate(_filtered(form))
    return render_template("cases/index.html", form=form, page=page,
                           is_overdue=cases.is_overdue)


@bp.route("/export.xlsx")
@allow(*READERS, read_only=[Role.AUDITOR])
def export():
    form = CaseFilterForm(request.args)
    found = db.session.scalars(_filtered(form)).all()

    def row(c: GridCase):
        return [c.number, c.title, c.community.name, c.grid.name, c.category.label,
                c.urgency.label, c.state.label, c.reporter.name, c.reported_at, c.due_at,
                "是" if cases.is_overdue(c) else "", c.department, c.result]

    return xlsx_response("网格事件", ["事件编号", "事件标题", "社区", "网格", "类别", "紧急程度", "状态",
                                  "上报人", "上报时间", "处置时限", "超时", "承办部门", "处置结果"],
                         (row(c) for c in found))


# --- reporting -----------------------------------------------------------------------------


def reportable_grids() -> list[tuple[int, str]]:
    """The grids the user may report for: an agency's staff those of the communities its
    agreement in force covers today, a residents' committee those of its own community.
    The service checks again."""
    communities = []
    if current_user.has_role(AGENCY):
        today = clock.today()
        communities.append(
            sa.select(AgreementCommunity.community_id)
            .join(Agreement, Agreement.id == AgreementCommunity.agreement_id)
            .join(Cooperation, Cooperation.id == Agreement.cooperation_id)
            .where(Cooperation.agency_id == current_user.org_id,
                   Agreement.state == DocumentState.IN_FORCE,
                   Agreement.start_date <= today, Agreement.end_date >= today))
    if current_user.has_role(COMMITTEE):
        communities.append(sa.select(Community.id)
                           .where(Community.committee_id == current_user.org_id))
    if not communities:
        return []
    rows = db.session.execute(
        sa.select(Grid.id, Grid.name, Community.name.label("community"))
        .join(Community, Community.id == Grid.community_id)
        .where(Community.active.is_(True),
               sa.or_(*[Community.id.in_(q) for q in communities]))
        .order_by(Community.name, Grid.number)).all()
    return [(r.id, f"{r.community} · {r.name}") for r in rows]


@bp.route("/new", methods=["GET", "POST"])
@allow(*REPORTERS)
def new():
    form = ReportForm(grids=reportable_grids())
    if form.validate_on_submit():
        grid = db.session.get(Grid, form.grid.data)
        case = perform(lambda: cases.report(
            current_user, grid=grid, category=CaseCategory(form.category.data),
            urgency=Urgency(form.urgency.data), title=form.title.data,
            description=form.description.data, location=form.location.data),
            lambda c: _("已上报网格事件 %(number)s。", number=c.number), form)
        if case:
            return redirect(url_for("cases.show", case_id=case.id))
    return render_template("cases/new.html", form=form)


# --- the case page -------------------------------------------------------------------------


def timeline(case: GridCase) -> list[dict]:
    """Each step with when it happened (the case's own times), who took it (the audit
    trail) and what was recorded."""
    steps_of = {  # state: (when, detail)
        CaseState.REPORTED: (case.reported_at, case.description),
        CaseState.VERIFIED: (case.verified_at, None),
        CaseState.CANCELLED: (case.cancelled_at, case.cancel_reason),
        CaseState.ESCALATED: (case.escalated_at, case.department),
        CaseState.HANDLED: (case.handled_at, case.result),
        CaseState.FED_BACK: (case.fed_back_at, case.feedback),
        CaseState.CLOSED: (case.closed_at, None),
        CaseState.RATED: (case.rated_at, (f"{case.rating} 分" + (
            f"：{case.rating_comment}" if case.rating_comment else "")) if case.rating else None),
    }
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.object_type == GridCase.__tablename__,
                                    AuditEntry.object_id == str(case.id),
                                    AuditEntry.action.like("case.%"))
        .order_by(AuditEntry.seq)).all()
    steps = []
    for entry in entries:
        try:
            state = CaseState(entry.action.removeprefix("case."))
        except ValueError:
            continue
        when, detail = steps_of[state]
        steps.append({"label": state.label, "who": entry.actor_name, "org": entry.actor_org,
                      "when": when or entry.occurred_at, "detail": detail})
    return steps


def available_actions(case: GridCase) -> set[str]:
    """Which step forms to show this user now: the state allows the step and the user is
    the kind of person the service lets take it. The service decides again on POST."""
    user, state = current_user, case.state
    agency = cases.is_serving_agency_staff(user, case)
    office = cases.is_office_staff(user, case)
    actions = set()
    if agency:
        for name, target in (("verify", CaseState.VERIFIED), ("cancel", CaseState.CANCELLED),
                             ("feed_back", CaseState.FED_BACK), ("escalate", CaseState.ESCALATED)):
            if CASE.allowed(state, target):
                actions.add(name)
        if state is CaseState.VERIFIED:
            actions.add("handle")
    if office and state is CaseState.ESCALATED:
        actions.add("department_result")
    if (agency or office) and CASE.allowed(state, CaseState.CLOSED) \
            and user.id != case.handler_id:
        actions.add("close")
    if user.id == case.reporter_id and CASE.allowed(state, CaseState.RATED):
        actions.add("rate")
    return actions


def render_case(case: GridCase, status: int = 200, **forms):
    actions = available_actions(case)
    defaults = {"cancel": CancelForm, "handle": HandleForm, "escalate": EscalateForm,
                "department_result": DepartmentResultForm, "feed_back": FeedbackForm,
                "rate": RateForm}
    shown = {name: forms.get(name) or factory() for name, factory in defaults.items()
             if name in actions}
    return render_template(
        "cases/show.html", case=case, steps=timeline(case), overdue=cases.is_overdue(case),
        actions=actions, forms=shown, confirm=ConfirmForm(),
        handler_may_not_close=(CASE.allowed(case.state, CaseState.CLOSED)
                               and current_user.id == case.handler_id)), status


@bp.route("/<int:case_id>")
@allow(*READERS, read_only=[Role.AUDITOR])
def show(case_id: int):
    return render_case(load(case_id))


def _step(case_id: int, form_class, name: str, operation, done: str):
    """Load and check the case, validate the step's form and run the service through
    perform; back to the case page on success, the page with the message otherwise."""
    case = load(case_id)
    form = form_class()
    if form.validate_on_submit() and perform(lambda: operation(case, form), done, form):
        return redirect(url_for("cases.show", case_id=case.id))
    db.session.refresh(case)
    if name in ("verify", "close"):
        return render_case(case)
    return render_case(case, **{name: form})


@bp.route("/<int:case_id>/verify", methods=["POST"])
@allow(AGENCY)
def verify(case_id: int):
    return _step(case_id, ConfirmForm, "verify",
                 lambda case, form: cases.verify(current_user, case), _("事件已核实。"))


@bp.route("/<int:case_id>/cancel", methods=["POST"])
@allow(AGENCY)
def cancel(case_id: int):
    return _step(case_id, CancelForm, "cancel",
                 lambda case, form: cases.cancel(current_user, case, form.reason.data),
                 _("事件已撤销。"))


@bp.route("/<int:case_id>/handle", methods=["POST"])
@allow(AGENCY)
def handle(case_id: int):
    return _step(case_id, HandleForm, "handle",
                 lambda case, form: cases.handle_on_spot(current_user, case, form.result.data),
                 _("已登记就地处置结果。"))


@bp.route("/<int:case_id>/escalate", methods=["POST"])
@allow(AGENCY)
def escalate(case_id: int):
    return _step(case_id, EscalateForm, "escalate",
                 lambda case, form: cases.escalate(current_user, case, form.department.data),
                 _("事件已上报街道部门。"))


@bp.route("/<int:case_id>/department-result", methods=["POST"])
@allow(*OFFICE)
def department_result(case_id: int):
    return _step(case_id, DepartmentResultForm, "department_result",
                 lambda case, form: cases.record_department_result(current_user, case,
                                                                   form.result.data),
                 _("已登记部门处置结果。"))


@bp.route("/<int:case_id>/feed-back", methods=["POST"])
@allow(AGENCY)
def feed_back(case_id: int):
    return _step(case_id, FeedbackForm, "feed_back",
                 lambda case, form: cases.feed_back(current_user, case, form.feedback.data),
                 _("已将处置结果反馈上报人。"))


@bp.route("/<int:case_id>/close", methods=["POST"])
@allow(AGENCY, *OFFICE)
def close(case_id: int):
    return _step(case_id, ConfirmForm, "close",
                 lambda case, form: cases.close(current_user, case), _("事件已核查办结。"))


@bp.route("/<int:case_id>/rate", methods=["POST"])
@allow(*REPORTERS)
def rate(case_id: int):
    return _step(case_id, RateForm, "rate",
                 lambda case, form: cases.rate(current_user, case, form.rating.data,
                                               form.comment.data),
                 _("已评价。"))
