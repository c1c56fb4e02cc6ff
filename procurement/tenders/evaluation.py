"""The evaluation committee and its rounds: forming and replacing members, declarations of
ties, independent scoring, corrections for the allowed reasons, and ranking."""
import secrets
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from procurement.accounts.models import User
from procurement.accounts.roles import Role
from procurement.audit import record
from procurement.core import clock
from procurement.core.errors import DomainError
from procurement.extensions import db
from procurement.orgs.models import OrgKind
from procurement.tenders import rules
from procurement.tenders.bidding import flag_low_prices
from procurement.tenders.evaluation_models import (CommitteeMember, Declaration, EvaluationRound,
                                                   RoundEntry, Score, ScoreCorrection, ScoreSheet)
from procurement.tenders.models import Bid, Tender
from procurement.tenders.services import tender_snapshot
from procurement.tenders.states import (ROUND, SHEET, TENDER, BidState, CorrectionReason,
                                        CriterionKind, LowPriceDecision, MemberState, RoundState,
                                        SheetState, TenderState)

COMMITTEE_STATES = {TenderState.DRAFT, TenderState.PUBLISHED, TenderState.CLARIFIED,
                    TenderState.BIDDING_CLOSED, TenderState.OPENED}


def member_of(tender: Tender, user) -> CommitteeMember | None:
    # The judge is the user at hand: its roles are not read again with the seat.
    return db.session.scalars(sa.select(CommitteeMember).where(
        CommitteeMember.tender_id == tender.id, CommitteeMember.judge_id == user.id)
        .options(joinedload(CommitteeMember.judge).lazyload(User.role_rows))).first()


def members(tender: Tender, active_only: bool = True) -> list[CommitteeMember]:
    query = sa.select(CommitteeMember).where(CommitteeMember.tender_id == tender.id).options(
        joinedload(CommitteeMember.judge).lazyload(User.role_rows))  # names, not roles
    if active_only:
        query = query.where(CommitteeMember.state == MemberState.ACTIVE)
    return list(db.session.scalars(query.order_by(CommitteeMember.id)))


def is_expert(judge: User) -> bool:
    """Judges from universities or the government expert pool are experts; a judge from a
    street office represents the purchaser."""
    return judge.org.kind is not OrgKind.STREET_OFFICE


def _check_judge(tender: Tender, judge: User) -> None:
    if not judge.active or not judge.has_role(Role.JUDGE):
        raise DomainError(f"{judge.name}不是启用的评委账号。", field="judges")
    if judge.org.kind is OrgKind.STREET_OFFICE and judge.org_id != tender.street_office_id:
        raise DomainError(f"{judge.name}是其他街道的工作人员，不能作为本项目的采购人代表。",
                          field="judges")


def _check_composition(tender: Tender, seats: list[tuple[User, bool]]) -> None:
    """seats: (judge, is_chair) for the whole committee."""
    chairs = [judge for judge, chair in seats if chair]
    if len(chairs) > 1:
        raise DomainError("评标委员会只能有一名组长。", field="chair")
    rules.check_committee(
        size=len(seats), experts=sum(1 for judge, _ in seats if is_expert(judge)),
        chair_is_expert=is_expert(chairs[0]) if chairs else None,
        minimum=rules.min_committee_size(tender.method, tender.budget_fen, tender.large_impact))


def form_committee(actor, tender: Tender, *, judges: list[User], chair: User) -> list[CommitteeMember]:
    """Form (or re-form, before scoring starts) the committee from judge users."""
    TENDER.require_in(tender, COMMITTEE_STATES, "组建评标委员会")
    judges = list({j.id: j for j in judges}.values())
    if chair.id not in {j.id for j in judges}:
        raise DomainError("组长必须是评标委员会成员。", field="chair")
    for judge in judges:
        _check_judge(tender, judge)
    _check_composition(tender, [(j, j.id == chair.id) for j in judges])
    existing = members(tender, active_only=False)
    if any(m.declarations for m in existing):
        raise DomainError("已有成员作出回避声明，不能重新组建；如需调整请更换成员。")
    before = [m.judge.name for m in existing]
    for member in existing:
        db.session.delete(member)
    db.session.flush()
    now = clock.now()
    seats = [CommitteeMember(tender_id=tender.id, judge_id=j.id, judge=j, is_expert=is_expert(j),
                             is_chair=j.id == chair.id, appointed_at=now) for j in judges]
    db.session.add_all(seats)
    db.session.flush()
    record(actor, "committee.form", tender, {"members": before} if before else None,
           {"members": [j.name for j in judges], "chair": chair.name})
    return seats


