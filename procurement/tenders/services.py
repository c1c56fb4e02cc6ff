"""Preparing and running a tender up to the bid deadline: the tender itself, its criteria and
documents, invitations and the witnessed draw, publishing, clarifications, cancelling and
failing. Each operation: check the rule → change → audit → flush (the view commits)."""
import random
import secrets
from datetime import date, datetime

import sqlalchemy as sa

from procurement.audit import record, snapshot
from procurement.core import clock
from procurement.core.errors import DomainError
from procurement.core.money import format_fen
from procurement.documents import storage
from procurement.extensions import db
from procurement.orgs.models import Community, OrgKind, Organisation
from procurement.tenders import rules
from procurement.tenders.models import (Clarification, Criterion, Invitation, PoolDraw, Tender,
                                        TenderDocument)
from procurement.tenders.rules import CriterionSpec
from procurement.tenders.states import (ACCEPTING_BIDS, TENDER, DocumentKind, ScoreCombination,
                                        TenderMethod, TenderState, TieBreak)

TENDER_FIELDS = ("number", "title", "method", "state", "budget_fen", "ceiling_fen", "deposit_fen",
                 "documents_until", "bid_deadline", "opening_time", "large_impact", "tie_break",
                 "score_combination", "low_price_ratio")
MAX_DRAW_POOL = 200


def tender_snapshot(tender: Tender) -> dict:
    data = snapshot(tender, *TENDER_FIELDS)
    data["communities"] = sorted(c.name for c in tender.communities)
    data["criteria"] = [f"{c.name}|{c.kind.value}|{c.max_score}|{c.weight}" for c in tender.criteria]
    return data


def next_number(street_office: Organisation, year: int) -> str:
    prefix = f"ZB{year}-"
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Tender)
                              .where(Tender.number.like(f"{prefix}%")))
    number = count + 1
    while db.session.scalar(sa.select(Tender.id).where(Tender.number == f"{prefix}{number:03d}")):
        number += 1
    return f"{prefix}{number:03d}"


def _check_communities(street_office: Organisation, communities: list[Community]) -> None:
    if not communities:
        raise DomainError("请选择本项目服务的社区。", field="communities")
    if any(c.street_office_id != street_office.id for c in communities):
        raise DomainError("只能选择本街道的社区。", field="communities")


def _apply(tender: Tender, *, title, description, method, communities, budget_fen, ceiling_fen,
           deposit_fen, documents_until, bid_deadline, large_impact, tie_break,
           score_combination, low_price_ratio, criteria: list[CriterionSpec]) -> None:
    method = TenderMethod(method)
    title = (title or "").strip()
    if not title:
        raise DomainError("请填写项目名称。", field="title")
    rules.check_amounts(budget_fen, ceiling_fen, deposit_fen)
    rules.check_criteria(criteria, method)
    _check_communities(tender.street_office, communities)
    if bid_deadline.tzinfo is None:
        raise DomainError("投标截止时间无效。", field="bid_deadline")
    if documents_until > rules.local_date(bid_deadline):
        raise DomainError("文件提供截止日不能晚于投标截止日。", field="documents_until")
    if not (0 < low_price_ratio < 1):
        raise DomainError("异常低价比例应在 0 与 1 之间。", field="low_price_ratio")
    if method is not TenderMethod.INVITED and tender.invitations:
        raise DomainError("已有邀请的项目不能改为非邀请招标，请先撤销邀请。", field="method")
    tender.title = title
    tender.description = (description or "").strip()
    tender.method = method
    tender.communities = list(communities)
    tender.budget_fen, tender.ceiling_fen, tender.deposit_fen = budget_fen, ceiling_fen, deposit_fen
    tender.documents_until = documents_until
    # 87号令 39: bids are opened at the same moment the bid deadline falls.
    tender.bid_deadline = tender.opening_time = bid_deadline
    tender.large_impact = bool(large_impact)
    tender.tie_break = TieBreak(tie_break)
    tender.score_combination = ScoreCombination(score_combination)
    tender.low_price_ratio = low_price_ratio
    tender.criteria.clear()
    db.session.flush()
    tender.criteria.extend(
        Criterion(position=i, name=c.name.strip(), kind=c.kind, max_score=c.max_score,
                  weight=c.weight, guidance="") for i, c in enumerate(criteria, start=1))


