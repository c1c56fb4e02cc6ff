"""Evaluations per agreement and community: scores by source and dimension over the periods,
what is missing and who must act, finalising, the report PDF and Excel. Views hold no rules:
who reads which community is permissions.can_view (and overview.readable_communities, its SQL
form); whether a period may be finalised is scoring.finalise's."""
import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from procurement.accounts.roles import Role
from procurement.contracts.models import Agreement, Cooperation
from procurement.contracts.states import DocumentState
from procurement.core.pages import paginate, perform
from procurement.core.permissions import allow, require
from procurement.documents.excel import xlsx_response
from procurement.documents.pdf import pdf_response
from procurement.evaluations import overview, scoring
from procurement.evaluations.forms import FinaliseForm
from procurement.evaluations.models import EvaluationPeriod
from procurement.evaluations.permissions import can_manage, can_rate, can_view
from procurement.evaluations.report import report_context
from procurement.evaluations.states import SHEET_SOURCES, SheetState
from procurement.extensions import db
from procurement.tasks.permissions import visible_agreements

bp = Blueprint("evaluations", __name__, url_prefix="/evaluations")

MANAGERS = (Role.CONTRACT_MANAGER, Role.LEADER)
# A sheet its rater may still change (a draft, or a self-assessment returned for revision).
EDITABLE = (SheetState.DRAFT, SheetState.RETURNED)
READERS = (Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, *MANAGERS, Role.FINANCE_OFFICER,
           Role.UNIVERSITY_EVALUATOR)


def load(agreement_id: int) -> Agreement:
    # With its cooperation, which the permission check reads.
    agreement = db.session.scalar(sa.select(Agreement).where(Agreement.id == agreement_id)
                                  .options(joinedload(Agreement.cooperation)))
    if agreement is None:
        abort(404)
    require(can_view(current_user, agreement))
    return agreement


def load_period(agreement_id: int, period_id: int, community_id: int):
    """The agreement, one of its periods and one of its communities the user reads: 404 for
    a period or community of another agreement, 403 for a community the user may not read."""
    agreement = load(agreement_id)
    period = db.get_or_404(EvaluationPeriod, period_id)
    row = next((c for c in agreement.communities if c.community_id == community_id), None)
    if period.agreement_id != agreement.id or row is None:
        abort(404)
    require(can_view(current_user, agreement, row.community))
    return agreement, period, row.community


def _prefix(period_id: int, community_id: int) -> str:
    return f"p{period_id}c{community_id}"


@bp.route("/")
@allow(*READERS, read_only=[Role.AUDITOR])
def index():
    query = (visible_agreements(current_user)
             .where(Agreement.state == DocumentState.IN_FORCE)
             .options(joinedload(Agreement.cooperation).joinedload(Cooperation.agency))
             .order_by(Agreement.start_date.desc(), Agreement.id.desc()))
    page = paginate(query)
    latest = overview.latest_results(current_user, [a.id for a in page.items])
    return render_template("evaluations/index.html", page=page, latest=latest)


def render_agreement(agreement: Agreement, forms: dict | None = None):
    """The agreement page; `forms` holds a posted finalise form to show with its message."""
    communities = overview.communities_of(current_user, agreement)
    if agreement.state is not DocumentState.IN_FORCE:
        return render_template("evaluations/agreement.html", agreement=agreement, board=None,
                               communities=communities)
    board = overview.board(agreement, communities)
    shares = overview.dimension_shares(board.periods, [c.id for c in communities])
    # The sheets this user fills in: their cells link to the fill page.
    rates = {(c.id, s) for c in communities for s in SHEET_SOURCES
             if can_rate(current_user, agreement, c, s)}
    finalise_forms = {}
    if can_manage(current_user, agreement):
        for rows in board.rows.values():
            for row in rows:
                if row.ended and not row.final:
                    key = (row.period.id, row.community.id)
                    finalise_forms[key] = (forms or {}).get(key) or FinaliseForm(
                        prefix=_prefix(*key), formdata=None)
    return render_template("evaluations/agreement.html", agreement=agreement, board=board,
                           communities=communities, shares=shares, forms=finalise_forms, rates=rates,
                           editable=EDITABLE,
                           percent=overview.percent, prefix=_prefix)


