"""Tenders, and their bids only where `can_read_bid` allows: nothing of a bid (price,
proposal, files, scores) is served before the opening, to anyone."""
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from procurement.accounts.roles import Role
from procurement.api import (ApiError, bp, choice_arg, datetime_arg, int_arg, load, money,
                             paged, respond, stamp, who)
from procurement.api import spec as s
from procurement.core.permissions import allow
from procurement.tenders.bid_views import _visible_tenders as open_to_agency_sql
from procurement.tenders.evaluation_models import CommitteeMember, EvaluationRound, RoundEntry
from procurement.tenders.models import Bid, Tender, tender_communities
from procurement.tenders.permissions import (can_read_bid, can_see_all_scores, can_view_tender,
                                             is_opened)
from procurement.tenders.states import BidState, TenderState
from procurement.tenders.views import award_public
from procurement.extensions import db

READERS = (Role.TENDER_OFFICER, Role.LEADER, Role.AUDITOR, Role.CONTRACT_MANAGER,
           Role.AGENCY_STAFF, Role.JUDGE)


def visible_tenders(user):
    """`can_view_tender` as SQL, for the list."""
    query = sa.select(Tender)
    if user.has_role(Role.AUDITOR):
        return query
    conditions = []
    if user.has_role(Role.TENDER_OFFICER, Role.LEADER):
        conditions.append(Tender.street_office_id == user.org_id)
    if user.has_role(Role.CONTRACT_MANAGER):
        conditions.append(sa.and_(Tender.street_office_id == user.org_id,
                                  Tender.published_at.is_not(None)))
    if user.has_role(Role.AGENCY_STAFF):
        conditions.append(open_to_agency_sql(user.org_id))
    if user.has_role(Role.JUDGE):
        conditions.append(Tender.id.in_(sa.select(CommitteeMember.tender_id)
                                        .where(CommitteeMember.judge_id == user.id)))
    return query.where(sa.or_(*conditions)) if conditions else query.where(sa.false())


TENDER = s.obj(
    id=s.integer(), number=s.string(), title=s.string(), method=s.string(),
    state=s.string(), state_label=s.string(), budget=s.MONEY, ceiling=s.MONEY_OR_NULL,
    bid_deadline=s.string("date-time"), opening_time=s.string("date-time"),
    published_at=s.string("date-time", nullable=True), opened=s.boolean(),
    community_ids=s.array(s.integer()),
    bid_count=s.integer(nullable=True, description="开标前只给出有效投标数"),
    award=s.obj(nullable=True, agency=s.string(), price=s.MONEY),
    updated_at=s.string("date-time"))
BID = s.obj(
    id=s.integer(), tender_id=s.integer(), agency=s.string(), state=s.string(),
    price=s.MONEY, proposal=s.string(), submitted_at=s.string("date-time"),
    valid=s.boolean(nullable=True), files=s.array(s.obj(id=s.integer(), name=s.string())),
    scores=s.array(s.obj(round=s.integer(), price_score=s.string(nullable=True),
                         technical_score=s.string(nullable=True),
                         final_score=s.string(nullable=True), rank=s.integer(nullable=True))))
TENDER_DETAIL = s.obj(**TENDER["properties"], description=s.string(),
                      bids=s.array(BID))


def _tender(tender: Tender, bid_count: int | None) -> dict:
    awarded = award_public(tender)
    return {
        "id": tender.id, "number": tender.number, "title": tender.title,
        "method": tender.method.value, "state": tender.state.value,
        "state_label": tender.state.label, "budget": money(tender.budget_fen),
        "ceiling": money(tender.ceiling_fen), "bid_deadline": stamp(tender.bid_deadline),
        "opening_time": stamp(tender.opening_time), "published_at": stamp(tender.published_at),
        "opened": is_opened(tender),
        "community_ids": sorted(c.id for c in tender.communities),
        "bid_count": bid_count,
        "award": ({"agency": tender.awarded_bid.agency.name,
                   "price": money(tender.awarded_bid.price_fen)} if awarded else None),
        "updated_at": stamp(tender.updated_at),
    }


