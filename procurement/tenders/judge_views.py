"""The committee side of a tender (评标): a judge's seats, declarations of ties, his own
score sheets and corrections; the chair's decisions on low prices, closing rounds and the
committee's report.

Every page needs the user's own seat on the tender. A judge only ever sees his own sheets;
the chair also sees, once a round is closed, that round's result (final score and rank),
never the per-judge matrix.
"""
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from procurement.accounts.roles import Role
from procurement.core.calendar import to_local
from procurement.core.pages import paginate, perform
from procurement.core.permissions import allow, require
from procurement.documents import storage
from procurement.extensions import db
from procurement.tenders import award, bidding, evaluation
from procurement.tenders.evaluation_models import (CommitteeMember, EvaluationRound,
                                                   ScoreCorrection)
from procurement.tenders.judge_forms import (CloseRoundForm, CorrectionForm, DeclarationForm,
                                             LowPriceDecisionForm, ReportForm, score_sheet_form,
                                             scored_criteria, sheet_data)
from procurement.tenders.models import Bid, BidFile, Tender
from procurement.tenders.permissions import can_read_bid, is_judge_of, is_opened, membership
from procurement.tenders.states import (BidState, CorrectionReason, LowPriceDecision,
                                        RoundState, SheetState, TenderState)

bp = Blueprint("judging", __name__, url_prefix="/judging")

NOT_A_MEMBER = "您不是该项目评标委员会的成员。"
REPLACED = "您已被更换出评标委员会，不能再进行任何操作。"
NOT_CHAIR = "只有评标委员会组长可以进行此操作。"
DECLARING_STATES = {TenderState.OPENED, TenderState.EVALUATING}


# --- loading and checks ------------------------------------------------------------------

def _seat(tender_id: int) -> tuple[Tender, CommitteeMember]:
    """The tender and the user's own seat on it (active or replaced); 403 without one."""
    tender = db.get_or_404(Tender, tender_id)
    member = membership(current_user, tender)
    require(member is not None, NOT_A_MEMBER)
    return tender, member


def _active_seat(tender_id: int) -> tuple[Tender, CommitteeMember]:
    tender, member = _seat(tender_id)
    require(is_judge_of(current_user, tender), REPLACED)
    return tender, member


def _chair_seat(tender_id: int) -> tuple[Tender, CommitteeMember]:
    tender, member = _active_seat(tender_id)
    require(member.is_chair, NOT_CHAIR)
    return tender, member


def _bid(tender: Tender, bid_id: int) -> Bid:
    bid = db.get_or_404(Bid, bid_id)
    if bid.tender_id != tender.id:
        abort(404)
    return bid


def _readable_bid(tender: Tender, bid_id: int) -> Bid:
    bid = _bid(tender, bid_id)
    require(can_read_bid(current_user, bid), "开标前或该投标已撤回，不能查看。")
    return bid


# --- what a judge sees and still owes ----------------------------------------------------

def _bids_in_play(tender: Tender, round_: EvaluationRound | None) -> list[Bid]:
    """The bids a judge deals with now: the current round's, or before the first round
    every submitted bid not already invalid. Nothing before the opening."""
    if not is_opened(tender):
        return []
    if round_ is not None:
        return [e.bid for e in round_.entries if e.bid.state is BidState.SUBMITTED]
    return [b for b in tender.submitted_bids if b.valid is not False]


@dataclass
class Owed:
    declarations: list[Bid] = field(default_factory=list)
    sheets: list[Bid] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.declarations) + len(self.sheets)


def _owed(tender: Tender, member: CommitteeMember) -> Owed:
    owed = Owed()
    if not member.active or tender.state not in DECLARING_STATES:
        return owed
    round_ = evaluation.current_round(tender)
    owed.declarations = [b for b in _bids_in_play(tender, round_) if b.valid is not False
                         and evaluation.conflicted(member, b.id) is None]
    if tender.state is TenderState.EVALUATING and round_ is not None \
            and round_.state is RoundState.SCORING:
        owed.sheets = [bid for m, bid in evaluation.missing_sheets(round_) if m.id == member.id]
    return owed


