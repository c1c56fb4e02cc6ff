"""The evaluation report (评标报告, 87号令 68): everything the committee did on one tender,
gathered for templates/pdf/evaluation_report.html.

A handful of queries, whatever the number of bids, judges and rounds: the tender with its
lists, the bids, the committee with its declarations, the rounds with their entries, sheets
and scores, and the corrections. Nothing of a bid's price is included unless the tender has
been opened (`permissions.is_opened`); the route still decides who may print the report.
"""
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, lazyload, selectinload

from procurement.core.money import format_fen, from_fen, in_words
from procurement.core.numbers import format_percent
from procurement.extensions import db
from procurement.tenders import rules
from procurement.tenders.evaluation_models import (CommitteeMember, EvaluationRound,
                                                   ScoreCorrection, ScoreSheet)
from procurement.tenders.models import Bid, Invitation, Tender
from procurement.tenders.permissions import is_opened
from procurement.tenders.states import (BidState, CriterionKind, LowPriceDecision, RoundState,
                                        SheetState, TenderState)


def money(fen: int | None) -> dict | None:
    """An amount as the report prints it: ¥400,000.00 and 人民币肆拾万元整."""
    if fen is None:
        return None
    return {"fen": fen, "text": format_fen(fen), "words": in_words(from_fen(fen))}


@dataclass
class OpeningRow:
    order: int | None
    agency: str
    price: dict | None
    submitted_at: datetime
    valid: bool | None
    invalid_reason: str | None
    low_price: bool
    low_price_decision: str | None
    low_price_explanation: str | None
    low_price_note: str | None


@dataclass
class MemberRow:
    name: str
    org: str
    title: str
    role: str          # 评审专家 / 采购人代表
    is_chair: bool
    active: bool
    appointed_at: datetime
    replaced_at: datetime | None = None
    replace_reason: str | None = None
    replaced_by: str | None = None


@dataclass
class DeclarationRow:
    judge: str
    bidder: str
    has_tie: bool
    description: str | None
    declared_at: datetime


@dataclass
class JudgeRow:
    """One judge's line for one bid in one round."""
    judge: str
    status: str            # scored / draft / missing / conflicted / void
    status_label: str
    scores: list[Decimal | None] = field(default_factory=list)  # per scored (non-price) criterion
    total: Decimal | None = None


@dataclass
class BidBlock:
    """One bid in one round: every judge's scores and the combined result."""
    agency: str
    price: dict | None
    price_score: Decimal
    rows: list[JudgeRow]
    final_score: Decimal | None
    technical_score: Decimal | None
    rank: int | None
    tie_note: str | None
    unranked_reason: str | None


@dataclass
class CorrectionRow:
    judge: str
    bidder: str
    criterion: str
    old_value: Decimal
    new_value: Decimal
    reason: str
    note: str
    corrected_at: datetime


@dataclass
class RoundView:
    number: int
    label: str
    state: str
    closed: bool
    opened_at: datetime
    closed_at: datetime | None
    shortlist: int | None
    draw_seed: str | None
    bids: list[BidBlock]
    ranking: list[BidBlock]
    corrections: list[CorrectionRow]

    @property
    def final(self) -> bool:
        return self.closed and not self.shortlist


def _load(tender: Tender):
    """All rows the report needs, in a fixed number of queries."""
    tender = db.session.scalars(
        sa.select(Tender).where(Tender.id == tender.id).options(
            selectinload(Tender.communities), selectinload(Tender.criteria),
            selectinload(Tender.invitations).joinedload(Invitation.agency),
            selectinload(Tender.challenges), joinedload(Tender.street_office),
            joinedload(Tender.awarded_bid).lazyload(Bid.files))
    ).one()
    bids = list(db.session.scalars(
        sa.select(Bid).where(Bid.tender_id == tender.id)
        .options(lazyload(Bid.files))  # the report names no files
        .order_by(Bid.opening_order.is_(None), Bid.opening_order, Bid.submitted_at, Bid.id)))
    seats = list(db.session.scalars(
        sa.select(CommitteeMember).where(CommitteeMember.tender_id == tender.id)
        .options(selectinload(CommitteeMember.declarations))
        .order_by(CommitteeMember.is_chair.desc(), CommitteeMember.is_expert.desc(),
                  CommitteeMember.id)))
    rounds = list(db.session.scalars(
        sa.select(EvaluationRound).where(EvaluationRound.tender_id == tender.id)
        .options(selectinload(EvaluationRound.entries),
                 selectinload(EvaluationRound.sheets).selectinload(ScoreSheet.scores))
        .order_by(EvaluationRound.number)))
    corrections = list(db.session.scalars(
        sa.select(ScoreCorrection).join(ScoreSheet, ScoreCorrection.sheet_id == ScoreSheet.id)
        .join(EvaluationRound, ScoreSheet.round_id == EvaluationRound.id)
        .where(EvaluationRound.tender_id == tender.id)
        .order_by(ScoreCorrection.corrected_at, ScoreCorrection.id)))
    return tender, bids, seats, rounds, corrections


