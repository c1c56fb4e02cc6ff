"""Home-page to-dos of tendering: what the street office's tender officer, an agency and a
judge have to do next. Each query is scoped to the user's organisation (officer, agency)
or to the user's own committee seats (judge). Deadlines follow the business clock, the same
one the services check.

Registered by importing this module (procurement/home/views.py imports the providers).
"""
from datetime import timedelta

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from procurement.accounts.roles import Role
from procurement.core import clock
from procurement.core.calendar import to_local
from procurement.extensions import db
from procurement.home.todos import Todo, provides
from procurement.orgs.models import OrgKind
from procurement.tenders import award, evaluation, rules
from procurement.tenders.evaluation_models import CommitteeMember
from procurement.tenders.models import Bid, Challenge, Invitation, Tender
from procurement.tenders.permissions import is_opened
from procurement.tenders.states import (ACCEPTING_BIDS, BidState, ChallengeState,
                                        LowPriceDecision, MemberState, RoundState, TenderMethod,
                                        TenderState)

# An agency is warned this long before a bid deadline it has not bid for.
DEADLINE_WARNING = timedelta(days=3)
# The officer's part of the life of a tender (evaluation belongs to the committee).
OFFICER_STATES = (TenderState.DRAFT, TenderState.PUBLISHED, TenderState.CLARIFIED,
                  TenderState.BIDDING_CLOSED, TenderState.OPENED, TenderState.RESULT_PENDING)


def _name(tender: Tender) -> str:
    return f"{tender.number} {tender.title}"


def _when(value) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M")


def _report_due(tender: Tender):
    """The committee reports within 2 working days of the opening (87号令 68)."""
    return rules.working_deadline(rules.local_date(tender.opened_at), rules.REPORT_WORKING_DAYS)


# --- the street office's tender officer --------------------------------------------------


@provides(Role.TENDER_OFFICER)
def officer_todos(user) -> list[Todo]:
    if user.org.kind is not OrgKind.STREET_OFFICE:
        return []
    now, today = clock.now(), clock.today()
    tenders = list(db.session.scalars(
        sa.select(Tender).where(Tender.street_office_id == user.org_id,
                                Tender.state.in_(OFFICER_STATES))
        .order_by(Tender.bid_deadline, Tender.id)))
    ids = [t.id for t in tenders]
    bids = dict(db.session.execute(
        sa.select(Bid.tender_id, sa.func.count()).where(
            Bid.tender_id.in_(ids), Bid.state == BidState.SUBMITTED).group_by(Bid.tender_id)).all())
    unreviewed = dict(db.session.execute(
        sa.select(Bid.tender_id, sa.func.count()).where(
            Bid.tender_id.in_(ids), Bid.state == BidState.SUBMITTED, Bid.valid.is_(None))
        .group_by(Bid.tender_id)).all())
    committees = dict(db.session.execute(
        sa.select(CommitteeMember.tender_id, sa.func.count()).where(
            CommitteeMember.tender_id.in_(ids), CommitteeMember.state == MemberState.ACTIVE)
        .group_by(CommitteeMember.tender_id)).all())
    items = []
    for tender in tenders:
        url = url_for("tenders.show", tender_id=tender.id)
        count = bids.get(tender.id, 0)
        if tender.state is TenderState.DRAFT:
            items.append(Todo(_("草稿待发布：%(tender)s", tender=_name(tender)), url,
                              _("完善招标文件、评分因素%(invite)s后发布。",
                                invite=_("和邀请名单") if tender.method is TenderMethod.INVITED
                                else "")))
        elif tender.state in (TenderState.PUBLISHED, TenderState.CLARIFIED,
                              TenderState.BIDDING_CLOSED):
            if now < tender.opening_time:
                continue  # still taking bids: nothing to do yet
            detail = (_("共收到 %(n)s 份投标，请按时公开开标。", n=count) if count >= rules.MIN_BIDS
                      else _("投标人不足 %(min)s 家（现 %(n)s 家），不得开标，请依法废标。",
                             min=rules.MIN_BIDS, n=count))
            items.append(Todo(_("已到开标时间，待开标：%(tender)s", tender=_name(tender)), url,
                              detail, due=rules.local_date(tender.opening_time), urgent=True))
        elif tender.state is TenderState.OPENED:
            if unreviewed.get(tender.id):
                title = _("待资格审查：%(tender)s", tender=_name(tender))
                detail = _("还有 %(n)s 份投标未完成资格审查。", n=unreviewed[tender.id])
            elif not committees.get(tender.id):
                title = _("待组建评标委员会：%(tender)s", tender=_name(tender))
                detail = _("资格审查已完成，请组建评标委员会后开始评标。")
            else:
                title = _("待开始评标：%(tender)s", tender=_name(tender))
                detail = _("资格审查已完成、评标委员会已组建，可以开始评标。")
            items.append(Todo(title, url, detail, due=_report_due(tender)))
        else:  # RESULT_PENDING
            due = rules.working_deadline(rules.local_date(tender.report_at),
                                         rules.PICK_WORKING_DAYS)
            items.append(Todo(_("评标报告已提交，待确定中标人：%(tender)s", tender=_name(tender)),
                              url, _("请在 %(n)s 个工作日内按评标委员会推荐的排序确定中标人"
                                     "（87号令第六十八条）。", n=rules.PICK_WORKING_DAYS),
                              due=due, urgent=due <= today))
    challenges = db.session.scalars(
        sa.select(Challenge).join(Tender, Challenge.tender_id == Tender.id)
        .where(Tender.street_office_id == user.org_id, Challenge.state == ChallengeState.OPEN)
        .options(selectinload(Challenge.tender)).order_by(Challenge.submitted_at))
    for challenge in challenges:
        due = award.answer_due(challenge)
        items.append(Todo(
            _("质疑待答复：%(agency)s对 %(tender)s", agency=challenge.agency.name,
              tender=challenge.tender.number),
            url_for("tenders.show", tender_id=challenge.tender_id),
            _("请在 %(n)s 个工作日内书面答复；质疑答复前暂停签订合同（实施条例第五十四条）。",
              n=rules.ANSWER_WORKING_DAYS),
            due=due, urgent=True))
    return items