def create_tender(actor, *, street_office: Organisation, number: str | None = None,
                  **fields) -> Tender:
    if street_office.kind is not OrgKind.STREET_OFFICE:
        raise DomainError("只有街道办事处可以发起招标。")
    number = (number or "").strip() or next_number(street_office, clock.today().year)
    if db.session.scalar(sa.select(Tender.id).where(Tender.number == number)):
        raise DomainError(f"项目编号“{number}”已被使用。", field="number")
    tender = Tender(street_office=street_office, street_office_id=street_office.id, number=number,
                    state=TenderState.DRAFT, created_by_id=getattr(actor, "id", None))
    _apply(tender, **fields)
    db.session.add(tender)
    db.session.flush()
    record(actor, "tender.create", tender, None, tender_snapshot(tender))
    return tender


def update_tender(actor, tender: Tender, **fields) -> Tender:
    TENDER.require_in(tender, {TenderState.DRAFT}, "修改招标文件内容（已发布的项目只能发布澄清）")
    before = tender_snapshot(tender)
    _apply(tender, **fields)
    db.session.flush()
    record(actor, "tender.update", tender, before, tender_snapshot(tender))
    return tender


def attach_document(actor, tender: Tender, upload) -> TenderDocument:
    TENDER.require_in(tender, {TenderState.DRAFT}, "上传招标文件（发布后请通过澄清补充）")
    return _add_document(actor, tender, storage.store(upload, area="tender", actor=actor,
                                                      field="file"), None)


def _add_document(actor, tender: Tender, stored, clarification: Clarification | None
                  ) -> TenderDocument:
    document = TenderDocument(tender=tender, file=stored, clarification_id=getattr(
        clarification, "id", None), kind=DocumentKind.CLARIFICATION if clarification
        else DocumentKind.TENDER)
    db.session.add(document)
    db.session.flush()
    record(actor, "tender.document", tender, None,
           {"file": stored.original_name, "size": stored.size, "sha256": stored.sha256,
            "kind": document.kind.value})
    return document


def _agencies(ids) -> list[Organisation]:
    agencies = list(db.session.scalars(sa.select(Organisation).where(
        Organisation.id.in_(list(ids)), Organisation.kind == OrgKind.AGENCY,
        Organisation.active.is_(True))))
    if len(agencies) != len(set(ids)):
        raise DomainError("只能邀请在册且启用的社工机构。", field="agencies")
    return agencies


def _require_invited_draft(tender: Tender, action: str) -> None:
    if tender.method is not TenderMethod.INVITED:
        raise DomainError("只有邀请招标项目可以邀请机构。")
    TENDER.require_in(tender, {TenderState.DRAFT}, action)


def invite(actor, tender: Tender, agency_ids) -> list[Invitation]:
    """Invite agencies directly. Invitations are sent together when the tender is published."""
    _require_invited_draft(tender, "邀请机构（邀请书须在发布时同时发出）")
    already = {i.agency_id for i in tender.invitations}
    new = [Invitation(agency_id=a.id, agency=a, drawn=False)
           for a in _agencies(agency_ids) if a.id not in already]
    if not new:
        raise DomainError("所选机构均已在邀请名单中。", field="agencies")
    tender.invitations.extend(new)
    db.session.flush()
    record(actor, "tender.invite", tender, None,
           {"agencies": sorted(i.agency.name for i in new)})
    return new


def uninvite(actor, tender: Tender, invitation: Invitation) -> None:
    _require_invited_draft(tender, "撤销邀请")
    if invitation.drawn:
        raise DomainError("随机抽取产生的邀请不能撤销，抽取结果已记录。")
    tender.invitations.remove(invitation)
    db.session.flush()
    record(actor, "tender.uninvite", tender, {"agency": invitation.agency.name}, None)


