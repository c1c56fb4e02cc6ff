"""The agency side of a tender: the tenders open to my agency, submitting, replacing and
withdrawing my sealed bid, the tender documents, my outcome, a low-price explanation and
challenges.

Every page is scoped to the signed-in user's own agency. Before the opening nothing of a bid
is shown, not even to its own agency: only that it was submitted, its version, when, and how
many files (permissions.can_read_bid is the one gate). Other bidders are never named here
except the winner once the result is published.
"""
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from procurement.accounts.forms import ConfirmForm
from procurement.accounts.roles import Role
from procurement.core import clock
from procurement.core.forms import SearchForm
from procurement.core.pages import paginate, perform
from procurement.core.permissions import allow, require
from procurement.documents import storage
from procurement.extensions import db
from procurement.tenders import award, bidding, evaluation, services
from procurement.tenders.bid_forms import BidForm, ChallengeForm, ExplainForm
from procurement.tenders.models import Bid, BidFile, Invitation, Tender, TenderDocument
from procurement.tenders.permissions import (can_bid, can_challenge, can_read_bid,
                                             can_see_committee, open_to_agency, own_bid)
from procurement.tenders.states import (ACCEPTING_BIDS, LowPriceDecision, TenderMethod,
                                        TenderState)

bp = Blueprint("bidding", __name__, url_prefix="/bidding")


# --- helpers -----------------------------------------------------------------------------


def _may_see(tender: Tender) -> bool:
    """My agency may see a tender open to it, or one it has bid on."""
    return open_to_agency(tender, current_user.org_id) or own_bid(current_user, tender) is not None


def _visible_tender(tender_id: int) -> Tender:
    tender = db.get_or_404(Tender, tender_id)
    require(_may_see(tender), _("本项目未向贵机构开放。"))
    return tender


def _accepting(tender: Tender) -> bool:
    """Whether to offer the submit and withdraw buttons; the service decides on a POST."""
    return tender.state in ACCEPTING_BIDS and clock.now() < tender.bid_deadline