# --- agencies ----------------------------------------------------------------------------


@provides(Role.AGENCY_STAFF)
def agency_todos(user) -> list[Todo]:
    if user.org.kind is not OrgKind.AGENCY:
        return []
    return _tenders_to_bid(user) + _low_prices_to_explain(user) + _results(user)


def _tenders_to_bid(user) -> list[Todo]:
    """Published tenders open to my agency (public, or invited and the invitation sent),
    still before the deadline, without a standing bid of mine."""
    now = clock.now()
    invited = sa.select(Invitation.tender_id).where(Invitation.agency_id == user.org_id,
                                                     Invitation.sent_at.is_not(None))
    standing = sa.select(Bid.tender_id).where(Bid.agency_id == user.org_id,
                                              Bid.state == BidState.SUBMITTED)
    withdrawn = set(db.session.scalars(sa.select(Bid.tender_id).where(
        Bid.agency_id == user.org_id, Bid.state == BidState.WITHDRAWN)))
    tenders = db.session.scalars(
        sa.select(Tender).where(
            Tender.state.in_(ACCEPTING_BIDS), Tender.published_at.is_not(None),
            Tender.bid_deadline > now,
            sa.or_(Tender.method != TenderMethod.INVITED, Tender.id.in_(invited)),
            Tender.id.not_in(standing))
        .order_by(Tender.bid_deadline, Tender.id))
    items = []
    for tender in tenders:
        detail = (_("您已撤回投标，可在截止前重新递交。") if tender.id in withdrawn
                  else _("%(method)s，投标截止 %(deadline)s；逾期送达的投标文件不予接收。",
                         method=tender.method.label, deadline=_when(tender.bid_deadline)))
        items.append(Todo(_("可投标：%(tender)s", tender=_name(tender)),
                          url_for("bidding.show", tender_id=tender.id), detail,
                          due=rules.local_date(tender.bid_deadline),
                          urgent=tender.bid_deadline - now <= DEADLINE_WARNING))
    return items


def _low_prices_to_explain(user) -> list[Todo]:
    bids = db.session.scalars(
        sa.select(Bid).join(Tender, Bid.tender_id == Tender.id).where(
            Bid.agency_id == user.org_id, Bid.state == BidState.SUBMITTED, Bid.low_price,
            Bid.low_price_decision == LowPriceDecision.PENDING,
            Bid.low_price_explanation.is_(None), Tender.state == TenderState.EVALUATING)
        .options(selectinload(Bid.tender)).order_by(Bid.id))
    return [Todo(_("请提交低价书面说明：%(tender)s", tender=_name(bid.tender)),
                 url_for("bidding.show", tender_id=bid.tender_id),
                 _("贵机构报价明显低于其他投标报价，评标委员会要求书面说明其合理性；"
                   "说明被认定前不能参加排序（87号令第六十条）。"),
                 due=_report_due(bid.tender), urgent=True) for bid in bids]