def draw_invitees(actor, tender: Tender, *, pool_ids, count: int, witnesses) -> PoolDraw:
    """Draw invitees at random from a pool at least twice the draw, before at least two
    witnesses from the purchaser (87号令 14). The seed is kept so the draw can be re-checked."""
    _require_invited_draft(tender, "随机抽取邀请机构")
    pool_ids = sorted(set(pool_ids))
    if count < 1:
        raise DomainError("抽取数量至少为 1。", field="count")
    if len(pool_ids) > MAX_DRAW_POOL:
        raise DomainError(f"备选库最多 {MAX_DRAW_POOL} 家机构。", field="pool")
    if len(pool_ids) < 2 * count:
        raise DomainError(f"备选库机构数量（{len(pool_ids)} 家）应不少于抽取数量的两倍"
                          f"（{2 * count} 家）（87号令第十四条）。", field="pool")
    witnesses = list({w.id: w for w in witnesses}.values())
    if len(witnesses) < rules.MIN_WITNESSES or any(
            w.org_id != tender.street_office_id or not w.active for w in witnesses):
        raise DomainError("随机抽取须有至少两名采购人工作人员在场监督，请选择本街道的两名以上"
                          "工作人员作为见证人。", field="witnesses")
    if actor is not None and any(w.id == actor.id for w in witnesses):
        raise DomainError("操作人不能同时担任见证人。", field="witnesses")
    already = {i.agency_id for i in tender.invitations}
    pool = _agencies(pool_ids)
    candidates = sorted((a for a in pool if a.id not in already), key=lambda a: a.id)
    if len(candidates) < count:
        raise DomainError("备选库中未被邀请的机构不足抽取数量。", field="pool")
    seed = secrets.token_hex(16)
    drawn = random.Random(seed).sample(candidates, count)
    draw = PoolDraw(tender_id=tender.id, pool=[a.id for a in pool], draw_count=count,
                    drawn=[a.id for a in drawn], seed=seed,
                    witnesses=[{"id": w.id, "name": w.name} for w in witnesses],
                    drawn_by_id=getattr(actor, "id", None), drawn_at=clock.now())
    db.session.add(draw)
    tender.invitations.extend(Invitation(agency_id=a.id, agency=a, drawn=True) for a in drawn)
    db.session.flush()
    record(actor, "tender.draw", tender, None,
           {"pool": sorted(a.name for a in pool), "count": count,
            "drawn": [a.name for a in drawn], "seed": seed,
            "witnesses": [w.name for w in witnesses]})
    return draw


def publish(actor, tender: Tender) -> Tender:
    """Issue the tender documents today; invitations all go out now, together."""
    TENDER.check(tender, TenderState.PUBLISHED, "发布")
    rules.check_criteria([CriterionSpec(c.name, c.kind, c.max_score, c.weight)
                          for c in tender.criteria], tender.method)
    rules.check_schedule(clock.today(), tender.documents_until, tender.bid_deadline)
    if tender.method is TenderMethod.INVITED and len(tender.invitations) < rules.MIN_INVITED:
        raise DomainError(f"邀请招标应邀请不少于 {rules.MIN_INVITED} 家机构（法第三十四条），"
                          f"现邀请 {len(tender.invitations)} 家。", field="agencies")
    before = tender_snapshot(tender)
    now = clock.now()
    TENDER.move(tender, TenderState.PUBLISHED, "发布")
    tender.published_at = now
    for invitation in tender.invitations:
        invitation.sent_at = now
    db.session.flush()
    after = tender_snapshot(tender)
    after["invitations_sent"] = sorted(i.agency.name for i in tender.invitations)
    record(actor, "tender.publish", tender, before, after)
    return tender