def _next_steps(tender: Tender, member: CommitteeMember, owed: Owed) -> list[str]:
    """The "what to do next" panel."""
    if not member.active:
        return [_("您已被更换出评标委员会（%(reason)s），无需再做任何事。",
                  reason=member.replace_reason or "—")]
    state = tender.state
    if state in (TenderState.FAILED, TenderState.CANCELLED):
        return [_("项目已%(state)s：%(reason)s", state=state.label, reason=tender.end_reason or "—")]
    if state in (TenderState.RESULT_PENDING, TenderState.AWARDED):
        return [_("评标已结束，评标报告已提交，无需再做任何事。")]
    if not is_opened(tender):
        return [_("开标后（%(time)s 起）您可以查看各投标文件，并逐一作出回避声明。",
                  time=_local(tender.opening_time))]
    steps = []
    if owed.declarations:
        steps.append(_("请对 %(n)s 家投标人作出回避声明（页面下方“回避声明”）。",
                       n=len(owed.declarations)))
    if state is TenderState.OPENED:
        if not owed.declarations:
            steps.append(_("回避声明已全部作出，请等待招标专员完成资格审查并开始评标。"))
        return steps
    round_ = evaluation.current_round(tender)
    if round_ is None:
        return steps
    if round_.state is RoundState.SCORING:
        if owed.sheets:
            steps.append(_("%(round)s：还有 %(n)s 份评分表待提交，点击投标人一行的“评分”。",
                           round=round_.label, n=len(owed.sheets)))
        else:
            steps.append(_("%(round)s：您的评分表已全部提交。", round=round_.label))
        if member.is_chair:
            pending = [b for b in tender.valid_bids
                       if b.low_price and b.low_price_decision is LowPriceDecision.PENDING]
            if pending:
                steps.append(_("有 %(n)s 家投标人报价异常偏低，请在“组长事务”中认定其书面说明。",
                               n=len(pending)))
            steps.append(_("全部评分表提交、异常低价认定完毕后，请在“组长事务”中结束本轮。"))
        elif not owed.sheets:
            steps.append(_("请等待其他评委提交，由组长结束本轮。"))
    elif evaluation.final_round(tender) is not None:
        steps.append(_("评分已结束。请组长在“组长事务”中提交评标报告。") if member.is_chair
                     else _("评分已结束，请等待组长提交评标报告。"))
    return steps


def _local(value) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M") if value else ""


@dataclass
class BidRow:
    bid: Bid
    readable: bool
    price_score: object
    tie: bool | None
    declaration: object
    sheet: object
    can_score: bool = False


def _can_score(tender: Tender, round_, tie, sheet) -> bool:
    """Whether the judge's own sheet for a bid is open for typing now."""
    return (tender.state is TenderState.EVALUATING and round_ is not None
            and round_.state is RoundState.SCORING and tie is False
            and (sheet is None or sheet.state is SheetState.DRAFT))


def _rows(tender: Tender, member: CommitteeMember, round_) -> list[BidRow]:
    if not member.active:
        return []
    prices = {e.bid_id: e.price_score for e in round_.entries} if round_ else {}
    # The judge's own sheets of the round, loaded once rather than one query per bid.
    mine = {s.bid_id: s for s in round_.sheets if s.member_id == member.id} if round_ else {}
    rows = []
    for bid in _bids_in_play(tender, round_):
        declaration = next((d for d in member.declarations if d.bid_id == bid.id), None)
        tie = evaluation.conflicted(member, bid.id)
        sheet = mine.get(bid.id)
        # The judge's seat is known here: no membership query per bid.
        rows.append(BidRow(bid=bid, readable=can_read_bid(current_user, bid, seat=member),
                           price_score=prices.get(bid.id), tie=tie, declaration=declaration,
                           sheet=sheet, can_score=_can_score(tender, round_, tie, sheet)))
    return rows


# --- pages -------------------------------------------------------------------------------

@bp.route("/")
@allow(Role.JUDGE)
def index():
    query = (sa.select(CommitteeMember).join(Tender, CommitteeMember.tender_id == Tender.id)
             .where(CommitteeMember.judge_id == current_user.id)
             .order_by(Tender.opening_time.desc(), Tender.id.desc()))
    page = paginate(query)
    owed = {m.id: _owed(m.tender, m) for m in page.items}
    steps = [_("%(tender)s：%(todo)s。", tender=f"{m.tender.number} {m.tender.title}",
               todo=_owed_text(owed[m.id])) for m in page.items if owed[m.id].count]
    steps += [_("%(tender)s：请结束本轮或提交评标报告（组长事务）。",
                tender=f"{m.tender.number} {m.tender.title}") for m in page.items
              if m.active and m.is_chair and _chair_due(m.tender)]
    return render_template("judging/index.html", page=page, owed=owed, steps=steps)