def replace_member(actor, member: CommitteeMember, *, new_judge: User, reason: str
                   ) -> CommitteeMember:
    """A replaced member's scores are void (87号令 49); the newcomer scores afresh."""
    tender = member.tender
    TENDER.require_in(tender, COMMITTEE_STATES | {TenderState.EVALUATING}, "更换评委")
    if not member.active:
        raise DomainError("该成员已被更换。")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写更换原因。", field="reason")
    if member_of(tender, new_judge) is not None:
        raise DomainError(f"{new_judge.name}已是或曾是本项目评委，不能再次加入。", field="judge")
    _check_judge(tender, new_judge)
    seats = [(m.judge, m.is_chair) for m in members(tender) if m.id != member.id]
    seats.append((new_judge, member.is_chair))
    _check_composition(tender, seats)
    now = clock.now()
    newcomer = CommitteeMember(tender_id=tender.id, judge_id=new_judge.id, judge=new_judge,
                               is_expert=is_expert(new_judge), is_chair=member.is_chair,
                               appointed_at=now)
    db.session.add(newcomer)
    db.session.flush()
    member.state = MemberState.REPLACED
    member.is_chair = False
    member.replaced_at, member.replace_reason, member.replaced_by_id = now, reason[:500], newcomer.id
    voided = 0
    for sheet in db.session.scalars(sa.select(ScoreSheet).where(ScoreSheet.member_id == member.id)):
        if sheet.state is not SheetState.VOID:
            SHEET.move(sheet, SheetState.VOID, "作废")
            voided += 1
    db.session.flush()
    record(actor, "committee.replace", tender, {"member": member.judge.name},
           {"member": new_judge.name, "reason": reason, "voided_sheets": voided})
    return newcomer


def declare(actor, member: CommitteeMember, bid: Bid, *, has_tie: bool,
            description: str | None = None) -> Declaration:
    """The judge states any tie to a bidder (实施条例 9); a tie bars scoring that bid."""
    TENDER.require_in(member.tender, {TenderState.OPENED, TenderState.EVALUATING}, "作出回避声明")
    if not member.active:
        raise DomainError("已被更换的评委不能作出声明。")
    if bid.tender_id != member.tender_id or bid.state is not BidState.SUBMITTED:
        raise DomainError("该投标不属于本项目。")
    description = (description or "").strip()
    if has_tie and not description:
        raise DomainError("请说明与该投标人的关系。", field="description")
    existing = db.session.scalars(sa.select(Declaration).where(
        Declaration.member_id == member.id, Declaration.bid_id == bid.id)).first()
    if existing is not None:
        raise DomainError("对该投标人的回避声明已作出，不能更改；如有新情况请联系招标专员更换评委。")
    declaration = Declaration(member=member, bid_id=bid.id, has_tie=bool(has_tie),
                              tie_description=description[:500] or None, declared_at=clock.now())
    db.session.add(declaration)
    db.session.flush()
    record(actor, "committee.declare", member.tender, None,
           {"judge": member.judge.name, "bidder": bid.agency.name, "has_tie": bool(has_tie),
            "description": declaration.tie_description})
    return declaration


def conflicted(member: CommitteeMember, bid_id: int) -> bool | None:
    """True: tied to the bidder; False: declared no tie; None: not declared yet."""
    declaration = next((d for d in member.declarations if d.bid_id == bid_id), None)
    return None if declaration is None else declaration.has_tie


def _rankable_or_pending(tender: Tender) -> list[Bid]:
    return [b for b in tender.valid_bids
            if not b.low_price or b.low_price_decision is not LowPriceDecision.REJECTED]


def fail_if_too_few(actor, tender: Tender) -> bool:
    """Fewer than 3 substantively responsive bids: the tender fails (87号令 44; 法 36)."""
    if tender.state is not TenderState.EVALUATING:
        return False
    remaining = _rankable_or_pending(tender)
    if len(remaining) >= rules.MIN_BIDS:
        return False
    from procurement.tenders.services import fail
    fail(actor, tender, f"实质性响应招标文件要求的投标人不足 {rules.MIN_BIDS} 家"
                        f"（现 {len(remaining)} 家），依法废标（87号令第四十四条、政府采购法第三十六条）。")
    return True


