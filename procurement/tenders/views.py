"""Tendering, street office side: the list and its export, creating and editing a draft,
the tender page, tender documents and the evaluation report. The actions on the tender page
are in `officer_views.py` (same blueprint)."""
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from procurement.accounts.roles import Role
from procurement.core.money import from_fen
from procurement.core.pages import paginate, perform
from procurement.core.permissions import allow, require
from procurement.documents import storage
from procurement.documents.excel import xlsx_response
from procurement.extensions import db
from procurement.orgs.models import Community
from procurement.tenders import services
from procurement.tenders.forms import (DEFAULT_CRITERIA, TenderFilterForm, TenderForm,
                                       criterion_rows)
from procurement.tenders.models import Bid, Tender, TenderDocument
from procurement.tenders.officer_page import render_show
from procurement.tenders.permissions import (can_create_tender, can_manage, can_view_tender,
                                              is_opened, is_overseer)
from procurement.tenders.states import BidState, TenderMethod, TenderState

bp = Blueprint("tenders", __name__, url_prefix="/tenders")

OFFICE_READERS = (Role.LEADER, Role.AUDITOR, Role.CONTRACT_MANAGER)
# Tender documents are downloaded by everyone who may see the tender: bidders and judges too.
DOCUMENT_READERS = (*OFFICE_READERS, Role.AGENCY_STAFF, Role.JUDGE)


def load(tender_id: int) -> Tender:
    return db.get_or_404(Tender, tender_id)


def managed(tender_id: int) -> Tender:
    tender = load(tender_id)
    require(can_manage(current_user, tender))
    return tender


# --- the list ----------------------------------------------------------------------------


def _visible():
    """The tenders the user may see, as a query (mirrors permissions.can_view_tender for the
    street office's readers: auditors see all, the office its own, a contract manager only
    the published ones)."""
    query = sa.select(Tender)
    if current_user.has_role(Role.AUDITOR):
        return query
    query = query.where(Tender.street_office_id == current_user.org_id)
    if not current_user.has_role(Role.TENDER_OFFICER, Role.LEADER):
        query = query.where(Tender.published_at.is_not(None))
    return query


def _filtered(form: TenderFilterForm):
    if not form.validate():
        return sa.select(Tender).where(sa.false())
    query = _visible()
    if form.q.data:
        like = f"%{form.q.data}%"
        query = query.where(sa.or_(Tender.number.ilike(like), Tender.title.ilike(like)))
    if form.state.data:
        query = query.where(Tender.state == TenderState(form.state.data))
    if form.method.data:
        query = query.where(Tender.method == TenderMethod(form.method.data))
    # The awarded bid (and its agency) with the page, not one query per row.
    return query.options(joinedload(Tender.awarded_bid).lazyload(Bid.files)).order_by(
        Tender.created_at.desc(), Tender.id.desc())


def _bid_counts(tender_ids) -> dict[int, int]:
    """How many bids stand (withdrawn ones excluded): the only thing known before opening."""
    if not tender_ids:
        return {}
    return dict(db.session.execute(
        sa.select(Bid.tender_id, sa.func.count()).where(Bid.tender_id.in_(list(tender_ids)),
                                                        Bid.state == BidState.SUBMITTED)
        .group_by(Bid.tender_id)).all())


def award_public(tender: Tender) -> bool:
    """The winner and winning price are public once the award notice is out (87号令 69);
    the tender is opened by then, so nothing sealed is shown."""
    return (tender.state is TenderState.AWARDED and tender.awarded_bid is not None
            and tender.notice_published_at is not None and is_opened(tender))


@bp.route("/")
@allow(Role.TENDER_OFFICER, read_only=OFFICE_READERS)
def index():
    form = TenderFilterForm(request.args)
    page = paginate(_filtered(form))
    return render_template("tenders/index.html", form=form, page=page,
                           counts=_bid_counts([t.id for t in page.items]),
                           award_public=award_public,
                           can_create=can_create_tender(current_user))


@bp.route("/export.xlsx")
@allow(Role.TENDER_OFFICER, read_only=OFFICE_READERS)
def export():
    form = TenderFilterForm(request.args)
    tenders = db.session.scalars(_filtered(form)).all()
    counts = _bid_counts([t.id for t in tenders])

    def row(t: Tender):
        shown = award_public(t)
        return [t.number, t.title, t.method.label, t.state.label, from_fen(t.budget_fen),
                t.bid_deadline, counts.get(t.id, 0),
                t.awarded_bid.agency.name if shown else "",
                from_fen(t.awarded_bid.price_fen) if shown else None]

    return xlsx_response("招标项目", ["项目编号", "项目名称", "采购方式", "状态", "预算（元）",
                                   "投标截止及开标时间", "投标数", "中标人", "中标金额（元）"],
                         (row(t) for t in tenders))


# --- creating and editing a draft ---------------------------------------------------------


def _communities(office_id: int) -> list[Community]:
    return list(db.session.scalars(sa.select(Community).where(
        Community.street_office_id == office_id, Community.active.is_(True))
        .order_by(Community.name)))