def _facts(tender: Tender, schedule_dates: dict) -> dict:
    return {
        "number": tender.number,
        "title": tender.title,
        "description": tender.description,
        "method": tender.method.label,
        "state": tender.state.label,
        "purchaser": tender.street_office.name,
        "communities": [c.name for c in tender.communities],
        "budget": money(tender.budget_fen),
        "ceiling": money(tender.ceiling_fen),
        "deposit": money(tender.deposit_fen),
        "tie_break": tender.tie_break.label,
        "score_combination": tender.score_combination.label,
        "low_price_ratio": format_percent(tender.low_price_ratio),
        "invited": [i.agency.name for i in tender.invitations],
        "invitations_sent_at": next((i.sent_at for i in tender.invitations if i.sent_at), None),
        **schedule_dates,
    }


def _opening(tender: Tender, bids: list[Bid], opened: bool) -> dict:
    submitted = [b for b in bids if b.state is BidState.SUBMITTED]
    rows = [OpeningRow(
        order=b.opening_order, agency=b.agency.name,
        price=money(b.price_fen) if opened else None, submitted_at=b.submitted_at,
        valid=b.valid if opened else None,
        invalid_reason=b.invalid_reason if opened else None,
        low_price=b.low_price and opened,
        low_price_decision=b.low_price_decision.label if opened and b.low_price_decision else None,
        low_price_explanation=b.low_price_explanation if opened else None,
        low_price_note=b.low_price_note if opened else None) for b in submitted]
    valid = [b for b in submitted if b.valid]
    base = min((b.price_fen for b in valid), default=None) if opened else None
    return {"opened": opened, "opened_at": tender.opened_at, "rows": rows,
            "count": len(submitted), "withdrawn": sum(b.state is BidState.WITHDRAWN for b in bids),
            "valid_count": len(valid) if opened else None,
            "low_price_rows": [r for r in rows if r.low_price],
            "base_price": money(base)}


def _committee(seats: list[CommitteeMember]) -> dict:
    by_id = {m.id: m for m in seats}
    rows = [MemberRow(
        name=m.judge.name, org=m.judge.org.name, title=m.judge.title or "",
        role=m.role_label, is_chair=m.is_chair, active=m.active, appointed_at=m.appointed_at,
        replaced_at=m.replaced_at, replace_reason=m.replace_reason,
        replaced_by=by_id[m.replaced_by_id].judge.name if m.replaced_by_id in by_id else None)
        for m in seats]
    chair = next((m for m in seats if m.is_chair and m.active), None)
    active = [m for m in seats if m.active]
    return {"members": [r for r in rows if r.active],
            "replaced": [r for r in rows if not r.active],
            "chair": chair.judge.name if chair else None,
            "size": len(active), "experts": sum(1 for m in active if m.is_expert),
            "signers": [m.judge.name for m in active]}


def _declarations(seats: list[CommitteeMember], bids_by_id: dict[int, Bid]) -> dict:
    rows = []
    for member in seats:
        for d in sorted(member.declarations, key=lambda d: (d.declared_at, d.id)):
            bid = bids_by_id.get(d.bid_id)
            rows.append(DeclarationRow(judge=member.judge.name,
                                       bidder=bid.agency.name if bid else "",
                                       has_tie=d.has_tie, description=d.tie_description,
                                       declared_at=d.declared_at))
    ties = [r for r in rows if r.has_tie]
    return {"rows": rows, "ties": ties, "count": len(rows),
            "clear_judges": sorted({r.judge for r in rows} - {r.judge for r in ties})}


def _unranked_reason(bid: Bid) -> str | None:
    if bid.state is not BidState.SUBMITTED:
        return "投标已撤回"
    if not bid.valid:
        return bid.invalid_reason or "无效投标"
    if bid.low_price and bid.low_price_decision is not LowPriceDecision.ACCEPTED:
        return "异常低价说明未获认定"
    return None