@bp.route("/<int:agreement_id>")
@allow(*READERS, read_only=[Role.AUDITOR])
def agreement(agreement_id: int):
    return render_agreement(load(agreement_id))


@bp.route("/<int:agreement_id>/periods/<int:period_id>/communities/<int:community_id>/finalise",
          methods=["POST"])
@allow(*MANAGERS)
def finalise(agreement_id: int, period_id: int, community_id: int):
    agreement, period, community = load_period(agreement_id, period_id, community_id)
    require(can_manage(current_user, agreement))
    form = FinaliseForm(prefix=_prefix(period.id, community.id))
    if form.validate_on_submit() and perform(
            lambda: scoring.finalise(current_user, period, community,
                                     reweight_reason=form.reweight_reason.data or None),
            lambda result: _("已确定%(community)s%(period)s的评估结果：综合得分 %(score)s，%(grade)s。",
                             community=community.name, period=period.label,
                             score=result.composite, grade=result.grade.label), form):
        return redirect(url_for("evaluations.agreement", agreement_id=agreement.id,
                                _anchor=f"community-{community.id}"))
    return render_agreement(agreement, {(period.id, community.id): form})


@bp.route("/<int:agreement_id>/periods/<int:period_id>/communities/<int:community_id>/report.pdf")
@allow(*READERS, read_only=[Role.AUDITOR])
def report_pdf(agreement_id: int, period_id: int, community_id: int):
    agreement, period, community = load_period(agreement_id, period_id, community_id)
    return pdf_response("pdf/evaluation_period_report.html",
                        f"评估报告-{agreement.number}-{community.name}-{period.label}.pdf",
                        **report_context(period, community))


# --- Excel ---------------------------------------------------------------------------------


def _board_of(agreement_id: int) -> overview.Board:
    agreement = load(agreement_id)
    if agreement.state is not DocumentState.IN_FORCE:
        abort(404)
    return overview.board(agreement, overview.communities_of(current_user, agreement))


@bp.route("/<int:agreement_id>/export.xlsx")
@allow(*READERS, read_only=[Role.AUDITOR])
def export(agreement_id: int):
    """One row per period, community and source, with the period's composite and grade."""
    board = _board_of(agreement_id)

    def rows():
        for community in board.communities:
            for row in board.rows[community.id]:
                outcome = (_("已确定") if row.final else _("暂计") if row.provisional is not None
                           else "")
                grade = (row.result.grade.label if row.final else
                         row.provisional_grade.label if row.provisional_grade else "")
                for cell in row.cells:
                    total = (cell.survey.score if cell.survey else None) if cell.sheet is None \
                        else (cell.sheet.total if cell.readable else None)
                    yield [row.period.label, f"{row.period.start_date}—{row.period.end_date}",
                           community.name, cell.source.label,
                           overview.percent(cell.weight) if cell.weight else "",
                           cell.status, _("是") if cell.late else "", total,
                           _("是") if cell.weight and cell.score is not None else "",
                           row.composite, grade, outcome]

    return xlsx_response(
        f"{board.agreement.number}评估汇总",
        ["评估期间", "起止日期", "社区", "来源", "权重", "状态", "迟交", "得分（百分制）",
         "计入综合得分", "综合得分", "等级", "结果"], rows())


@bp.route("/<int:agreement_id>/indicators.xlsx")
@allow(*READERS, read_only=[Role.AUDITOR])
def export_indicators(agreement_id: int):
    """One row per indicator of every submitted sheet."""
    board = _board_of(agreement_id)
    periods = {p.id: p for p in board.periods}
    names = {c.id: c.name for c in board.communities}
    found = overview.indicator_rows(board.periods, list(names))

    def rows():
        for r in found:
            yield [periods[r.period_id].label, names[r.community_id], r.source.label,
                   r.state.label, r.dimension, r.name, r.score, r.max_score]

    return xlsx_response(f"{board.agreement.number}指标得分",
                         ["评估期间", "社区", "来源", "状态", "维度", "指标", "得分", "满分"],
                         rows())
