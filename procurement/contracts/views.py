"""Contract pages: the list of cooperations and its export, creating a cooperation from an
awarded tender, the cooperation page with its renewal and termination. The agreement page,
its edit forms and signing are in `agreement_views.py`; amendments and special agreements
in `change_views.py` (all on this blueprint). Views hold no rules: every refusal is the
services' message."""
from datetime import date

import sqlalchemy as sa
from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.routing import BuildError

from procurement.accounts.forms import ConfirmForm
from procurement.accounts.roles import Role
from procurement.contracts import rules, services, signing
from procurement.contracts.forms import (DEFAULT_AMOUNT_FEN, CooperationFilterForm,
                                         CooperationForm, TerminateForm)
from procurement.contracts.models import Agreement, AgreementParty, Cooperation
from procurement.contracts.permissions import (OFFICE_READERS, can_create, can_manage,
                                               can_sign, can_view)
from procurement.contracts.states import (COOPERATION, EDITABLE, CooperationState,
                                          DocumentState)
from procurement.core import clock
from procurement.core.calendar import to_local
from procurement.core.money import from_fen
from procurement.core.pages import paginate, perform
from procurement.core.permissions import allow, is_allowed, require
from procurement.documents.excel import xlsx_response
from procurement.extensions import db
from procurement.orgs.models import OrgKind, Organisation
from procurement.tenders.award import signing_block
from procurement.tenders.models import Tender
from procurement.tenders.states import TenderState

bp = Blueprint("contracts", __name__, url_prefix="/contracts")

MANAGER = Role.CONTRACT_MANAGER
PARTY_ROLES = (Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.UNIVERSITY_EVALUATOR)
# Everyone who may read some cooperation (permissions.can_view decides which one).
READERS = (*[r for r in OFFICE_READERS if r is not MANAGER], Role.AUDITOR, *PARTY_ROLES)
# Who signs for a party (signing.SIGNING_ROLE); the service checks the organisation.
SIGNERS = (Role.LEADER, *PARTY_ROLES)
ENDED = (CooperationState.ENDED, CooperationState.TERMINATED)


def load(cooperation_id: int) -> Cooperation:
    # With its agreements and what the page shows of each (one query per relation, not
    # one per agreement).
    cooperation = db.session.scalar(sa.select(Cooperation).where(Cooperation.id == cooperation_id)
                                    .options(selectinload(Cooperation.agreements).options(
                                        selectinload(Agreement.amendments),
                                        selectinload(Agreement.communities))))
    if cooperation is None:
        abort(404)
    require(can_view(current_user, cooperation))
    return cooperation


def managed(cooperation_id: int) -> Cooperation:
    cooperation = db.get_or_404(Cooperation, cooperation_id)
    require(can_manage(current_user, cooperation))
    return cooperation


def link(endpoint: str, **ids) -> str | None:
    """A URL to `endpoint` if it exists and the user's role may use it, else None. Only the
    ids the route takes are used (the amendment pages live in another module)."""
    if endpoint not in current_app.view_functions or not is_allowed(current_user, endpoint):
        return None
    rule = next(iter(current_app.url_map.iter_rules(endpoint)))
    try:
        return url_for(endpoint, **{k: v for k, v in ids.items() if k in rule.arguments})
    except BuildError:
        return None


def latest(cooperation: Cooperation) -> Agreement | None:
    return cooperation.agreements[-1] if cooperation.agreements else None


def in_force(cooperation: Cooperation) -> Agreement | None:
    """The latest agreement in force (amendments and special agreements hang off it)."""
    return next((a for a in reversed(cooperation.agreements)
                 if a.state is DocumentState.IN_FORCE), None)


def gate_message(agreement: Agreement) -> str | None:
    """Why this agreement may not be signed now (pending challenge, renewal gate)."""
    if agreement.state not in EDITABLE:
        return None
    return services.first_agreement_block(agreement) or services.renewal_block(agreement)