def _owed_text(owed: Owed) -> str:
    parts = []
    if owed.declarations:
        parts.append(_("%(n)s 家投标人待作出回避声明", n=len(owed.declarations)))
    if owed.sheets:
        parts.append(_("%(n)s 份评分表待提交", n=len(owed.sheets)))
    return "，".join(parts)


def _chair_due(tender: Tender) -> bool:
    """The chair has something to do: every sheet of the round is in, or the report is due."""
    if tender.state is not TenderState.EVALUATING:
        return False
    round_ = evaluation.current_round(tender)
    if round_ is None:
        return False
    if round_.state is RoundState.SCORING:
        return not evaluation.missing_sheets(round_)
    return evaluation.final_round(tender) is not None


def _render_show(tender: Tender, member: CommitteeMember, failed_form=None, failed_bid_id=None):
    all_rounds = evaluation.rounds(tender)
    round_ = all_rounds[-1] if all_rounds else None  # evaluation.current_round, read once
    rows = _rows(tender, member, round_)
    owed = _owed(tender, member)
    forms = {}
    if member.active and tender.state in DECLARING_STATES:
        for bid in owed.declarations:
            forms[bid.id] = (failed_form if bid.id == failed_bid_id
                             else DeclarationForm(prefix=f"d{bid.id}", formdata=None))
    my_rounds = []
    if member.active:
        for past in all_rounds:
            sheets = [s for s in past.sheets if s.member_id == member.id]
            if sheets:
                my_rounds.append((past, sorted(sheets, key=lambda s: s.bid.agency.name)))
    return render_template(
        "judging/show.html", tender=tender, member=member, round=round_, rows=rows,
        owed=owed, steps=_next_steps(tender, member, owed), declaration_forms=forms,
        opened=is_opened(tender), my_rounds=my_rounds)


@bp.route("/tenders/<int:tender_id>")
@allow(Role.JUDGE)
def show(tender_id: int):
    tender, member = _seat(tender_id)
    return _render_show(tender, member)


@bp.route("/tenders/<int:tender_id>/bids/<int:bid_id>/declare", methods=["POST"])
@allow(Role.JUDGE)
def declare(tender_id: int, bid_id: int):
    tender, member = _active_seat(tender_id)
    bid = _readable_bid(tender, bid_id)
    form = DeclarationForm(prefix=f"d{bid.id}")
    if form.validate_on_submit():
        done = (_("已声明回避：您不能为“%(agency)s”评分。", agency=bid.agency.name) if form.tie
                else _("已声明与“%(agency)s”不存在利害关系。", agency=bid.agency.name))
        if perform(lambda: evaluation.declare(current_user, member, bid, has_tie=form.tie,
                                              description=form.description.data), done, form):
            return redirect(url_for("judging.show", tender_id=tender.id))
    return _render_show(tender, member, failed_form=form, failed_bid_id=bid.id)


# --- score sheets ------------------------------------------------------------------------

def _round_for_view(tender: Tender) -> EvaluationRound | None:
    """The round asked for with ?round=N (the judge's own earlier sheets), else the current."""
    number = request.args.get("round", type=int)
    all_rounds = evaluation.rounds(tender)
    if number is None:
        return all_rounds[-1] if all_rounds else None
    found = next((r for r in all_rounds if r.number == number), None)
    if found is None:
        abort(404)
    return found