def start_evaluation(actor, tender: Tender) -> EvaluationRound:
    """After qualification review: at least 3 qualified bids and a lawful committee."""
    TENDER.check(tender, TenderState.EVALUATING, "开始评标")
    bids = tender.submitted_bids
    if any(b.valid is None for b in bids):
        raise DomainError("还有投标未完成资格审查。")
    if len(tender.valid_bids) < rules.MIN_BIDS:
        raise DomainError(f"合格投标人不足 {rules.MIN_BIDS} 家，不得评标，只能废标"
                          "（87号令第四十三条）。")
    seats = members(tender)
    if not seats:
        raise DomainError("尚未组建评标委员会。")
    _check_composition(tender, [(m.judge, m.is_chair) for m in seats])
    before = tender_snapshot(tender)
    TENDER.move(tender, TenderState.EVALUATING, "开始评标")
    flagged = flag_low_prices(tender)
    first = _open_round(tender, 1, tender.valid_bids)
    after = tender_snapshot(tender)
    after["low_price_bids"] = sorted(b.agency.name for b in flagged)
    record(actor, "tender.evaluate", tender, before, after)
    return first


def _price_score_table(tender: Tender) -> dict[int, Decimal]:
    """Base price: the lowest valid bid of the tender (a rejected low price is not valid)."""
    return rules.price_scores({b.id: b.price_fen for b in tender.valid_bids})


def _open_round(tender: Tender, number: int, bids: list[Bid]) -> EvaluationRound:
    scores = _price_score_table(tender)
    round_ = EvaluationRound(tender_id=tender.id, tender=tender, number=number,
                             state=RoundState.SCORING, opened_at=clock.now())
    db.session.add(round_)
    round_.entries.extend(RoundEntry(bid_id=b.id, bid=b, price_score=scores[b.id]) for b in bids)
    db.session.flush()
    return round_


def rounds(tender: Tender) -> list[EvaluationRound]:
    return list(db.session.scalars(sa.select(EvaluationRound).where(
        EvaluationRound.tender_id == tender.id).order_by(EvaluationRound.number)))


def current_round(tender: Tender) -> EvaluationRound | None:
    all_rounds = rounds(tender)
    return all_rounds[-1] if all_rounds else None


def sheet_of(round_: EvaluationRound, member: CommitteeMember, bid: Bid) -> ScoreSheet | None:
    return db.session.scalars(sa.select(ScoreSheet).where(
        ScoreSheet.round_id == round_.id, ScoreSheet.member_id == member.id,
        ScoreSheet.bid_id == bid.id)).first()


def _entry(round_: EvaluationRound, bid: Bid) -> RoundEntry:
    entry = next((e for e in round_.entries if e.bid_id == bid.id), None)
    if entry is None:
        raise DomainError("该投标不在本轮评审范围内。")
    return entry


def _parse_values(tender: Tender, values: dict[int, Decimal]) -> dict[int, Decimal]:
    parsed = {}
    for criterion in tender.criteria:
        if criterion.kind is CriterionKind.PRICE:
            continue  # computed by the formula, never typed
        value = values.get(criterion.id)
        if value is None:
            raise DomainError(f"请为“{criterion.name}”打分。", field="scores")
        value = Decimal(value)
        rules.check_score(criterion.name, value, criterion.max_score)
        parsed[criterion.id] = value
    return parsed


def _totals(tender: Tender, values: dict[int, Decimal], price_score: Decimal
            ) -> tuple[Decimal, Decimal]:
    """(total, technical part) of one sheet, each out of 100 × weight."""
    technical = Decimal(0)
    total = Decimal(0)
    for criterion in tender.criteria:
        if criterion.kind is CriterionKind.PRICE:
            total += rules.weighted(price_score, Decimal(100), criterion.weight)
        else:
            part = rules.weighted(values[criterion.id], criterion.max_score, criterion.weight)
            technical += part
            total += part
    return rules.round2(total), rules.round2(technical)


