"""Score sheets: filling in, submitting and reviewing one source's evaluation, evidence
files, indicator sets.

"我的评分" lists the sheets the user rates now (evaluations/todos.worklist) and, for the
street office, the self-assessments waiting for review. A sheet is filled in on a page
addressed by its agreement, period, community and source (quarters are stored the first
time a sheet is saved, so they have no id before); "提交" saves and submits in one unit of
work. The sheet page shows the scores, the frozen completion summary and the evidence, and
the review forms. Views hold no rules: every refusal is the services' message
(evaluations/sheets.py, evaluations/plan.py)."""
from collections import OrderedDict
from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.contracts.models import Agreement
from procurement.contracts.states import EvaluationSource as Src
from procurement.core import clock
from procurement.core.pages import paginate, perform
from procurement.core.permissions import allow, require
from procurement.documents import storage
from procurement.evaluations import plan, sheets
from procurement.evaluations.models import EvaluationFile, EvaluationPeriod, EvaluationSheet
from procurement.evaluations.permissions import (can_manage, can_plan, can_rate, can_view,
                                                 can_view_sheet)
from procurement.evaluations.scoring import is_final
from procurement.evaluations.sheet_forms import (AcceptForm, IndicatorSetForm, ReturnForm,
                                                 ReviewPeriodForm, fill_form, indicator_rows,
                                                 layout_of)
from procurement.evaluations.states import SHEET_SOURCES, PeriodKind, SheetState
from procurement.evaluations.todos import (EDITABLE, RATER_ROLES, awaiting_review,
                                           rated_agreements, worklist)
from procurement.extensions import db
from procurement.tasks import completion
from procurement.tasks.completion import Status

bp = Blueprint("sheets", __name__, url_prefix="/evaluations/sheets")

OFFICE = (Role.CONTRACT_MANAGER, Role.LEADER)
READERS = (*RATER_ROLES, Role.FINANCE_OFFICER)
AGREEMENTS_PER_PAGE = 5
REVIEWS_SHOWN = 50
HISTORY = ("evaluation.submit", "evaluation.accepted", "evaluation.returned")
STATUS_STYLE = {Status.DONE: "success", Status.ON_TRACK: "primary", Status.AT_RISK: "warning",
                Status.OVERDUE: "danger", Status.NOT_STARTED: "secondary",
                Status.NO_TARGET: "light"}


def num(value) -> str:
    """A score or maximum as typed: 30, 28.5 (never 3E+1)."""
    return "" if value is None else f"{Decimal(value).normalize():f}"


@bp.context_processor
def helpers():
    return {"num": num, "size": storage.readable_size}


# --- 我的评分 ------------------------------------------------------------------------------


@bp.route("/")
@allow(*RATER_ROLES)
def index():
    page = paginate(rated_agreements(current_user), per_page=AGREEMENTS_PER_PAGE)
    slots = worklist(current_user, page.items)
    by_agreement = OrderedDict((a.id, (a, [])) for a in page.items)
    for slot in slots:
        by_agreement[slot.agreement.id][1].append(slot)
    reviews = db.session.scalars(
        awaiting_review(current_user)
        .options(joinedload(EvaluationSheet.community),
                 joinedload(EvaluationSheet.period).joinedload(EvaluationPeriod.agreement),
                 joinedload(EvaluationSheet.author))
        .order_by(EvaluationSheet.submitted_at, EvaluationSheet.id)
        .limit(REVIEWS_SHOWN + 1)).all()
    return render_template("sheets/index.html", page=page, groups=list(by_agreement.values()),
                           reviews=reviews[:REVIEWS_SHOWN],
                           more_reviews=len(reviews) > REVIEWS_SHOWN,
                           office=current_user.has_role(*OFFICE), sources=SHEET_SOURCES)


# --- filling in a sheet --------------------------------------------------------------------


def _source(value: str) -> Src:
    try:
        source = Src(value)
    except ValueError:
        abort(404)
    if source not in SHEET_SOURCES:
        abort(404)  # the residents answer the survey: no sheet
    return source


def _slot(agreement_id: int, kind: str, number: int, community_id: int, source: str):
    """The agreement, period, community and source of a fill page; 403 unless the user
    rates that source for that community."""
    agreement = db.get_or_404(Agreement, agreement_id)
    source = _source(source)
    try:
        kind = PeriodKind(kind)
    except ValueError:
        abort(404)
    community = next((row.community for row in agreement.communities
                      if row.community_id == community_id), None)
    if community is None:
        abort(404)
    require(can_rate(current_user, agreement, community, source))
    period = next((p for p in plan.periods(agreement)
                   if p.kind is kind and p.number == number), None)
    if period is None:
        abort(404)
    return agreement, period, community, source


@bp.route("/agreements/<int:agreement_id>/<kind>/<int:number>/<int:community_id>/<source>",
          methods=["GET", "POST"])
