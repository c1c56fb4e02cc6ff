"""The service task list per agreement and community, and its completion: the list with
each target, drawing it up and editing a target while the agreement is a draft, the
completion table per task, grid and quarter (computed from the records), the quarter summary
the evaluation reads, a chart of completion by quarter and the Excel export."""
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from procurement.accounts.forms import ConfirmForm
from procurement.accounts.roles import Role
from procurement.contracts.models import Agreement, Cooperation
from procurement.core.pages import paginate, perform
from procurement.core.permissions import allow, require
from procurement.documents.excel import xlsx_response
from procurement.extensions import db
from procurement.tasks import completion, task_list
from procurement.tasks.completion import Status
from procurement.tasks.models import ServiceTask
from procurement.tasks.permissions import (can_view_agreement_work, reads_every_community,
                                           visible_agreements)
from procurement.tasks.states import Frequency, Measure, Population
from procurement.tasks.work_forms import TaskForm

bp = Blueprint("work", __name__, url_prefix="/work")

READERS = (Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
           Role.FINANCE_OFFICER, Role.UNIVERSITY_EVALUATOR)
STATUS_STYLE = {Status.DONE: "success", Status.ON_TRACK: "primary", Status.AT_RISK: "warning",
                Status.OVERDUE: "danger", Status.NOT_STARTED: "secondary",
                Status.NO_TARGET: "light"}


def load(agreement_id: int) -> Agreement:
    agreement = db.get_or_404(Agreement, agreement_id)
    require(can_view_agreement_work(current_user, agreement))
    return agreement


def load_community(agreement: Agreement, community_id: int):
    row = next((c for c in agreement.communities if c.community_id == community_id), None)
    if row is None:
        abort(404)
    # A residents' committee reads its own community only.
    require(reads_every_community(current_user, agreement)
            or row.community.committee_id == current_user.org_id)
    return row.community


def _communities(agreement: Agreement):
    rows = [row.community for row in agreement.communities]
    if reads_every_community(current_user, agreement):
        return rows
    return [c for c in rows if c.committee_id == current_user.org_id]


@bp.route("/")
@allow(*READERS, read_only=[Role.AUDITOR])
def index():
    query = visible_agreements(current_user).options(
        joinedload(Agreement.cooperation).joinedload(Cooperation.agency),
        selectinload(Agreement.communities),
    ).order_by(Agreement.start_date.desc(), Agreement.id.desc())
    page = paginate(query)
    return render_template("work/index.html", page=page)


@bp.route("/<int:agreement_id>")
@allow(*READERS, read_only=[Role.AUDITOR])
def agreement(agreement_id: int):
    agreement = load(agreement_id)
    communities = _communities(agreement)
    overview = []
    books = completion.ledgers([(agreement, community) for community in communities])
    # Each ledger holds its community's task list (in list order): no query per community.
    tasks = {c.id: book.tasks for c, book in zip(communities, books)}
    for community, book in zip(communities, books):
        per_quarter = [completion.overall([book.progress(t, (q.start, q.end)) for t in book.tasks])
                       for q in book.quarters]
        overview.append((community, book.quarters, per_quarter, len(completion.alerts(book))))
    return render_template("work/agreement.html", agreement=agreement, tasks=tasks,
                           overview=overview, describe=task_list.describe,
                           editable=agreement.state.value == "draft",
                           form=ConfirmForm())


@bp.route("/<int:agreement_id>/draw-up", methods=["POST"])
@allow(Role.CONTRACT_MANAGER)
def draw_up(agreement_id: int):
    agreement = load(agreement_id)
    if ConfirmForm().validate_on_submit():
        perform(lambda: task_list.draw_up(current_user, agreement),
                lambda created: _("已编制服务清单：%(n)s 项任务。", n=len(created)))
    return redirect(url_for("work.agreement", agreement_id=agreement.id))


@bp.route("/tasks/<int:task_id>/edit", methods=["GET", "POST"])
@allow(Role.CONTRACT_MANAGER)
def edit_task(task_id: int):
    task = db.get_or_404(ServiceTask, task_id)
    require(can_view_agreement_work(current_user, task.agreement))
    form = TaskForm(obj=None if _posted() else task)
    if not _posted():
        form.measure.data, form.frequency.data = task.measure.value, task.frequency.value
        form.population.data = task.population.value if task.population else ""
    if form.validate_on_submit():
        target = task_list.Target(
            Measure(form.measure.data), Frequency(form.frequency.data),
            Population(form.population.data) if form.population.data else None,
            form.quantity.data, form.within_months.data, form.per_grid.data)
        done = perform(lambda: task_list.update_task(current_user, task, title=form.title.data,
                                                     description=form.description.data,
                                                     target=target),
                       _("已保存任务目标。"), form)
        if done:
            return redirect(url_for("work.agreement", agreement_id=task.agreement_id))
    return render_template("work/edit_task.html", task=task, form=form)


def _posted() -> bool:
    return request.method == "POST"


@bp.route("/<int:agreement_id>/communities/<int:community_id>")
@allow(*READERS, read_only=[Role.AUDITOR])
def community(agreement_id: int, community_id: int):
    agreement = load(agreement_id)
    community = load_community(agreement, community_id)
    book = completion.ledger(agreement, community)
    return render_template("work/community.html", agreement=agreement, community=community,
                           book=book, rows=completion.table(book), alerts=completion.alerts(book),
                           style=STATUS_STYLE)


@bp.route("/<int:agreement_id>/communities/<int:community_id>/quarters/<int:number>")
@allow(*READERS, read_only=[Role.AUDITOR])
def quarter(agreement_id: int, community_id: int, number: int):
    agreement = load(agreement_id)
    community = load_community(agreement, community_id)
    if not 1 <= number <= len(completion.quarters(agreement.start_date, agreement.end_date)):
        abort(404)
    summary = completion.quarter_summary(agreement, community, number)
    return render_template("work/quarter.html", agreement=agreement, community=community,
                           summary=summary, style=STATUS_STYLE)


@bp.route("/<int:agreement_id>/communities/<int:community_id>/export.xlsx")
@allow(*READERS, read_only=[Role.AUDITOR])
def export(agreement_id: int, community_id: int):
    agreement = load(agreement_id)
    community = load_community(agreement, community_id)
    book = completion.ledger(agreement, community)
    headers = ["任务", "目标", "范围"]
    for q in book.quarters:
        headers += [f"{q.label}完成", f"{q.label}目标", f"{q.label}完成率%", f"{q.label}状态"]
    headers += ["全年完成", "全年目标", "全年完成率%", "全年状态"]

    def cells(progress):
        return [progress.done, progress.target, progress.percent, progress.status.label]

    def rows():
        for row in completion.table(book):
            yield [row.task.title, row.target, community.name,
                   *[c for p in row.quarters for c in cells(p)], *cells(row.year)]
            for grid, per_quarter in row.grids:
                yield [row.task.title, row.target, grid.name,
                       *[c for p in per_quarter for c in cells(p)], "", "", "", ""]

    return xlsx_response(f"{community.name}服务清单完成情况", headers, rows())