def save_sheet(actor, member: CommitteeMember, round_: EvaluationRound, bid: Bid,
               values: dict[int, Decimal], *, submit: bool) -> ScoreSheet:
    """A judge's own scores for one bid. Saved as a draft or submitted; once submitted only
    a correction for an allowed reason changes it."""
    tender = round_.tender
    TENDER.require_in(tender, {TenderState.EVALUATING}, "评分")
    ROUND.require_in(round_, {RoundState.SCORING}, "评分")
    if not member.active or member.tender_id != tender.id:
        raise DomainError("您不是本项目在任的评委。")
    entry = _entry(round_, bid)
    tie = conflicted(member, bid.id)
    if tie is None:
        raise DomainError("请先对该投标人作出回避声明。")
    if tie:
        raise DomainError("您已声明与该投标人存在利害关系，须回避，不能为其评分（实施条例第九条）。")
    parsed = _parse_values(tender, values)
    sheet = sheet_of(round_, member, bid)
    if sheet is None:
        sheet = ScoreSheet(round=round_, member=member, bid_id=bid.id, state=SheetState.DRAFT)
        db.session.add(sheet)
    elif sheet.state is not SheetState.DRAFT:
        raise DomainError("评分表已提交，不能再修改；如确有错误请按规定的事由更正。")
    existing = {s.criterion_id: s for s in sheet.scores}
    for criterion_id, value in parsed.items():
        if criterion_id in existing:
            existing[criterion_id].value = value
        else:
            sheet.scores.append(Score(criterion_id=criterion_id, value=value))
    sheet.total = _totals(tender, parsed, entry.price_score)[0]
    if submit:
        SHEET.move(sheet, SheetState.SUBMITTED, "提交")
        sheet.submitted_at = clock.now()
    db.session.flush()
    if submit:
        record(actor, "score.submit", tender, None,
               {"round": round_.number, "judge": member.judge.name, "bidder": bid.agency.name,
                "scores": {str(k): str(v) for k, v in parsed.items()}, "total": str(sheet.total)})
    return sheet


def correct_score(actor, sheet: ScoreSheet, criterion_id: int, new_value: Decimal, *,
                  reason: CorrectionReason, note: str) -> ScoreCorrection:
    """87号令 64: a submitted score changes only to fix a summing error, a score out of range
    or inconsistent objective scores; the correction is recorded and the round re-ranked."""
    round_ = sheet.round
    tender = round_.tender
    TENDER.require_in(tender, {TenderState.EVALUATING}, "更正评分")
    if sheet.state is not SheetState.SUBMITTED:
        raise DomainError("只有已提交的评分表需要更正；未提交的可直接修改。")
    if round_.state is RoundState.CLOSED and current_round(tender).id != round_.id:
        raise DomainError("该轮已结束并已进入下一轮，不能再更正。")
    reason = CorrectionReason(reason)
    note = (note or "").strip()
    if not note:
        raise DomainError("请说明更正的具体情况。", field="note")
    score = sheet.score_for(criterion_id)
    if score is None:
        raise DomainError("价格分由公式计算，不能更正；请选择其他评分因素。", field="criterion")
    criterion = score.criterion
    if reason is CorrectionReason.OBJECTIVE_INCONSISTENT and criterion.kind is not CriterionKind.OBJECTIVE:
        raise DomainError("“客观评审因素评分不一致”只适用于客观分。", field="reason")
    new_value = Decimal(new_value)
    rules.check_score(criterion.name, new_value, criterion.max_score)
    if new_value == score.value:
        raise DomainError("更正后的分值与原分值相同。", field="value")
    correction = ScoreCorrection(sheet_id=sheet.id, criterion_id=criterion_id,
                                 old_value=score.value, new_value=new_value, reason=reason,
                                 note=note[:500], corrected_by_id=getattr(actor, "id", None),
                                 corrected_at=clock.now())
    db.session.add(correction)
    old_total = sheet.total
    score.value = new_value
    values = {s.criterion_id: s.value for s in sheet.scores}
    sheet.total = _totals(tender, values, _entry(round_, sheet.bid).price_score)[0]
    db.session.flush()
    record(actor, "score.correct", tender,
           {"criterion": criterion.name, "value": str(correction.old_value), "total": str(old_total)},
           {"criterion": criterion.name, "value": str(new_value), "total": str(sheet.total),
            "reason": reason.value, "note": note, "judge": sheet.member.judge.name,
            "bidder": sheet.bid.agency.name, "round": round_.number})
    if round_.state is RoundState.CLOSED:
        _rank_round(round_)
    return correction


