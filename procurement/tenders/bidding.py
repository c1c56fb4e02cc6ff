"""Bids: submitting, replacing and withdrawing before the deadline; opening; qualification
review; the abnormally-low-price procedure. Audit entries of a bid never carry its price,
proposal or file contents: the auditor reads every entry, and a bid is sealed."""
import sqlalchemy as sa

from procurement.audit import record
from procurement.core import clock
from procurement.core.errors import DomainError
from procurement.core.states import lock_for_update
from procurement.documents import storage
from procurement.extensions import db
from procurement.orgs.models import OrgKind, Organisation
from procurement.tenders import rules
from procurement.tenders.models import Bid, BidFile, Tender
from procurement.tenders.permissions import open_to_agency
from procurement.tenders.services import close_bidding, tender_snapshot
from procurement.tenders.states import (ACCEPTING_BIDS, BID, TENDER, BidState, LowPriceDecision,
                                        TenderState)

MAX_PROPOSAL = 20_000
MAX_FILES = 10


def _sealed_view(bid: Bid) -> dict:
    """What the audit trail may say about a bid before opening: that it exists."""
    return {"agency": bid.agency.name, "state": bid.state.value, "version": bid.version,
            "files": len(bid.current_files)}


def _check_open_for_bids(tender: Tender, agency: Organisation) -> None:
    if agency.kind is not OrgKind.AGENCY or not agency.active:
        raise DomainError("只有在册且启用的社工机构可以投标。")
    if not open_to_agency(tender, agency.id):
        raise DomainError("本项目为邀请招标，贵机构未在邀请名单中。")
    if tender.state not in ACCEPTING_BIDS:
        raise DomainError(f"项目当前状态为“{tender.state.label}”，不接受投标。")
    if clock.now() >= tender.bid_deadline:
        raise DomainError("投标已截止，逾期送达的投标文件不予接收（87号令第三十三条）。")


def submit_bid(actor, tender: Tender, agency: Organisation, *, price_fen: int, proposal: str,
               uploads=()) -> Bid:
    """Submit, or replace before the deadline, the agency's sealed bid."""
    _check_open_for_bids(tender, agency)
    if price_fen <= 0:
        raise DomainError("投标报价必须大于零。", field="price")
    proposal = (proposal or "").strip()
    if not proposal:
        raise DomainError("请填写技术方案（服务方案）概要。", field="proposal")
    if len(proposal) > MAX_PROPOSAL:
        raise DomainError(f"技术方案概要最多 {MAX_PROPOSAL} 字，详细内容请以附件上传。",
                          field="proposal")
    uploads = [u for u in uploads if u is not None and u.filename]
    if len(uploads) > MAX_FILES:
        raise DomainError(f"附件最多 {MAX_FILES} 个。", field="files")
    checked = [storage.check(upload) for upload in uploads]
    # Lock the tender row: two members of an agency submitting at once are serialised, so
    # neither a duplicate first bid nor interleaved versions can happen (PostgreSQL); and
    # check again under the lock with the tender as it is now: a bidder who passed the
    # check above and then waited for an opening to commit is refused, never let in (or
    # its price changed) after the prices were read out.
    lock_for_update(tender)
    _check_open_for_bids(tender, agency)
    bid = db.session.scalars(sa.select(Bid).where(Bid.tender_id == tender.id,
                                                  Bid.agency_id == agency.id)).first()
    if bid is not None:
        db.session.refresh(bid)
    now = clock.now()
    if bid is None:
        bid = Bid(tender=tender, agency=agency, agency_id=agency.id, version=1,
                  state=BidState.SUBMITTED, price_fen=price_fen, proposal=proposal,
                  submitted_at=now, submitted_by_id=getattr(actor, "id", None))
        db.session.add(bid)
        action, before = "bid.submit", None
    else:
        before = _sealed_view(bid)
        BID.move(bid, BidState.SUBMITTED, "重新递交")
        bid.version += 1
        bid.price_fen, bid.proposal = price_fen, proposal
        bid.submitted_at, bid.withdrawn_at = now, None
        bid.submitted_by_id = getattr(actor, "id", None)
        action = "bid.replace"
    db.session.flush()
    for item in checked:
        db.session.add(BidFile(bid=bid, version=bid.version,
                               file=storage.save(item, area="bid", actor=actor)))
    db.session.flush()
    db.session.refresh(bid, ["files"])
    record(actor, action, bid, before, _sealed_view(bid), label=str(bid))
    return bid


def withdraw_bid(actor, bid: Bid) -> Bid:
    lock_for_update(bid.tender)  # as submit_bid: take turns with the opening, then check
    _check_open_for_bids(bid.tender, bid.agency)
    before = _sealed_view(bid)
    BID.move(bid, BidState.WITHDRAWN, "撤回")
    bid.withdrawn_at = clock.now()
    db.session.flush()
    record(actor, "bid.withdraw", bid, before, _sealed_view(bid), label=str(bid))
    return bid