@allow(*RATER_ROLES)
def fill(agreement_id: int, kind: str, number: int, community_id: int, source: str):
    args = (agreement_id, kind, number, community_id, source)
    agreement, period, community, src = _slot(*args)
    sheet = sheets.sheet_for(period, community, src)
    if sheet is not None and sheet.state not in EDITABLE:
        return redirect(url_for("sheets.show", sheet_id=sheet.id))
    indicators = plan.indicator_set(agreement, src).indicators
    posted = request.method == "POST"
    form = fill_form(indicators, src, None if posted else sheet)
    if form.validate_on_submit():
        if not form.drawn_for(indicators):
            flash(_("评估指标已调整，请核对各项得分后重新保存。"), "danger")
        else:
            submitting = form.wants_submit()
            scores = {i.id: form.score(n).data for n, i in enumerate(indicators)}
            uploads = [f for f in (form.files.data or []) if getattr(f, "filename", "")]
            narrative, opinions = form.narrative.data, form.opinions.data

            def operation():
                # Save, attach and submit together: a refusal at any step leaves nothing.
                saved = sheets.save(current_user, period, community, src, scores=scores,
                                    narrative=narrative, opinions=opinions)
                if uploads and src is Src.SELF:
                    sheets.attach(current_user, saved, uploads)
                return sheets.submit(current_user, saved) if submitting else saved

            done = perform(operation, _("评分表已提交。") if submitting else _("已保存草稿。"), form)
            if done is not None:
                if submitting:
                    return redirect(url_for("sheets.show", sheet_id=done.id))
                return redirect(url_for("sheets.fill", agreement_id=agreement_id, kind=kind,
                                        number=number, community_id=community_id,
                                        source=source))
        # Refused: the transaction was rolled back; read everything again for the page.
        agreement, period, community, src = _slot(*args)
        sheet = sheets.sheet_for(period, community, src)
        indicators = plan.indicator_set(agreement, src).indicators
    form.layout.data = layout_of(indicators)
    summary = None
    if src is Src.SELF and period.kind is PeriodKind.QUARTER:
        summary = completion.quarter_summary(agreement, community, period.number)
    today = clock.today()
    return render_template(
        "sheets/fill.html", agreement=agreement, period=period, community=community,
        source=src, sheet=sheet, form=form, groups=_grouped(indicators), summary=summary,
        style=STATUS_STYLE, final=is_final(period, community),
        not_started=today < period.start_date,
        late=src is Src.SELF and today > period.self_due,
        max_total=sum((i.max_score for i in indicators), Decimal(0)))


def _grouped(indicators) -> list[tuple[str, list[tuple[int, object]]]]:
    """Indicators by dimension, in their order, each with its position (its input's name)."""
    groups: OrderedDict[str, list] = OrderedDict()
    for position, indicator in enumerate(indicators):
        groups.setdefault(indicator.dimension, []).append((position, indicator))
    return list(groups.items())


# --- the sheet page and its review ---------------------------------------------------------


def _load_sheet(sheet_id: int) -> EvaluationSheet:
    sheet = db.session.scalar(
        sa.select(EvaluationSheet).where(EvaluationSheet.id == sheet_id)
        .options(joinedload(EvaluationSheet.period).joinedload(EvaluationPeriod.agreement)
                 .joinedload(Agreement.cooperation),
                 joinedload(EvaluationSheet.community),
                 selectinload(EvaluationSheet.files).joinedload(EvaluationFile.file),
                 selectinload(EvaluationSheet.scores)))
    if sheet is None:
        abort(404)
    require(can_view_sheet(current_user, sheet))
    return sheet


def _render_show(sheet: EvaluationSheet, accept: AcceptForm | None = None,
                 send_back: ReturnForm | None = None):
    agreement, community = sheet.period.agreement, sheet.community
    indicators = plan.indicator_set(agreement, sheet.source).indicators
    scores = {s.indicator_id: s.score for s in sheet.scores}
    groups = []
    for dimension, rows in _grouped(indicators):
        items = [(indicator, scores.get(indicator.id)) for position, indicator in rows]
        groups.append((dimension, items,
                       sum((score for i, score in items if score is not None), Decimal(0)),
                       sum((i.max_score for i, score in items), Decimal(0))))
    history = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.object_type == EvaluationSheet.__tablename__,
                                    AuditEntry.object_id == str(sheet.id),
                                    AuditEntry.action.in_(HISTORY))
        .order_by(AuditEntry.seq)).all()
    final = is_final(sheet.period, community)
    reviewable = (sheet.source is Src.SELF and sheet.state is SheetState.SUBMITTED
                  and not final and can_manage(current_user, agreement))
    editable = (sheet.state in EDITABLE and not final
                and can_rate(current_user, agreement, community, sheet.source))
    return render_template(
        "sheets/show.html", sheet=sheet, agreement=agreement, community=community,
        groups=groups, points=sum(scores.values(), Decimal(0)),
        max_total=sum((i.max_score for i in indicators), Decimal(0)), history=history,
        final=final, reviewable=reviewable, editable=editable,
        accept=accept or AcceptForm(prefix="accept"),
        send_back=send_back or ReturnForm(prefix="return"),
        fill_url=url_for("sheets.fill", agreement_id=agreement.id,
                         kind=sheet.period.kind.value, number=sheet.period.number,
                         community_id=community.id, source=sheet.source.value))