def missing_sheets(round_: EvaluationRound) -> list[tuple[CommitteeMember, Bid]]:
    """Every (active judge, bid) pair that still owes a submitted sheet; a conflicted judge
    owes none for that bid."""
    submitted = {(s.member_id, s.bid_id) for s in round_.sheets if s.state is SheetState.SUBMITTED}
    missing = []
    for member in members(round_.tender):
        for entry in round_.entries:
            if entry.bid.state is not BidState.SUBMITTED or not entry.bid.valid:
                continue
            if conflicted(member, entry.bid_id):
                continue
            if (member.id, entry.bid_id) not in submitted:
                missing.append((member, entry.bid))
    return missing


def _rank_round(round_: EvaluationRound) -> None:
    tender = round_.tender
    standings = []
    for entry in round_.entries:
        if not entry.bid.rankable:
            entry.final_score = entry.technical_score = entry.rank = None
            continue
        sheets = [s for s in round_.sheets
                  if s.bid_id == entry.bid_id and s.state is SheetState.SUBMITTED]
        entry.final_score = rules.combine([s.total for s in sheets], tender.score_combination)
        entry.technical_score = rules.combine(
            [_totals(tender, {x.criterion_id: x.value for x in s.scores}, entry.price_score)[1]
             for s in sheets], tender.score_combination)
        standings.append(rules.Standing(entry.bid_id, entry.final_score, entry.bid.price_fen,
                                        entry.technical_score))
    if round_.draw_seed is None:
        round_.draw_seed = secrets.token_hex(16)
    result = rules.rank(standings, tender.tie_break, round_.draw_seed)
    by_bid = {s.bid_id: s for s in result.standings}
    for entry in round_.entries:
        standing = by_bid.get(entry.bid_id)
        entry.rank = standing.rank if standing else None
        entry.tie_note = standing.note if standing else None
    db.session.flush()


def close_round(actor, round_: EvaluationRound, *, shortlist: int | None = None) -> EvaluationRound:
    """Close a round: every owed sheet submitted, no low price awaiting a decision. With a
    shortlist the top bids go on to a new round; without, this round's ranking is final."""
    tender = round_.tender
    TENDER.require_in(tender, {TenderState.EVALUATING}, "结束评分轮次")
    ROUND.check(round_, RoundState.CLOSED, "结束")
    missing = missing_sheets(round_)
    if missing:
        names = "、".join(sorted({m.judge.name for m, _ in missing}))
        raise DomainError(f"还有 {len(missing)} 份评分表未提交（{names}）。")
    pending = [e.bid.agency.name for e in round_.entries
               if e.bid.valid and e.bid.low_price and e.bid.low_price_decision is LowPriceDecision.PENDING]
    if pending:
        raise DomainError(f"{'、'.join(pending)}的报价明显偏低，评标委员会认定其书面说明前不能排序"
                          "（87号令第六十条）。")
    ranked = [e for e in round_.entries if e.bid.rankable]
    if shortlist is not None and not 2 <= shortlist < len(ranked):
        raise DomainError(f"进入下一轮的数量应在 2 至 {len(ranked) - 1} 之间。", field="shortlist")
    _rank_round(round_)
    ROUND.move(round_, RoundState.CLOSED, "结束")
    round_.closed_at = clock.now()
    round_.shortlist = shortlist
    db.session.flush()
    record(actor, "round.close", tender, None,
           {"round": round_.number, "shortlist": shortlist,
            "ranking": [(e.rank, e.bid.agency.name, str(e.final_score))
                        for e in sorted(ranked, key=lambda e: e.rank)],
            "draw_seed": round_.draw_seed})
    if shortlist:
        top = sorted(ranked, key=lambda e: e.rank)[:shortlist]
        _open_round(tender, round_.number + 1, [e.bid for e in top])
    return round_


def final_round(tender: Tender) -> EvaluationRound | None:
    """The closed round without a shortlist: its ranking is the committee's result."""
    last = current_round(tender)
    if last is not None and last.state is RoundState.CLOSED and not last.shortlist:
        return last
    return None


def final_ranking(tender: Tender) -> list[RoundEntry]:
    last = final_round(tender)
    if last is None:
        return []
    return sorted((e for e in last.entries if e.rank is not None), key=lambda e: e.rank)
