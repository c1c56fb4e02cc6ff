"""The tender officer's actions on the tender page, one service call each. A refused action
re-renders the page with the message on its form (or flashes it for one-click buttons) and
changes nothing. Routes are registered on the `tenders` blueprint of `views.py`."""
import sqlalchemy as sa
from flask import abort, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from procurement.accounts.forms import ConfirmForm
from procurement.accounts.models import User
from procurement.accounts.roles import Role
from procurement.core.calendar import to_local
from procurement.core.pages import perform
from procurement.core.permissions import allow
from procurement.extensions import db
from procurement.tenders import award as award_service
from procurement.tenders import bidding, evaluation, services
from procurement.tenders.evaluation_models import CommitteeMember
from procurement.tenders.models import Bid, Challenge, Invitation
from procurement.tenders.officer_page import (answer_form, build_form, posted, qualify_form,
                                              render_show)
from procurement.tenders.views import bp, managed

OFFICER = Role.TENDER_OFFICER


def _back(tender):
    return redirect(url_for("tenders.show", tender_id=tender.id))


def _form_action(tender, name: str, operation, done):
    """Validate the named form, run the service, redirect; or show the page again."""
    form = build_form(name, tender)
    if form.validate_on_submit() and perform(lambda: operation(form), done, form) is not None:
        return _back(tender)
    return render_show(tender, {name: form})


def _one_click(tender, operation, done):
    if ConfirmForm().validate_on_submit():
        perform(operation, done)
    return _back(tender)


def _child(model, child_id: int, tender):
    obj = db.get_or_404(model, child_id)
    if obj.tender_id != tender.id:
        abort(404)
    return obj


def _users(ids) -> list[User]:
    return list(db.session.scalars(sa.select(User).where(User.id.in_(list(ids) or [0]))))


# --- before publishing ------------------------------------------------------------------


@bp.route("/<int:tender_id>/documents", methods=["POST"])
@allow(OFFICER)
def upload_document(tender_id: int):
    tender = managed(tender_id)
    return _form_action(tender, "document",
                        lambda f: services.attach_document(current_user, tender, f.files.data),
                        lambda d: _("已上传“%(name)s”。", name=d.file.original_name))


@bp.route("/<int:tender_id>/invitations", methods=["POST"])
@allow(OFFICER)
def invite(tender_id: int):
    tender = managed(tender_id)
    return _form_action(tender, "invite",
                        lambda f: services.invite(current_user, tender, f.agencies.data),
                        lambda new: _("已将 %(n)s 家机构加入邀请名单，邀请书在发布时同时发出。",
                                      n=len(new)))


@bp.route("/<int:tender_id>/invitations/<int:invitation_id>/delete", methods=["POST"])
@allow(OFFICER)
def uninvite(tender_id: int, invitation_id: int):
    tender = managed(tender_id)
    invitation = _child(Invitation, invitation_id, tender)
    name = invitation.agency.name
    return _one_click(tender, lambda: services.uninvite(current_user, tender, invitation),
                      _("已将%(name)s移出邀请名单。", name=name))


@bp.route("/<int:tender_id>/draw", methods=["POST"])
@allow(OFFICER)
def draw(tender_id: int):
    tender = managed(tender_id)
    return _form_action(
        tender, "draw",
        lambda f: services.draw_invitees(current_user, tender, pool_ids=f.pool.data,
                                         count=f.count.data, witnesses=_users(f.witnesses.data)),
        lambda d: _("随机抽取完成，抽中 %(n)s 家，抽取记录（含随机种子和见证人）已保存。",
                    n=len(d.drawn)))


@bp.route("/<int:tender_id>/publish", methods=["POST"])
@allow(OFFICER)
def publish(tender_id: int):
    tender = managed(tender_id)
    return _one_click(tender, lambda: services.publish(current_user, tender),
                      lambda t: _("已发布。投标截止并开标时间：%(at)s。",
                                  at=f"{to_local(t.bid_deadline):%Y-%m-%d %H:%M}"))


# --- while bids come in -----------------------------------------------------------------


def _clarified(c) -> str:
    text = _("已发布第 %(n)s 号澄清。", n=c.number)
    if c.moved_deadline:
        text += _("距投标截止不足 15 日，投标截止和开标时间已顺延至 %(at)s。",
                  at=f"{to_local(c.deadline_after):%Y-%m-%d %H:%M}")
    return text


@bp.route("/<int:tender_id>/clarifications", methods=["POST"])
@allow(OFFICER)
def clarify(tender_id: int):
    tender = managed(tender_id)
    return _form_action(
        tender, "clarify",
        lambda f: services.clarify(current_user, tender, content=f.content.data,
                                   affects_bids=f.affects_bids.data,
                                   upload=f.files.data if getattr(f.files.data, "filename", "")
                                   else None),
        _clarified)