def _results(user) -> list[Todo]:
    """Results published on tenders my agency bid for, while a challenge is still possible."""
    today = clock.today()
    bids = db.session.scalars(
        sa.select(Bid).join(Tender, Bid.tender_id == Tender.id).where(
            Bid.agency_id == user.org_id, Bid.state == BidState.SUBMITTED,
            Tender.state.in_((TenderState.AWARDED, TenderState.FAILED)))
        .options(selectinload(Bid.tender)).order_by(Bid.id))
    items = []
    for bid in bids:
        tender = bid.tender
        url = url_for("bidding.show", tender_id=tender.id)
        if tender.state is TenderState.FAILED:
            until = rules.working_deadline(rules.local_date(tender.ended_at),
                                           rules.CHALLENGE_WORKING_DAYS)
            if today > until:
                continue
            items.append(Todo(_("项目废标：%(tender)s", tender=_name(tender)), url,
                              _("废标原因：%(reason)s", reason=tender.end_reason or "—"),
                              due=until))
            continue
        if tender.challenge_until is None or today > tender.challenge_until:
            continue
        outcome = award.outcome_for(tender, bid)
        if outcome.won:
            title = _("中标：%(tender)s", tender=_name(tender))
            detail = _("贵机构综合得分 %(score)s，排名第 1。请与采购人联系签订合同。",
                       score=outcome.score)
        elif outcome.rank is not None:
            title = _("结果已公布：%(tender)s", tender=_name(tender))
            detail = _("中标人为%(winner)s；贵机构综合得分 %(score)s，排名第 %(rank)s / %(count)s。"
                       "如有异议，可在质疑期内提出质疑。", winner=outcome.winner,
                       score=outcome.score, rank=outcome.rank, count=outcome.count)
        else:
            title = _("结果已公布：%(tender)s", tender=_name(tender))
            detail = _("中标人为%(winner)s；贵机构未进入最终排序：%(reason)s",
                       winner=outcome.winner, reason=outcome.reason)
        items.append(Todo(title, url, detail, due=tender.challenge_until))
    return items


# --- judges ------------------------------------------------------------------------------


@provides(Role.JUDGE)
def judge_todos(user) -> list[Todo]:
    """Declarations and sheets I owe in the current round; as chair, a round ready to close,
    a low-price explanation to decide, the report to submit. Only my own active seats."""
    today = clock.today()
    seats = db.session.scalars(
        sa.select(CommitteeMember).join(Tender, CommitteeMember.tender_id == Tender.id).where(
            CommitteeMember.judge_id == user.id, CommitteeMember.state == MemberState.ACTIVE,
            Tender.state.in_((TenderState.OPENED, TenderState.EVALUATING)))
        .options(selectinload(CommitteeMember.declarations), selectinload(CommitteeMember.tender))
        .order_by(Tender.opening_time, Tender.id))
    items = []
    for member in seats:
        tender = member.tender
        if not is_opened(tender):
            continue
        due = _report_due(tender)
        url = url_for("judging.show", tender_id=tender.id)
        round_ = (evaluation.current_round(tender) if tender.state is TenderState.EVALUATING
                  else None)
        in_play = ([e.bid for e in round_.entries] if round_ is not None
                   else tender.submitted_bids)
        undeclared = [b for b in in_play if b.state is BidState.SUBMITTED
                      and b.valid is not False and evaluation.conflicted(member, b.id) is None]
        if undeclared:
            items.append(Todo(_("待作出回避声明：%(tender)s", tender=_name(tender)), url,
                              _("请对 %(n)s 家投标人逐一声明是否存在利害关系（实施条例第九条）。",
                                n=len(undeclared)), due=due))
        if round_ is None:
            continue
        if round_.state is RoundState.SCORING:
            missing = evaluation.missing_sheets(round_)
            mine = [bid for m, bid in missing if m.id == member.id]
            if mine:
                items.append(Todo(_("%(round)s待评分：%(tender)s", round=round_.label,
                                    tender=_name(tender)), url,
                                  _("还有 %(n)s 份评分表待提交；请独立评分。", n=len(mine)),
                                  due=due))
            if member.is_chair:
                items.extend(_chair_round_todos(tender, round_, missing, due))
        elif member.is_chair and evaluation.final_round(tender) is not None:
            items.append(Todo(_("待提交评标报告：%(tender)s", tender=_name(tender)),
                              url_for("judging.chair", tender_id=tender.id),
                              _("评分已结束，请填写评审意见并提交评标报告。"),
                              due=due, urgent=due <= today))
    return items


def _chair_round_todos(tender, round_, missing, due) -> list[Todo]:
    url = url_for("judging.chair", tender_id=tender.id)
    pending = [e.bid for e in round_.entries if e.bid.valid and e.bid.low_price
               and e.bid.low_price_decision is LowPriceDecision.PENDING]
    explained = [b for b in pending if b.low_price_explanation]
    items = []
    if explained:
        items.append(Todo(_("待认定低价说明：%(tender)s", tender=_name(tender)), url,
                          _("%(agencies)s已提交书面说明，请评标委员会认定。",
                            agencies="、".join(b.agency.name for b in explained)), due=due))
    if not missing and not pending:
        items.append(Todo(_("%(round)s可以结束：%(tender)s", round=round_.label,
                            tender=_name(tender)), url,
                          _("全部评分表已提交。结束本轮并确定是否入围下一轮。"), due=due))
    return items