def _render_sheet(tender, member, bid, round_, form=None, correction_form=None):
    entry = next((e for e in round_.entries if e.bid_id == bid.id), None)
    if entry is None:
        abort(404)
    sheet = evaluation.sheet_of(round_, member, bid)
    current = evaluation.current_round(tender)
    is_current = current is not None and current.id == round_.id
    tie = evaluation.conflicted(member, bid.id)
    editable = is_current and _can_score(tender, round_, tie, sheet)
    correctable = (is_current and tender.state is TenderState.EVALUATING and sheet is not None
                   and sheet.state is SheetState.SUBMITTED)
    if form is None:
        form = score_sheet_form(tender, formdata=None, data=sheet_data(sheet))
    if correction_form is None and correctable:
        correction_form = CorrectionForm(criteria=scored_criteria(tender), formdata=None)
    base_price = min((e.bid.price_fen for e in round_.entries if e.bid.valid), default=None)
    corrections = []
    if sheet is not None:
        corrections = db.session.scalars(sa.select(ScoreCorrection).where(
            ScoreCorrection.sheet_id == sheet.id).order_by(ScoreCorrection.id)).all()
    return render_template(
        "judging/sheet.html", tender=tender, member=member, bid=bid, round=round_, entry=entry,
        sheet=sheet, tie=tie, editable=editable, correctable=correctable, form=form,
        correction_form=correction_form if correctable else None, base_price=base_price,
        price_criterion=tender.price_criterion, corrections=corrections,
        files=bid.current_files, is_current=is_current,
        bid_rounds=[r for r in evaluation.rounds(tender) if any(e.bid_id == bid.id for e in r.entries)])


@bp.route("/tenders/<int:tender_id>/bids/<int:bid_id>/sheet", methods=["GET", "POST"])
@allow(Role.JUDGE)
def sheet(tender_id: int, bid_id: int):
    tender, member = _active_seat(tender_id)
    bid = _readable_bid(tender, bid_id)
    if request.method == "POST":
        round_ = evaluation.current_round(tender)  # scores only ever go into the current round
    else:
        round_ = _round_for_view(tender)
    if round_ is None:
        flash(_("评标尚未开始，开始后才能评分。"), "warning")
        return redirect(url_for("judging.show", tender_id=tender.id))
    form = None
    if request.method == "POST":
        form = score_sheet_form(tender)
        if form.validate_on_submit():
            submitting = form.submitting
            done = (_("评分表已提交。如发现错误，只能按规定的事由申请更正。") if submitting
                    else _("评分草稿已保存，提交前仍可修改。"))
            if perform(lambda: evaluation.save_sheet(current_user, member, round_, bid,
                                                     form.values(), submit=submitting),
                       done, form):
                if submitting:
                    return redirect(url_for("judging.show", tender_id=tender.id))
                return redirect(url_for("judging.sheet", tender_id=tender.id, bid_id=bid.id))
    return _render_sheet(tender, member, bid, round_, form=form)


@bp.route("/tenders/<int:tender_id>/bids/<int:bid_id>/correct", methods=["POST"])
@allow(Role.JUDGE)
def correct(tender_id: int, bid_id: int):
    tender, member = _active_seat(tender_id)
    bid = _readable_bid(tender, bid_id)
    round_ = evaluation.current_round(tender)
    own = evaluation.sheet_of(round_, member, bid) if round_ else None
    if own is None:
        flash(_("您在本轮还没有该投标人的评分表，无需更正。"), "warning")
        return redirect(url_for("judging.show", tender_id=tender.id))
    form = CorrectionForm(criteria=scored_criteria(tender))
    if form.validate_on_submit() and perform(
            lambda: evaluation.correct_score(current_user, own, form.criterion.data,
                                             form.value.data,
                                             reason=CorrectionReason(form.reason.data),
                                             note=form.note.data),
            _("更正已记录，评分表合计已重新计算。"), form):
        return redirect(url_for("judging.sheet", tender_id=tender.id, bid_id=bid.id))
    if own.state is not SheetState.SUBMITTED:
        flash(_("评分表尚未提交，可直接修改，无需更正。"), "warning")
    return _render_sheet(tender, member, bid, round_, correction_form=form)


@bp.route("/bid-files/<int:file_id>")
@allow(Role.JUDGE)
def bid_file(file_id: int):
    bid_file = db.get_or_404(BidFile, file_id)
    bid = bid_file.bid
    require(is_judge_of(current_user, bid.tender) and can_read_bid(current_user, bid),
            "只有本项目在任的评委可以在开标后下载投标文件。")
    if bid_file.version != bid.version:
        abort(404)  # a replaced version of the bid is not part of it
    return storage.send(bid_file.file)


# --- the chair ---------------------------------------------------------------------------