# --- opening and qualification ---------------------------------------------------------------


@bp.route("/<int:tender_id>/open", methods=["POST"])
@allow(OFFICER)
def open_bids(tender_id: int):
    tender = managed(tender_id)
    return _one_click(tender, lambda: bidding.open_tender(current_user, tender),
                      _("已开标，开标记录已保存。请逐一完成资格审查。"))


@bp.route("/<int:tender_id>/bids/<int:bid_id>/qualify", methods=["POST"])
@allow(OFFICER)
def qualify(tender_id: int, bid_id: int):
    tender = managed(tender_id)
    bid = _child(Bid, bid_id, tender)
    form = qualify_form(bid, posted())
    if form.validate_on_submit() and perform(
            lambda: bidding.review_qualification(current_user, bid, valid=form.valid.data == "1",
                                                 reason=form.reason.data),
            lambda b: _("已将%(name)s认定为%(result)s。", name=b.agency.name,
                        result=_("合格") if b.valid else _("无效投标")), form):
        return _back(tender)
    return render_show(tender, {f"bid-{bid.id}": form})


# --- the committee and the evaluation -----------------------------------------------------------


@bp.route("/<int:tender_id>/committee", methods=["POST"])
@allow(OFFICER)
def form_committee(tender_id: int):
    tender = managed(tender_id)
    return _form_action(
        tender, "committee",
        lambda f: evaluation.form_committee(current_user, tender, judges=_users(f.judges.data),
                                            chair=db.session.get(User, f.chair.data)),
        lambda seats: _("已组建评标委员会，共 %(n)s 人。成员名单在结果公布前保密。", n=len(seats)))


@bp.route("/<int:tender_id>/committee/replace", methods=["POST"])
@allow(OFFICER)
def replace_member(tender_id: int):
    tender = managed(tender_id)

    def operation(form):
        member = _child(CommitteeMember, form.member.data, tender)
        return evaluation.replace_member(current_user, member,
                                         new_judge=db.session.get(User, form.judge.data),
                                         reason=form.reason.data)

    return _form_action(tender, "replace", operation,
                        lambda m: _("已由%(name)s接替，原成员的评分已作废。", name=m.judge.name))


@bp.route("/<int:tender_id>/evaluation", methods=["POST"])
@allow(OFFICER)
def start_evaluation(tender_id: int):
    tender = managed(tender_id)
    return _one_click(tender, lambda: evaluation.start_evaluation(current_user, tender),
                      _("评标开始，第 1 轮评分已开启。评委须先对每个投标人作出回避声明，再独立评分。"))


# --- the result -------------------------------------------------------------------------------


@bp.route("/<int:tender_id>/award", methods=["POST"])
@allow(OFFICER)
def award(tender_id: int):
    tender = managed(tender_id)
    return _form_action(
        tender, "award",
        lambda f: award_service.award(current_user, tender, _child(Bid, f.bid.data, tender),
                                      f.reason.data),
        lambda t: _("已确定%(name)s为中标人并发布中标公告，公告期至 %(end)s，质疑期至 %(until)s。",
                    name=t.awarded_bid.agency.name, end=f"{t.notice_end:%Y-%m-%d}",
                    until=f"{t.challenge_until:%Y-%m-%d}"))


@bp.route("/<int:tender_id>/challenges/<int:challenge_id>/answer", methods=["POST"])
@allow(OFFICER)
def answer_challenge(tender_id: int, challenge_id: int):
    tender = managed(tender_id)
    challenge = _child(Challenge, challenge_id, tender)
    form = answer_form(challenge, posted())
    if form.validate_on_submit() and perform(
            lambda: award_service.answer_challenge(current_user, challenge,
                                                   answer=form.answer.data,
                                                   may_change_result=form.may_change_result.data),
            lambda c: _("已答复%(name)s的质疑。", name=c.agency.name)
            + (_("质疑可能影响中标结果，暂停签订合同。") if c.may_change_result else ""), form):
        return _back(tender)
    return render_show(tender, {f"challenge-{challenge.id}": form})


@bp.route("/<int:tender_id>/fail", methods=["POST"])
@allow(OFFICER)
def fail(tender_id: int):
    tender = managed(tender_id)
    return _form_action(tender, "fail",
                        lambda f: services.fail(current_user, tender, f.reason.data),
                        _("已废标，各投标人可在其页面看到废标原因。"))


@bp.route("/<int:tender_id>/cancel", methods=["POST"])
@allow(OFFICER)
def cancel(tender_id: int):
    tender = managed(tender_id)
    return _form_action(tender, "cancel",
                        lambda f: services.cancel(current_user, tender, f.reason.data),
                        _("已取消招标项目。"))