def open_tender(actor, tender: Tender) -> Tender:
    """Open the bids in public at the opening time (87号令 39-41). Fewer than 3 bids: no
    opening; the tender can only fail. Bids over budget or ceiling become invalid."""
    lock_for_update(tender)
    if clock.now() < tender.opening_time:
        raise DomainError("未到开标时间，任何人不得开启投标文件。")
    if tender.state in ACCEPTING_BIDS:
        close_bidding(actor, tender)
    TENDER.check(tender, TenderState.OPENED, "开标")
    bids = tender.submitted_bids
    if len(bids) < rules.MIN_BIDS:
        raise DomainError(f"投标人不足 {rules.MIN_BIDS} 家（现 {len(bids)} 家），不得开标，"
                          "只能废标（87号令第四十一条）。")
    before = tender_snapshot(tender)
    TENDER.move(tender, TenderState.OPENED, "开标")
    tender.opened_at = clock.now()
    opening = []
    for order, bid in enumerate(sorted(bids, key=lambda b: b.submitted_at), start=1):
        bid.opening_order = order
        reason = rules.over_limit_reason(bid.price_fen, tender.budget_fen, tender.ceiling_fen)
        if reason:
            bid.valid, bid.invalid_reason = False, reason
        opening.append({"order": order, "agency": bid.agency.name, "price_fen": bid.price_fen,
                        "invalid": reason})
    db.session.flush()
    after = tender_snapshot(tender)
    after["opening_record"] = opening  # the prices are read out in public at this moment
    record(actor, "tender.open", tender, before, after)
    return tender


def review_qualification(actor, bid: Bid, *, valid: bool, reason: str | None = None) -> Bid:
    """资格审查: the purchaser marks each opened bid qualified or not, with a reason."""
    tender = bid.tender
    TENDER.require_in(tender, {TenderState.OPENED}, "进行资格审查")
    if bid.state is not BidState.SUBMITTED:
        raise DomainError("已撤回的投标不参加资格审查。")
    limit_reason = rules.over_limit_reason(bid.price_fen, tender.budget_fen, tender.ceiling_fen)
    if valid and limit_reason:
        raise DomainError(limit_reason)
    reason = (reason or "").strip()
    if not valid and not reason:
        raise DomainError("认定无效投标须写明原因。", field="reason")
    before = {"valid": bid.valid, "reason": bid.invalid_reason}
    bid.valid = bool(valid)
    bid.invalid_reason = None if valid else reason[:500]
    db.session.flush()
    record(actor, "bid.qualify", bid, before, {"valid": bid.valid, "reason": bid.invalid_reason},
           label=str(bid))
    return bid


def flag_low_prices(tender: Tender) -> list[Bid]:
    """At the start of evaluation: bids far below the others must explain (87号令 60)."""
    valid = tender.valid_bids
    flagged = rules.low_price_bids({b.id: b.price_fen for b in valid}, tender.low_price_ratio)
    result = []
    for bid in valid:
        if bid.id in flagged:
            bid.low_price = True
            bid.low_price_decision = LowPriceDecision.PENDING
            result.append(bid)
    return result


def explain_low_price(actor, bid: Bid, explanation: str) -> Bid:
    """The bidder's written explanation of an abnormally low price."""
    TENDER.require_in(bid.tender, {TenderState.EVALUATING}, "提交低价说明")
    if not bid.low_price or bid.low_price_decision is not LowPriceDecision.PENDING:
        raise DomainError("该投标无需或已不能提交低价说明。")
    explanation = (explanation or "").strip()
    if not explanation:
        raise DomainError("请填写书面说明。", field="explanation")
    bid.low_price_explanation = explanation[:5000]
    db.session.flush()
    record(actor, "bid.explain", bid, None, {"explained": True}, label=str(bid))
    return bid


def decide_low_price(actor, bid: Bid, *, accept: bool, note: str) -> Bid:
    """The committee accepts the explanation (the bid may be ranked) or rejects it (the bid
    becomes invalid). Recorded with the committee's reasoning."""
    from procurement.tenders.evaluation import fail_if_too_few

    TENDER.require_in(bid.tender, {TenderState.EVALUATING}, "认定低价说明")
    if not bid.low_price or bid.low_price_decision is not LowPriceDecision.PENDING:
        raise DomainError("该投标不在待认定的异常低价之列。")
    if not bid.low_price_explanation:
        raise DomainError("投标人尚未提交书面说明，不能认定。")
    note = (note or "").strip()
    if not note:
        raise DomainError("请写明评标委员会的认定理由。", field="note")
    bid.low_price_decision = LowPriceDecision.ACCEPTED if accept else LowPriceDecision.REJECTED
    bid.low_price_note = note[:2000]
    if not accept:
        bid.valid = False
        bid.invalid_reason = "报价明显低于其他投标报价且不能证明其合理性，按无效投标处理（87号令第六十条）。"
    db.session.flush()
    record(actor, "bid.low_price", bid, {"decision": "pending"},
           {"decision": bid.low_price_decision.value, "note": bid.low_price_note}, label=str(bid))
    fail_if_too_few(actor, bid.tender)
    return bid