def _render_chair(tender, member, low_price_forms=None, close_form=None, report_form=None):
    round_ = evaluation.current_round(tender)
    evaluating = tender.state is TenderState.EVALUATING
    scoring = evaluating and round_ is not None and round_.state is RoundState.SCORING
    missing: dict[str, list[str]] = {}
    for judge_member, bid in (evaluation.missing_sheets(round_) if scoring else []):
        missing.setdefault(judge_member.judge.name, []).append(bid.agency.name)
    low_price = [b for b in tender.submitted_bids if b.low_price]
    forms = dict(low_price_forms or {})
    if evaluating:
        for bid in low_price:
            if bid.low_price_decision is LowPriceDecision.PENDING and bid.id not in forms:
                forms[bid.id] = LowPriceDecisionForm(prefix=f"lp{bid.id}", formdata=None)
    if scoring and close_form is None:
        close_form = CloseRoundForm(formdata=None, data={"round_number": round_.number})
    can_report = evaluating and evaluation.final_round(tender) is not None
    if can_report and report_form is None:
        report_form = ReportForm(formdata=None)
    closed = [(r, sorted(r.entries, key=lambda e: (e.rank is None, e.rank or 0)))
              for r in evaluation.rounds(tender) if r.state is RoundState.CLOSED]
    return render_template(
        "judging/chair.html", tender=tender, member=member, round=round_, scoring=scoring,
        missing=missing, low_price=low_price, low_price_forms=forms,
        readable={b.id: can_read_bid(current_user, b) for b in low_price},
        close_form=close_form if scoring else None, report_form=report_form if can_report else None,
        closed_rounds=closed, steps=_next_steps(tender, member, _owed(tender, member)))


@bp.route("/tenders/<int:tender_id>/chair")
@allow(Role.JUDGE)
def chair(tender_id: int):
    tender, member = _chair_seat(tender_id)
    return _render_chair(tender, member)


@bp.route("/tenders/<int:tender_id>/bids/<int:bid_id>/low-price", methods=["POST"])
@allow(Role.JUDGE)
def decide_low_price(tender_id: int, bid_id: int):
    tender, member = _chair_seat(tender_id)
    bid = _readable_bid(tender, bid_id)
    form = LowPriceDecisionForm(prefix=f"lp{bid.id}")
    if form.validate_on_submit():
        done = (_("已接受“%(agency)s”的低价说明，该投标可参与排序。", agency=bid.agency.name)
                if form.accept else
                _("已不接受“%(agency)s”的低价说明，该投标按无效投标处理。", agency=bid.agency.name))
        if perform(lambda: bidding.decide_low_price(current_user, bid, accept=form.accept,
                                                    note=form.note.data), done, form):
            return redirect(url_for("judging.chair", tender_id=tender.id))
    return _render_chair(tender, member, low_price_forms={bid.id: form})


@bp.route("/tenders/<int:tender_id>/close-round", methods=["POST"])
@allow(Role.JUDGE)
def close_round(tender_id: int):
    tender, member = _chair_seat(tender_id)
    round_ = evaluation.current_round(tender)
    form = CloseRoundForm()
    if round_ is None or form.round_number.data != str(round_.number):
        flash(_("该轮次已结束或尚未开始，请查看最新情况后再操作。"), "warning")
        return redirect(url_for("judging.chair", tender_id=tender.id))
    if form.validate_on_submit():
        shortlist = form.shortlist.data

        def done(closed):
            if shortlist:
                return _("%(round)s已结束，排名前 %(n)s 的投标人进入第%(next)s轮。",
                         round=closed.label, n=shortlist, next=closed.number + 1)
            return _("%(round)s已结束，本轮排序为最终结果。请提交评标报告。", round=closed.label)

        if perform(lambda: evaluation.close_round(current_user, round_, shortlist=shortlist),
                   done, form):
            return redirect(url_for("judging.chair", tender_id=tender.id))
    return _render_chair(tender, member, close_form=form)


@bp.route("/tenders/<int:tender_id>/report", methods=["POST"])
@allow(Role.JUDGE)
def submit_report(tender_id: int):
    tender, member = _chair_seat(tender_id)
    form = ReportForm()
    if form.validate_on_submit() and perform(
            lambda: award.submit_report(current_user, tender, member, form.text.data),
            _("评标报告已提交，项目进入待定标，由采购人按排序确定中标人。"), form):
        return redirect(url_for("judging.show", tender_id=tender.id))
    return _render_chair(tender, member, report_form=form)