def _round_view(round_: EvaluationRound, tender: Tender, scored_criteria, seats, bids_by_id,
                corrections: list[ScoreCorrection], opened: bool) -> RoundView:
    sheets = {(s.member_id, s.bid_id): s for s in round_.sheets}
    corrected = {c.sheet_id for c in corrections}
    # Judges who sat in this round: everyone active now, plus anyone replaced whose sheets
    # in this round were voided.
    sat = [m for m in seats if m.active or any(s.member_id == m.id for s in round_.sheets)]
    blocks = []
    for entry in round_.entries:
        bid = bids_by_id.get(entry.bid_id) or entry.bid
        rows = []
        for member in sat:
            declaration = next((d for d in member.declarations if d.bid_id == bid.id), None)
            sheet = sheets.get((member.id, bid.id))
            if declaration is not None and declaration.has_tie:
                rows.append(JudgeRow(member.judge.name, "conflicted", "回避"))
                continue
            if sheet is None:
                rows.append(JudgeRow(member.judge.name, "missing",
                                     "未评分" if member.active else "未参加"))
                continue
            values = {s.criterion_id: s.value for s in sheet.scores}
            status = {SheetState.SUBMITTED: "scored", SheetState.DRAFT: "draft",
                      SheetState.VOID: "void"}[sheet.state]
            label = {"scored": "已更正" if sheet.id in corrected else "", "draft": "未提交",
                     "void": "已作废（评委已更换）"}[status]
            rows.append(JudgeRow(member.judge.name, status, label,
                                 [values.get(c.id) for c in scored_criteria], sheet.total))
        blocks.append(BidBlock(
            agency=bid.agency.name, price=money(bid.price_fen) if opened else None,
            price_score=entry.price_score, rows=rows, final_score=entry.final_score,
            technical_score=entry.technical_score, rank=entry.rank, tie_note=entry.tie_note,
            unranked_reason=None if entry.rank is not None else _unranked_reason(bid)))
    closed = round_.state is RoundState.CLOSED
    ranking = sorted((b for b in blocks if b.rank is not None), key=lambda b: b.rank)
    sheet_by_id = {s.id: s for s in round_.sheets}
    member_by_id = {m.id: m for m in seats}
    criterion_by_id = {c.id: c for c in tender.criteria}
    rows = []
    for c in corrections:
        sheet = sheet_by_id.get(c.sheet_id)
        if sheet is None:
            continue
        bid = bids_by_id.get(sheet.bid_id)
        member = member_by_id.get(sheet.member_id)
        rows.append(CorrectionRow(
            judge=member.judge.name if member else "", bidder=bid.agency.name if bid else "",
            criterion=criterion_by_id[c.criterion_id].name if c.criterion_id in criterion_by_id
            else "", old_value=c.old_value, new_value=c.new_value, reason=c.reason.label,
            note=c.note, corrected_at=c.corrected_at))
    return RoundView(number=round_.number, label=round_.label, state=round_.state.label,
                     closed=closed, opened_at=round_.opened_at, closed_at=round_.closed_at,
                     shortlist=round_.shortlist, draw_seed=round_.draw_seed, bids=blocks,
                     ranking=ranking if closed else [], corrections=rows)


def _decision(tender: Tender, final: RoundView | None, pick_due: date | None) -> dict:
    decision = {"state": tender.state.value, "state_label": tender.state.label,
                "awarded": tender.state is TenderState.AWARDED,
                "failed": tender.state in (TenderState.FAILED, TenderState.CANCELLED),
                "pending": tender.state is TenderState.RESULT_PENDING,
                "pick_due": pick_due, "end_reason": tender.end_reason,
                "ended_at": tender.ended_at, "challenges": []}
    if tender.awarded_bid is not None:
        winner = tender.awarded_bid
        rank = None
        if final is not None:
            rank = next((b.rank for b in final.ranking if b.agency == winner.agency.name), None)
        decision.update(
            winner=winner.agency.name, winner_rank=rank, winner_price=money(winner.price_fen),
            pick_reason=tender.pick_reason, notice_published_at=tender.notice_published_at,
            notice_end=tender.notice_end, challenge_until=tender.challenge_until)
    decision["challenges"] = [{
        "agency": c.agency.name, "state": c.state.label, "content": c.content,
        "submitted_at": c.submitted_at, "answer": c.answer, "answered_at": c.answered_at,
        "may_change_result": c.may_change_result} for c in tender.challenges]
    return decision


def report_context(tender: Tender) -> dict:
    """The template context for pdf/evaluation_report.html."""
    tender, bids, seats, round_rows, corrections = _load(tender)
    opened = is_opened(tender)
    bids_by_id = {b.id: b for b in bids}
    scored_criteria = [c for c in tender.criteria if c.kind is not CriterionKind.PRICE]
    price_criterion = tender.price_criterion
    report_due = (rules.working_deadline(rules.local_date(tender.opened_at),
                                         rules.REPORT_WORKING_DAYS) if tender.opened_at else None)
    pick_due = (rules.working_deadline(rules.local_date(tender.report_at),
                                       rules.PICK_WORKING_DAYS) if tender.report_at else None)
    dates = {"published_at": tender.published_at, "documents_until": tender.documents_until,
             "bid_deadline": tender.bid_deadline, "opening_time": tender.opening_time,
             "opened_at": tender.opened_at, "report_at": tender.report_at,
             "report_due": report_due, "pick_due": pick_due}
    rounds = [_round_view(r, tender, scored_criteria, seats, bids_by_id, corrections, opened)
              for r in round_rows] if opened else []
    last = rounds[-1] if rounds else None
    final = last if last is not None and last.final else None
    return {
        "tender": tender,
        "facts": _facts(tender, dates),
        "criteria": [{"name": c.name, "kind": c.kind.label, "max_score": c.max_score,
                      "weight": format_percent(c.weight), "price": c.kind is CriterionKind.PRICE}
                     for c in tender.criteria],
        "scored_criteria": [c.name for c in scored_criteria],
        "price_weight": format_percent(price_criterion.weight) if price_criterion else None,
        "opening": _opening(tender, bids, opened),
        "committee": _committee(seats),
        "declarations": _declarations(seats, bids_by_id),
        "rounds": rounds,
        "final_ranking": final.ranking if final else [],
        "final_round": final,
        "report_text": tender.report_text,
        "decision": _decision(tender, final, pick_due),
    }