def sign_deadline(agreement: Agreement | None) -> dict | None:
    """The first agreement's signing deadline (30 days after the award notice) while it is
    not in force: the date, the days left, and whether to warn (≤ 7 days or passed)."""
    if agreement is None or agreement.sign_due is None or agreement.state not in EDITABLE:
        return None
    left = (agreement.sign_due - clock.today()).days
    return {"due": agreement.sign_due, "left": left, "passed": left < 0,
            "warn": left <= rules.SIGN_WARNING_DAYS}


def renewable(cooperation: Cooperation) -> Agreement | None:
    """The agreement a next year could be drafted from (the services re-check)."""
    current = latest(cooperation)
    if (current is None or current.state is not DocumentState.IN_FORCE
            or cooperation.state is not CooperationState.ACTIVE
            or rules.add_years(current.start_date, 1) > cooperation.end_date):
        return None
    return current


# --- the list ----------------------------------------------------------------------------


def _visible():
    """The cooperations the user may see (mirrors permissions.can_view): auditors all, the
    street office's readers their own office's, a party's users those it is a party to."""
    query = sa.select(Cooperation)
    if current_user.has_role(Role.AUDITOR):
        return query
    org_id = current_user.org_id
    seen = []
    if current_user.has_role(*OFFICE_READERS):
        seen.append(Cooperation.street_office_id == org_id)
    if current_user.has_role(*PARTY_ROLES):
        seen.append(sa.or_(
            Cooperation.agency_id == org_id, Cooperation.university_id == org_id,
            Cooperation.id.in_(sa.select(Agreement.cooperation_id).join(AgreementParty)
                               .where(AgreementParty.org_id == org_id))))
    return query.where(sa.or_(*seen) if seen else sa.false())


def _filtered(form: CooperationFilterForm):
    if not form.validate():
        return sa.select(Cooperation).where(sa.false())
    query = _visible()
    if form.q.data:
        like = f"%{form.q.data}%"
        query = query.where(sa.or_(Cooperation.number.ilike(like), Cooperation.title.ilike(like)))
    if form.state.data:
        query = query.where(Cooperation.state == CooperationState(form.state.data))
    # What each row shows (agency, latest agreement and its communities) with the page.
    return query.options(
        joinedload(Cooperation.agency),
        selectinload(Cooperation.agreements).selectinload(Agreement.communities),
    ).order_by(Cooperation.created_at.desc(), Cooperation.id.desc())


def waiting_tenders() -> list[dict]:
    """For a contract manager: the office's awarded tenders that have no cooperation yet,
    with the signing deadline and why signing is blocked, if it is."""
    if not current_user.has_role(MANAGER):
        return []
    tenders = db.session.scalars(
        sa.select(Tender).where(Tender.street_office_id == current_user.org_id,
                                Tender.state == TenderState.AWARDED,
                                Tender.id.not_in(sa.select(Cooperation.tender_id)))
        .order_by(Tender.notice_published_at)).all()
    today = clock.today()
    result = []
    for tender in tenders:
        due = services.sign_due(tender) if tender.notice_published_at else None
        result.append({"tender": tender, "block": signing_block(tender), "due": due,
                       "left": (due - today).days if due else None})
    return result


def communities_of(cooperation: Cooperation) -> str:
    current = latest(cooperation)
    names = ([c.community.name for c in current.communities] if current
             else [c.name for c in cooperation.tender.communities])
    return "、".join(names)


def term_of(cooperation: Cooperation) -> str:
    return f"{cooperation.start_date:%Y-%m-%d} 至 {cooperation.end_date:%Y-%m-%d}"


@bp.route("/")
@allow(MANAGER, read_only=READERS)
def index():
    form = CooperationFilterForm(request.args)
    page = paginate(_filtered(form))
    return render_template("contracts/index.html", form=form, page=page, latest=latest,
                           communities_of=communities_of, waiting=waiting_tenders())