def _tender_form(office_id: int, **kwargs) -> tuple[TenderForm, dict[int, Community]]:
    communities = {c.id: c for c in _communities(office_id)}
    form = TenderForm(communities=[(c.id, c.name) for c in communities.values()], **kwargs)
    return form, communities


def _default_data(office_id: int) -> dict:
    return {"criteria": criterion_rows(DEFAULT_CRITERIA),
            "communities": [c.id for c in _communities(office_id)]}


def _tender_data(tender: Tender) -> dict:
    return {"title": tender.title, "description": tender.description,
            "method": tender.method.value, "communities": [c.id for c in tender.communities],
            "budget": tender.budget_fen, "ceiling": tender.ceiling_fen,
            "deposit": tender.deposit_fen or None, "documents_until": tender.documents_until,
            "bid_deadline": tender.bid_deadline, "large_impact": tender.large_impact,
            "tie_break": tender.tie_break.value,
            "score_combination": tender.score_combination.value,
            "low_price_ratio": tender.low_price_ratio,
            "criteria": criterion_rows(tender.criteria)}


@bp.route("/new", methods=["GET", "POST"])
@allow(Role.TENDER_OFFICER)
def create():
    require(can_create_tender(current_user))
    office = current_user.org
    if request.method == "POST":
        form, communities = _tender_form(office.id)
    else:
        form, communities = _tender_form(office.id, data=_default_data(office.id))
    if form.validate_on_submit():
        chosen = [communities[i] for i in form.communities.data]
        tender = perform(lambda: services.create_tender(
            current_user, street_office=office, **form.service_fields(chosen)),
            lambda t: _("已创建招标项目 %(number)s（草稿）。请上传招标文件%(invite)s，然后发布。",
                        number=t.number,
                        invite=_("、邀请机构") if t.method is TenderMethod.INVITED else ""),
            form)
        if tender:
            return redirect(url_for("tenders.show", tender_id=tender.id))
    return render_template("tenders/form.html", form=form, tender=None)


@bp.route("/<int:tender_id>/edit", methods=["GET", "POST"])
@allow(Role.TENDER_OFFICER)
def edit(tender_id: int):
    tender = managed(tender_id)
    if tender.state is not TenderState.DRAFT:
        flash(_("项目已发布，不能再修改；如需澄清或修改招标文件，请在项目页发布澄清。"), "warning")
        return redirect(url_for("tenders.show", tender_id=tender.id))
    if request.method == "POST":
        form, communities = _tender_form(tender.street_office_id)
    else:
        form, communities = _tender_form(tender.street_office_id, data=_tender_data(tender))
    if form.validate_on_submit():
        chosen = [communities[i] for i in form.communities.data]
        if perform(lambda: services.update_tender(current_user, tender,
                                                  **form.service_fields(chosen)),
                   _("已保存。"), form):
            return redirect(url_for("tenders.show", tender_id=tender.id))
    return render_template("tenders/form.html", form=form, tender=tender)


# --- the tender page, its documents and report ----------------------------------------------


@bp.route("/<int:tender_id>")
@allow(Role.TENDER_OFFICER, read_only=OFFICE_READERS)
def show(tender_id: int):
    tender = load(tender_id)
    require(can_view_tender(current_user, tender))
    return render_show(tender)


@bp.route("/<int:tender_id>/documents/<int:document_id>")
@allow(Role.TENDER_OFFICER, read_only=DOCUMENT_READERS)
def download_document(tender_id: int, document_id: int):
    document = db.get_or_404(TenderDocument, document_id)
    if document.tender_id != tender_id:
        abort(404)
    require(can_view_tender(current_user, document.tender))
    return storage.send(document.file)


@bp.route("/<int:tender_id>/invitation.pdf")
@allow(Role.TENDER_OFFICER, read_only=DOCUMENT_READERS)
def invitation_pdf(tender_id: int):
    """The tender notice or invitation to bid (招标公告/投标邀请书), to print, sign and send:
    the tender's own facts only, never anything of a bid."""
    from procurement.documents.pdf import pdf_response

    tender = load(tender_id)
    require(can_view_tender(current_user, tender))
    return pdf_response("pdf/tender_invitation.html", f"{invitation_title(tender)}-{tender.number}.pdf",
                        tender=tender, title=invitation_title(tender))


def invitation_title(tender: Tender) -> str:
    return _("投标邀请书") if tender.method is TenderMethod.INVITED else _("招标公告")


@bp.route("/<int:tender_id>/report.pdf")
@allow(Role.TENDER_OFFICER, read_only=[Role.LEADER, Role.AUDITOR])
def report_pdf(tender_id: int):
    """The evaluation report (评标报告): prices and scores, so only after the opening."""
    from procurement.documents.pdf import pdf_response
    from procurement.tenders.report import report_context

    tender = load(tender_id)
    require(can_manage(current_user, tender) or is_overseer(current_user, tender))
    require(is_opened(tender), _("开标之前没有评标报告，投标内容仍处于密封状态。"))
    return pdf_response("pdf/evaluation_report.html", f"评标报告-{tender.number}.pdf",
                        **report_context(tender))


# The actions on the tender page register themselves on `bp` (they need `bp` and `managed`).
from procurement.tenders import officer_views  # noqa: E402

__all__ = ["bp", "load", "managed", "officer_views"]