def clarify(actor, tender: Tender, *, content: str, affects_bids: bool,
            upload=None) -> Clarification:
    """A clarification that affects bids, issued fewer than 15 days before the deadline,
    moves the deadline (and the opening with it) to the 15th day (87号令 27)."""
    TENDER.check(tender, TenderState.CLARIFIED, "发布澄清")
    now = clock.now()
    if now >= tender.bid_deadline:
        raise DomainError("投标已截止，不能再发布澄清。")
    content = (content or "").strip()
    if not content:
        raise DomainError("请填写澄清或修改的内容。", field="content")
    checked = storage.check(upload, field="file") if upload is not None and upload.filename else None
    before = tender_snapshot(tender)
    new_deadline = (rules.clarified_deadline(rules.local_date(now), tender.bid_deadline)
                    if affects_bids else tender.bid_deadline)
    number = len(tender.clarifications) + 1
    clarification = Clarification(tender=tender, number=number, content=content,
                                  affects_bids=bool(affects_bids), issued_at=now,
                                  issued_by_id=getattr(actor, "id", None),
                                  deadline_before=tender.bid_deadline,
                                  deadline_after=new_deadline, opening_after=new_deadline)
    db.session.add(clarification)
    TENDER.move(tender, TenderState.CLARIFIED, "发布澄清")
    tender.bid_deadline = tender.opening_time = new_deadline
    db.session.flush()
    if checked is not None:
        _add_document(actor, tender, storage.save(checked, area="tender", actor=actor),
                      clarification)
    after = tender_snapshot(tender)
    after["clarification"] = {"number": number, "affects_bids": bool(affects_bids),
                              "content": content}
    record(actor, "tender.clarify", tender, before, after)
    return clarification


def close_bidding(actor, tender: Tender) -> Tender:
    """The deadline has passed: no more bids. Done automatically by opening or failing."""
    if clock.now() < tender.bid_deadline:
        raise DomainError("投标尚未截止。")
    before = tender_snapshot(tender)
    TENDER.move(tender, TenderState.BIDDING_CLOSED, "截止投标")
    tender.closed_at = clock.now()
    db.session.flush()
    record(actor, "tender.close", tender, before, tender_snapshot(tender))
    return tender


def _end(actor, tender: Tender, target: TenderState, reason: str, action: str, audit: str):
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写原因。", field="reason")
    if len(reason) > 2000:
        raise DomainError("原因最多 2000 字。", field="reason")
    before = tender_snapshot(tender)
    TENDER.move(tender, target, action)
    tender.ended_at = clock.now()
    tender.end_reason = reason
    db.session.flush()
    after = tender_snapshot(tender)
    after["reason"] = reason
    record(actor, audit, tender, before, after)
    return tender


def fail(actor, tender: Tender, reason: str) -> Tender:
    """废标 (法 36): every bidder sees the reason on its own page."""
    if tender.state in ACCEPTING_BIDS and clock.now() < tender.bid_deadline:
        raise DomainError("投标尚未截止，不能废标；如需终止请取消项目。")
    return _end(actor, tender, TenderState.FAILED, reason, "废标", "tender.fail")


def cancel(actor, tender: Tender, reason: str) -> Tender:
    return _end(actor, tender, TenderState.CANCELLED, reason, "取消", "tender.cancel")


def money_summary(tender: Tender) -> dict:
    return {"budget": format_fen(tender.budget_fen),
            "ceiling": format_fen(tender.ceiling_fen) if tender.ceiling_fen else None,
            "deposit": format_fen(tender.deposit_fen)}


def schedule(tender: Tender) -> dict[str, date | datetime | None]:
    """Key dates the pages show, with the legal deadlines that follow from them."""
    report_due = pick_due = None
    if tender.state.value in ("evaluating",) and tender.opened_at:
        report_due = rules.working_deadline(rules.local_date(tender.opened_at),
                                            rules.REPORT_WORKING_DAYS)
    if tender.report_at:
        pick_due = rules.working_deadline(rules.local_date(tender.report_at),
                                          rules.PICK_WORKING_DAYS)
    return {"published_at": tender.published_at, "documents_until": tender.documents_until,
            "bid_deadline": tender.bid_deadline, "opening_time": tender.opening_time,
            "report_due": report_due, "pick_due": pick_due, "notice_end": tender.notice_end,
            "challenge_until": tender.challenge_until}
