"""After the evaluation: the committee's report, the purchaser's pick in ranked order, the
award notice, challenges, and what each bidder is told (87号令 68-71; 法 52)."""
from dataclasses import dataclass
from datetime import date

from procurement.audit import record
from procurement.core import clock
from procurement.core.errors import DomainError
from procurement.extensions import db
from procurement.tenders import rules
from procurement.tenders.evaluation import final_ranking, final_round
from procurement.tenders.models import Bid, Challenge, Tender
from procurement.tenders.services import tender_snapshot
from procurement.tenders.states import CHALLENGE, TENDER, BidState, ChallengeState, TenderState


def submit_report(actor, tender: Tender, member, text: str) -> Tender:
    """The committee (its chair) reports its ranking; the purchaser then picks."""
    if member is None or not member.active or not member.is_chair:
        raise DomainError("评标报告由评标委员会组长提交。")
    if final_round(tender) is None:
        raise DomainError("评分尚未结束：最后一轮须在不设入围名额的情况下结束。")
    text = (text or "").strip()
    if not text:
        raise DomainError("请填写评标报告的评审意见。", field="text")
    before = tender_snapshot(tender)
    TENDER.move(tender, TenderState.RESULT_PENDING, "提交评标报告")
    tender.report_at = clock.now()
    tender.report_text = text[:10000]
    db.session.flush()
    after = tender_snapshot(tender)
    after["ranking"] = [(e.rank, e.bid.agency.name, str(e.final_score)) for e in final_ranking(tender)]
    record(actor, "tender.report", tender, before, after)
    return tender


def award(actor, tender: Tender, bid: Bid, reason: str | None = None) -> Tender:
    """Pick the winner in ranked order and publish the award notice: it runs 1 working day,
    then challenges may come within 7 working days."""
    TENDER.check(tender, TenderState.AWARDED, "定标")
    ranking = final_ranking(tender)
    position = next((e.rank for e in ranking if e.bid_id == bid.id), None)
    if position is None:
        raise DomainError("只能在评标委员会推荐的排序名单中确定中标人。", field="bid")
    reason = (reason or "").strip()
    if position > 1 and not reason:
        raise DomainError(f"该投标人排名第 {position}，须按排序确定中标人；如排名在前者放弃中标"
                          "或因不可抗力不能履行，请写明理由（87号令第六十八条）。", field="reason")
    before = tender_snapshot(tender)
    TENDER.move(tender, TenderState.AWARDED, "定标")
    now = clock.now()
    today = rules.local_date(now)
    tender.awarded_bid_id = bid.id
    tender.awarded_bid = bid
    tender.pick_reason = reason or None
    tender.notice_published_at = now
    tender.notice_end = rules.working_deadline(today, rules.NOTICE_RUN_WORKING_DAYS)
    tender.challenge_until = rules.working_deadline(tender.notice_end, rules.CHALLENGE_WORKING_DAYS)
    db.session.flush()
    after = tender_snapshot(tender)
    after.update(winner=bid.agency.name, rank=position, reason=reason or None,
                 notice_end=tender.notice_end, challenge_until=tender.challenge_until)
    record(actor, "tender.award", tender, before, after)
    return tender


def file_challenge(actor, tender: Tender, bid: Bid, content: str) -> Challenge:
    """A bidder challenges the result in writing within 7 working days of the notice's end."""
    if tender.state is not TenderState.AWARDED:
        raise DomainError("中标结果公布后才能提出质疑。")
    if bid.tender_id != tender.id or bid.state is not BidState.SUBMITTED:
        raise DomainError("只有本项目的投标人可以提出质疑。")
    if clock.today() > tender.challenge_until:
        raise DomainError(f"质疑期已于 {tender.challenge_until:%Y-%m-%d} 届满（政府采购法第五十二条）。")
    content = (content or "").strip()
    if not content:
        raise DomainError("请写明质疑事项、理由和依据。", field="content")
    challenge = Challenge(tender=tender, agency_id=bid.agency_id, agency=bid.agency,
                          content=content[:10000], submitted_at=clock.now(),
                          submitted_by_id=getattr(actor, "id", None), may_change_result=True)
    db.session.add(challenge)
    db.session.flush()
    record(actor, "challenge.file", challenge, None,
           {"tender": tender.number, "agency": bid.agency.name, "content": challenge.content},
           label=f"{tender.number} 质疑")
    return challenge


def answer_challenge(actor, challenge: Challenge, *, answer: str, may_change_result: bool
                     ) -> Challenge:
    """The purchaser's written answer (within 7 working days). One that may change the result
    keeps suspending contract signing until the result is settled; otherwise answered."""
    answer = (answer or "").strip()
    if not answer:
        raise DomainError("请填写答复内容。", field="answer")
    before = {"state": challenge.state.value, "may_change_result": challenge.may_change_result}
    CHALLENGE.move(challenge, ChallengeState.ANSWERED, "答复")
    challenge.answer = answer[:10000]
    challenge.answered_at = clock.now()
    challenge.answered_by_id = getattr(actor, "id", None)
    challenge.may_change_result = bool(may_change_result)
    db.session.flush()
    record(actor, "challenge.answer", challenge, before,
           {"state": challenge.state.value, "may_change_result": challenge.may_change_result,
            "answer": challenge.answer}, label=f"{challenge.tender.number} 质疑")
    return challenge


def answer_due(challenge: Challenge) -> date:
    return rules.working_deadline(rules.local_date(challenge.submitted_at), rules.ANSWER_WORKING_DAYS)


def signing_block(tender: Tender) -> str | None:
    """Why a contract may not be signed on this tender yet, or None (实施条例 54)."""
    if tender.state is not TenderState.AWARDED:
        return "项目尚未定标。"
    blocking = [c for c in tender.challenges
                if c.may_change_result and c.state is ChallengeState.OPEN]
    if blocking:
        return f"有 {len(blocking)} 件可能影响中标结果的质疑尚未处理，暂停签订合同。"
    answered = [c for c in tender.challenges
                if c.may_change_result and c.state is ChallengeState.ANSWERED]
    if answered:
        return "有质疑经答复认定可能影响中标结果，须依法处理后方可签订合同。"
    return None


@dataclass(frozen=True)
class Outcome:
    """What one bidder is told: its own score and rank, the winner, or why it failed."""
    state: TenderState
    rank: int | None = None
    score: object = None
    count: int | None = None
    won: bool = False
    winner: str | None = None
    reason: str | None = None


def outcome_for(tender: Tender, bid: Bid | None) -> Outcome | None:
    if bid is None:
        return None
    if tender.state is TenderState.FAILED:
        return Outcome(TenderState.FAILED, reason=tender.end_reason)
    if tender.state is TenderState.CANCELLED:
        return Outcome(TenderState.CANCELLED, reason=tender.end_reason)
    if tender.state is not TenderState.AWARDED:
        return None
    ranking = final_ranking(tender)
    own = next((e for e in ranking if e.bid_id == bid.id), None)
    winner = tender.awarded_bid.agency.name if tender.awarded_bid else None
    if own is None:
        return Outcome(TenderState.AWARDED, winner=winner,
                       reason=bid.invalid_reason or "未进入最终排序。")
    return Outcome(TenderState.AWARDED, rank=own.rank, score=own.final_score, count=len(ranking),
                   won=tender.awarded_bid_id == bid.id, winner=winner)