def _bid_counts(ids) -> dict[int, int]:
    if not ids:
        return {}
    return dict(db.session.execute(
        sa.select(Bid.tender_id, sa.func.count()).where(Bid.tender_id.in_(list(ids)),
                                                        Bid.state == BidState.SUBMITTED)
        .group_by(Bid.tender_id)).all())


def _decimal(value) -> str | None:
    return None if value is None else str(value)


def _bid(user, bid: Bid) -> dict:
    """Only ever called after can_read_bid(user, bid)."""
    scores = []
    if can_see_all_scores(user, bid.tender):
        rows = db.session.execute(
            sa.select(EvaluationRound.number, RoundEntry).join(RoundEntry.round)
            .where(RoundEntry.bid_id == bid.id).order_by(EvaluationRound.number)).all()
        scores = [{"round": number, "price_score": _decimal(e.price_score),
                   "technical_score": _decimal(e.technical_score),
                   "final_score": _decimal(e.final_score), "rank": e.rank}
                  for number, e in rows]
    return {"id": bid.id, "tender_id": bid.tender_id, "agency": bid.agency.name,
            "state": bid.state.value, "price": money(bid.price_fen), "proposal": bid.proposal,
            "submitted_at": stamp(bid.submitted_at), "valid": bid.valid,
            "files": [{"id": f.id, "name": f.file.original_name} for f in bid.current_files],
            "scores": scores}


@bp.route("/tenders")
@allow(*READERS)
@s.operation("招标项目列表", s.page_of(TENDER), tag="招标",
             params=(*s.PAGINATED, s.UPDATED_SINCE, s.COMMUNITY, s.YEAR,
                     s.param("state", "状态", s.string(enum=[m.value for m in TenderState]))),
             description="与页面相同的范围：街道办本单位的项目，机构可投标或已投标的项目，"
                         "评审专家所在评标委员会的项目，审计人员全部。")
def tenders():
    user = who()
    query = visible_tenders(user)
    state = choice_arg("state", TenderState)
    if state is not None:
        query = query.where(Tender.state == state)
    since = datetime_arg("updated_since")
    if since is not None:
        query = query.where(Tender.updated_at > since)
    community_id = int_arg("community_id")
    if community_id is not None:
        query = query.where(Tender.id.in_(sa.select(tender_communities.c.tender_id).where(
            tender_communities.c.community_id == community_id)))
    year = int_arg("year", minimum=2000, maximum=2100)
    if year is not None:
        query = query.where(sa.extract("year", Tender.bid_deadline) == year)
    query = query.options(selectinload(Tender.communities)).order_by(Tender.updated_at.desc(),
                                                                     Tender.id.desc())
    page = paged(query, lambda t: t)
    counts = _bid_counts(t.id for t in page["data"])
    page["data"] = [_tender(t, counts.get(t.id, 0)) for t in page["data"]]
    return respond(page)


@bp.route("/tenders/<int:tender_id>")
@allow(*READERS)
@s.operation("招标项目详情（开标后按规则附投标）", s.obj(data=TENDER_DETAIL), tag="招标")
def tender(tender_id: int):
    user = who()
    item = load(Tender, tender_id)
    if not can_view_tender(user, item):
        raise ApiError(404, "要查找的记录不存在。")
    data = _tender(item, _bid_counts([item.id]).get(item.id, 0))
    data["description"] = item.description
    data["bids"] = [_bid(user, b) for b in item.bids if can_read_bid(user, b)]
    return respond({"data": data})


@bp.route("/tenders/<int:tender_id>/bids/<int:bid_id>")
@allow(*READERS)
@s.operation("一份投标（开标后，投标机构本身、采购人、评标委员会可读）", s.obj(data=BID), tag="招标")
def bid(tender_id: int, bid_id: int):
    user = who()
    item = load(Bid, bid_id)
    if item.tender_id != tender_id or not can_view_tender(user, item.tender):
        raise ApiError(404, "要查找的记录不存在。")
    if not can_read_bid(user, item):
        message = ("开标前任何人都不能查看投标内容。" if not is_opened(item.tender)
                   else "您没有权限查看这份投标。")
        raise ApiError(403, message, "bid_sealed" if not is_opened(item.tender) else "forbidden")
    return respond({"data": _bid(user, item)})