def countdown(deadline: datetime) -> str | None:
    """Time left before a deadline, in words; None once it has passed."""
    left = deadline - clock.now()
    if left.total_seconds() <= 0:
        return None
    hours, seconds = divmod(left.seconds, 3600)
    if left.days:
        return _("剩余 %(d)s 天 %(h)s 小时", d=left.days, h=hours)
    if hours:
        return _("剩余 %(h)s 小时 %(m)s 分", h=hours, m=seconds // 60)
    return _("剩余 %(m)s 分钟", m=max(seconds // 60, 1))


def _visible_tenders(org_id: int):
    """Published public tenders, invited tenders whose invitation to me was sent, and any
    tender my agency has bid on (the SQL form of permissions.open_to_agency)."""
    invited = sa.select(Invitation.tender_id).where(Invitation.agency_id == org_id,
                                                     Invitation.sent_at.is_not(None))
    bid_on = sa.select(Bid.tender_id).where(Bid.agency_id == org_id)
    return sa.or_(
        sa.and_(Tender.published_at.is_not(None),
                sa.or_(Tender.method != TenderMethod.INVITED, Tender.id.in_(invited))),
        Tender.id.in_(bid_on))


def _upload_limits() -> dict:
    return {"file_mb": storage.max_file_size() // (1024 * 1024),
            "total_mb": (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024),
            "max_files": bidding.MAX_FILES}


# --- pages -------------------------------------------------------------------------------


@bp.route("/")
@allow(Role.AGENCY_STAFF)
def index():
    form = SearchForm(request.args)
    now = clock.now()
    open_now = sa.and_(Tender.state.in_(ACCEPTING_BIDS), Tender.bid_deadline > now)
    query = sa.select(Tender).where(_visible_tenders(current_user.org_id))
    if form.validate() and form.q.data:
        like = f"%{form.q.data}%"
        query = query.where(sa.or_(Tender.title.ilike(like), Tender.number.ilike(like)))
    # Tenders still taking bids first (nearest deadline first), then the rest, newest first.
    query = query.order_by(sa.case((open_now, 0), else_=1),
                           sa.case((open_now, Tender.bid_deadline), else_=None),
                           Tender.bid_deadline.desc(), Tender.id.desc())
    page = paginate(query)
    ids = [t.id for t in page.items]
    my_bids = {b.tender_id: b for b in db.session.scalars(
        sa.select(Bid).where(Bid.tender_id.in_(ids), Bid.agency_id == current_user.org_id))}
    return render_template("bidding/index.html", form=form, page=page, my_bids=my_bids,
                           accepting=_accepting, countdown=countdown)


def _show(tender: Tender, explain_form=None, challenge_form=None):
    bid = own_bid(current_user, tender)
    readable = bid is not None and can_read_bid(current_user, bid)
    outcome = award.outcome_for(tender, bid) if bid is not None else None
    low_price_pending = bool(readable and bid.low_price
                             and bid.low_price_decision is LowPriceDecision.PENDING
                             and tender.state is TenderState.EVALUATING)
    challenge_open = bool(can_challenge(current_user, tender) and tender.challenge_until
                          and clock.today() <= tender.challenge_until)
    my_challenges = [c for c in tender.challenges if c.agency_id == current_user.org_id]
    return render_template(
        "bidding/show.html", tender=tender, bid=bid, readable=readable,
        files=bid.current_files if readable else [],
        file_count=len(bid.current_files) if bid is not None else 0,
        outcome=outcome, schedule=services.schedule(tender),
        money=services.money_summary(tender),
        committee=evaluation.members(tender) if can_see_committee(current_user, tender) else None,
        accepting=_accepting(tender), may_bid=can_bid(current_user, tender),
        countdown=countdown(tender.bid_deadline),
        low_price_pending=low_price_pending,
        explain_form=explain_form or ExplainForm(formdata=None),
        challenge_open=challenge_open,
        challenge_form=challenge_form or ChallengeForm(formdata=None),
        my_challenges=my_challenges, answer_due=award.answer_due,
        confirm_form=ConfirmForm())


@bp.route("/<int:tender_id>")
@allow(Role.AGENCY_STAFF)
def show(tender_id: int):
    return _show(_visible_tender(tender_id))


@bp.route("/<int:tender_id>/documents/<int:document_id>")
@allow(Role.AGENCY_STAFF)
def document(tender_id: int, document_id: int):
    tender = _visible_tender(tender_id)
    doc = db.get_or_404(TenderDocument, document_id)
    if doc.tender_id != tender.id:
        abort(404)
    return storage.send(doc.file)


@bp.route("/<int:tender_id>/bid", methods=["GET", "POST"])
@allow(Role.AGENCY_STAFF)
def submit(tender_id: int):
    tender = db.get_or_404(Tender, tender_id)
    require(can_bid(current_user, tender), _("本项目未向贵机构开放，不能投标。"))
    bid = own_bid(current_user, tender)
    form = BidForm()
    if form.validate_on_submit():
        uploads = [f for f in (form.files.data or []) if getattr(f, "filename", None)]
        try:
            result = perform(
                lambda: bidding.submit_bid(current_user, tender, current_user.org,
                                           price_fen=form.price.data,
                                           proposal=form.proposal.data, uploads=uploads),
                lambda b: _("投标文件已递交（第 %(v)s 版，附件 %(n)s 个）。开标前任何人都不能查看其内容。",
                            v=b.version, n=len(b.current_files)),
                form)
        except IntegrityError:
            # Two first submissions of the same agency at the same moment: one wins.
            db.session.rollback()
            flash(_("贵机构的投标文件正在另一处同时递交，请查看本页的递交状态后再决定是否重新递交。"),
                  "warning")
            return redirect(url_for("bidding.show", tender_id=tender.id))
        if result is not None:
            return redirect(url_for("bidding.show", tender_id=tender.id))
    return render_template("bidding/submit.html", tender=tender, bid=bid, form=form,
                           accepting=_accepting(tender), countdown=countdown(tender.bid_deadline),
                           limits=_upload_limits())


@bp.route("/<int:tender_id>/withdraw", methods=["POST"])
@allow(Role.AGENCY_STAFF)
def withdraw(tender_id: int):
    tender = _visible_tender(tender_id)
    bid = own_bid(current_user, tender)
    if bid is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        perform(lambda: bidding.withdraw_bid(current_user, bid),
                _("投标已撤回。截止时间前仍可重新递交。"))
    return redirect(url_for("bidding.show", tender_id=tender.id))


@bp.route("/<int:tender_id>/bid-files/<int:file_id>")
@allow(Role.AGENCY_STAFF)
def bid_file(tender_id: int, file_id: int):
    tender = _visible_tender(tender_id)
    bid_file = db.get_or_404(BidFile, file_id)
    bid = bid_file.bid
    if bid.tender_id != tender.id:
        abort(404)
    require(bid.agency_id == current_user.org_id and can_read_bid(current_user, bid),
            _("开标前任何人都不能查看投标文件；开标后也只能下载本机构的投标附件。"))
    if bid_file.version != bid.version:
        abort(404)  # replaced by a later version: not part of the bid
    return storage.send(bid_file.file)


@bp.route("/<int:tender_id>/explain", methods=["POST"])
@allow(Role.AGENCY_STAFF)
def explain(tender_id: int):
    tender = _visible_tender(tender_id)
    bid = own_bid(current_user, tender)
    if bid is None:
        abort(404)
    form = ExplainForm()
    if form.validate_on_submit() and perform(
            lambda: bidding.explain_low_price(current_user, bid, form.explanation.data),
            _("书面说明已提交，等待评标委员会认定。"), form):
        return redirect(url_for("bidding.show", tender_id=tender.id))
    return _show(tender, explain_form=form)


@bp.route("/<int:tender_id>/challenge", methods=["POST"])
@allow(Role.AGENCY_STAFF)
def challenge(tender_id: int):
    tender = _visible_tender(tender_id)
    require(can_challenge(current_user, tender), _("只有本项目的有效投标人可以在结果公布后提出质疑。"))
    bid = own_bid(current_user, tender)
    form = ChallengeForm()
    if form.validate_on_submit() and perform(
            lambda: award.file_challenge(current_user, tender, bid, form.content.data),
            _("质疑已提交，采购人应在 7 个工作日内书面答复。"), form):
        return redirect(url_for("bidding.show", tender_id=tender.id))
    return _show(tender, challenge_form=form)