@bp.route("/<int:sheet_id>")
@allow(*READERS, read_only=[Role.AUDITOR])
def show(sheet_id: int):
    return _render_show(_load_sheet(sheet_id))


@bp.route("/<int:sheet_id>/files/<int:evidence_id>")
@allow(*READERS, read_only=[Role.AUDITOR])
def download(sheet_id: int, evidence_id: int):
    evidence = db.get_or_404(EvaluationFile, evidence_id)
    if evidence.sheet_id != sheet_id:
        abort(404)
    _load_sheet(sheet_id)
    return storage.send(evidence.file)


@bp.route("/<int:sheet_id>/accept", methods=["POST"])
@allow(*OFFICE)
def accept(sheet_id: int):
    sheet = _load_sheet(sheet_id)
    form = AcceptForm(prefix="accept")
    if form.validate_on_submit() and perform(
            lambda: sheets.accept(current_user, sheet, form.comment.data),
            _("机构自评已审核通过。"), form):
        return redirect(url_for("sheets.show", sheet_id=sheet.id))
    return _render_show(_load_sheet(sheet_id), accept=form)


@bp.route("/<int:sheet_id>/return", methods=["POST"])
@allow(*OFFICE)
def return_for_revision(sheet_id: int):
    sheet = _load_sheet(sheet_id)
    form = ReturnForm(prefix="return")
    if form.validate_on_submit() and perform(
            lambda: sheets.return_for_revision(current_user, sheet, form.comment.data),
            _("机构自评已退回修改。"), form):
        return redirect(url_for("sheets.show", sheet_id=sheet.id))
    return _render_show(_load_sheet(sheet_id), send_back=form)


# --- indicator sets and the mid-term and final evaluations ---------------------------------


def _plan_of(agreement_id: int, source: str) -> tuple[Agreement, Src]:
    agreement = db.get_or_404(Agreement, agreement_id)
    source = _source(source)
    require(can_view(current_user, agreement))
    return agreement, source


def _render_indicators(agreement: Agreement, source: Src, form: IndicatorSetForm | None = None):
    current = plan.indicator_set(agreement, source)
    editable = current.locked_at is None and can_plan(current_user, agreement)
    if editable and form is None:
        form = IndicatorSetForm(data={"indicators": indicator_rows(current.indicators)})
    return render_template(
        "sheets/indicators.html", agreement=agreement, source=source, current=current,
        groups=_grouped(current.indicators), editable=editable, form=form,
        sources=SHEET_SOURCES, weights=plan.weights_of(agreement))


@bp.route("/agreements/<int:agreement_id>/indicators/<source>")
@allow(*READERS, read_only=[Role.AUDITOR])
def indicators(agreement_id: int, source: str):
    agreement, source = _plan_of(agreement_id, source)
    return _render_indicators(agreement, source)


@bp.route("/agreements/<int:agreement_id>/indicators/<source>", methods=["POST"])
@allow(Role.CONTRACT_MANAGER)
def edit_indicators(agreement_id: int, source: str):
    agreement, src = _plan_of(agreement_id, source)
    form = IndicatorSetForm()
    if form.validate_on_submit():
        specs = form.specs()
        if perform(lambda: plan.update_indicators(current_user, agreement, src, specs),
                   lambda s: _("已保存%(source)s指标：%(n)s 项，满分合计 %(total)s。",
                               source=src.label, n=len(s.indicators),
                               total=f"{s.max_total.normalize():f}"), form):
            return redirect(url_for("sheets.indicators", agreement_id=agreement_id,
                                    source=source))
    return _render_indicators(db.get_or_404(Agreement, agreement_id), src, form)


@bp.route("/agreements/<int:agreement_id>/reviews/new", methods=["GET", "POST"])
@allow(Role.CONTRACT_MANAGER)
def add_review(agreement_id: int):
    agreement = db.get_or_404(Agreement, agreement_id)
    require(can_plan(current_user, agreement))
    form = ReviewPeriodForm()
    if form.validate_on_submit():
        period = perform(
            lambda: plan.add_review(current_user, agreement, PeriodKind(form.kind.data),
                                    form.start_date.data, form.end_date.data),
            lambda p: _("已安排%(label)s：%(start)s 至 %(end)s。", label=p.label,
                        start=p.start_date.isoformat(), end=p.end_date.isoformat()), form)
        if period is not None:
            return redirect(url_for("sheets.add_review", agreement_id=agreement_id))
        agreement = db.get_or_404(Agreement, agreement_id)
    scheduled = db.session.scalars(
        sa.select(EvaluationPeriod).join(Agreement, Agreement.id == EvaluationPeriod.agreement_id)
        .where(Agreement.cooperation_id == agreement.cooperation_id,
               EvaluationPeriod.kind != PeriodKind.QUARTER)
        .options(joinedload(EvaluationPeriod.agreement))
        .order_by(EvaluationPeriod.start_date)).all()
    return render_template("sheets/add_review.html", agreement=agreement, form=form,
                           scheduled=scheduled)