@bp.route("/export.xlsx")
@allow(MANAGER, read_only=READERS)
def export():
    form = CooperationFilterForm(request.args)
    cooperations = db.session.scalars(_filtered(form)).all()

    def row(c: Cooperation):
        current = latest(c)
        return [c.number, c.title, c.agency.name, communities_of(c), c.start_date, c.end_date,
                from_fen(current.amount_fen) if current else None, c.state.label]

    return xlsx_response("合作与协议", ["合同编号", "项目名称", "承包方（社工机构）", "服务社区",
                                   "合作开始", "合作结束", "本年度金额（元）", "状态"],
                         (row(c) for c in cooperations))


# --- creating a cooperation ----------------------------------------------------------------


def _universities() -> list[tuple[int, str]]:
    rows = db.session.execute(
        sa.select(Organisation.id, Organisation.name)
        .where(Organisation.kind == OrgKind.UNIVERSITY, Organisation.active.is_(True))
        .order_by(Organisation.name)).all()
    return [(r.id, r.name) for r in rows]


def _first_of_next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


@bp.route("/new/<int:tender_id>", methods=["GET", "POST"])
@allow(MANAGER)
def create(tender_id: int):
    tender = db.get_or_404(Tender, tender_id)
    require(can_create(current_user, tender))
    existing = db.session.scalar(sa.select(Cooperation).where(Cooperation.tender_id == tender.id))
    if existing is not None:
        flash(_("该项目已建立合作。"), "info")
        return redirect(url_for("contracts.show", cooperation_id=existing.id))
    start = _first_of_next_month(clock.today())
    form = CooperationForm(universities=_universities(),
                           data={"start_date": start, "end_date": rules.year_end(start),
                                 "amount": DEFAULT_AMOUNT_FEN})
    if form.validate_on_submit():
        university = db.session.get(Organisation, form.university.data)
        cooperation = perform(lambda: services.create_cooperation(
            current_user, tender, university=university, start_date=form.start_date.data,
            end_date=form.end_date.data, justification=form.justification.data,
            amount_per_community_fen=form.amount.data),
            lambda c: _("已建立合作 %(number)s，并起草了第一年度协议。请核对金额、预算、子合同和"
                        "各方职责，然后请各方签署。", number=c.number), form)
        if cooperation:
            return redirect(url_for("contracts.show", cooperation_id=cooperation.id))
    winner = tender.awarded_bid
    return render_template("contracts/create.html", form=form, tender=tender,
                           winner=winner if tender.state is TenderState.AWARDED else None,
                           block=signing_block(tender),
                           due=services.sign_due(tender) if tender.notice_published_at else None)


# --- the cooperation page --------------------------------------------------------------------


def next_steps(cooperation: Cooperation) -> list[str]:
    """What to do now, in plain words, for the manager or for a signing party."""
    steps = []
    current = latest(cooperation)
    if cooperation.state is CooperationState.ENDED:
        return [_("合作期已于 %(day)s 届满。", day=cooperation.end_date.isoformat())]
    if cooperation.state is CooperationState.TERMINATED:
        return [_("合作已于 %(day)s 终止。", day=f"{to_local(cooperation.ended_at):%Y-%m-%d}")]
    if current is None:
        return steps
    manage = can_manage(current_user, cooperation)
    if current.state in EDITABLE:
        gate = gate_message(current)
        missing = [o.name for o in signing.missing_parties(current)]
        if manage and current.state is DocumentState.DRAFT:
            steps.append(_("核对并完善第 %(n)s 年度协议（金额与预算、子合同、各方职责、评估设置），"
                           "确认无误后请各方签署。签署开始后再修改，已有签署将作废。",
                           n=current.year_no))
        if gate:
            steps.append(gate)
        elif missing:
            steps.append(_("第 %(n)s 年度协议尚待签署：%(who)s。各方均签署后协议生效。",
                           n=current.year_no, who="、".join(missing)))
        if (can_sign(current_user, current)
                and current_user.org_id in {o.id for o in signing.missing_parties(current)}):
            steps.append(_("请打开第 %(n)s 年度协议，阅读全文后代表本单位签署。", n=current.year_no))
        deadline = sign_deadline(current)
        if deadline and deadline["warn"]:
            steps.append(_("签订期限 %(due)s 已过，请尽快完成签署并说明原因。",
                           due=deadline["due"].isoformat()) if deadline["passed"] else
                         _("距签订期限 %(due)s 只剩 %(left)s 天。", due=deadline["due"].isoformat(),
                           left=deadline["left"]))
    elif manage and renewable(cooperation) is not None:
        steps.append(_("第 %(n)s 年度协议已生效。年度评估结果确定后，可起草下一年度协议（续签须"
                       "评估结果允许）；如需调整本年度金额或期限，请提出变更。", n=current.year_no))
    elif manage and current.state is DocumentState.IN_FORCE:
        steps.append(_("第 %(n)s 年度协议已生效，这是合作期的最后一年。", n=current.year_no))
    return steps


def cooperation_context(cooperation: Cooperation, terminate_form=None) -> dict:
    manage = can_manage(current_user, cooperation)
    first = cooperation.agreements[0] if cooperation.agreements else None
    current_in_force = in_force(cooperation)
    agreements = [{"agreement": a, "gate": gate_message(a),
                   "missing": [o.name for o in signing.missing_parties(a)]
                   if a.state in EDITABLE else [],
                   "amendments": [(m, link("contracts.amendment", amendment_id=m.id,
                                           agreement_id=a.id, cooperation_id=cooperation.id))
                                  for m in a.amendments]}
                  for a in cooperation.agreements]
    may_change = manage and cooperation.state is CooperationState.ACTIVE and current_in_force
    return dict(
        cooperation=cooperation, manage=manage, agreements=agreements,
        deadline=sign_deadline(first), renew_from=renewable(cooperation) if manage else None,
        terminate_form=(terminate_form or TerminateForm())
        if manage and COOPERATION.allowed(cooperation.state, CooperationState.TERMINATED)
        else None,
        specials=[(s, link("contracts.special", special_id=s.id, cooperation_id=cooperation.id,
                           agreement_id=s.agreement_id)) for s in cooperation.specials],
        new_amendment=link("contracts.new_amendment", agreement_id=current_in_force.id,
                           cooperation_id=cooperation.id) if may_change else None,
        new_special=link("contracts.new_special", agreement_id=current_in_force.id,
                         cooperation_id=cooperation.id) if may_change else None,
        next_steps=next_steps(cooperation), confirm=ConfirmForm(),
        tender_link=link("tenders.show", tender_id=cooperation.tender_id))


@bp.route("/<int:cooperation_id>")
@allow(MANAGER, read_only=READERS)
def show(cooperation_id: int):
    cooperation = load(cooperation_id)
    return render_template("contracts/show.html", **cooperation_context(cooperation))


@bp.route("/<int:cooperation_id>/terminate", methods=["POST"])
@allow(MANAGER)
def terminate(cooperation_id: int):
    cooperation = managed(cooperation_id)
    form = TerminateForm()
    if form.validate_on_submit() and perform(
            lambda: services.terminate(current_user, cooperation, form.reason.data),
            _("合作已终止。"), form):
        return redirect(url_for("contracts.show", cooperation_id=cooperation.id))
    return render_template("contracts/show.html", **cooperation_context(cooperation, form))


@bp.route("/agreements/<int:agreement_id>/renew", methods=["POST"])
@allow(MANAGER)
def renew(agreement_id: int):
    agreement = db.get_or_404(Agreement, agreement_id)
    require(can_manage(current_user, agreement.cooperation))
    renewal = None
    if ConfirmForm().validate_on_submit():
        renewal = perform(lambda: services.draft_renewal(current_user, agreement),
                          lambda a: _("已起草第 %(n)s 年度协议（沿用上一年度的内容，可修改）。"
                                      "上一年度评估结果允许续签后，方可签署。", n=a.year_no))
    if renewal is not None:
        return redirect(url_for("contracts.agreement", agreement_id=renewal.id))
    return redirect(url_for("contracts.show", cooperation_id=agreement.cooperation_id))


# The agreement, amendment and special-agreement pages register themselves on `bp`.
from procurement.contracts import agreement_views, change_views  # noqa: E402,F401

__all__ = ["bp", "load", "managed", "link", "agreement_views", "change_views"]
