"""Builds tenders at any stage of their life through the real services, with the business
clock frozen at the moments things happen.

Not a conftest.py: a second conftest module would shadow tests/conftest.py for
`from conftest import row_counts`. The `builder` fixture lives in tests/conftest.py; import
helpers from here with `from tender_builder import PDF, T0, TenderBuilder, Upload`.
"""
from datetime import datetime, timedelta
from decimal import Decimal

from procurement.accounts.roles import Role
from procurement.core import clock
from procurement.core.calendar import SHANGHAI, add_days, add_working_days, now_utc
from procurement.extensions import db
from procurement.orgs.models import OrgKind
from procurement.tenders import award, bidding, evaluation, services
from procurement.tenders.rules import CriterionSpec
from procurement.tenders.states import CriterionKind, TenderMethod

# A Monday in a year whose holidays are published.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
DEFAULT_CRITERIA = [
    CriterionSpec("服务方案", CriterionKind.SUBJECTIVE, Decimal(40), Decimal("0.40")),
    CriterionSpec("团队配置", CriterionKind.OBJECTIVE, Decimal(20), Decimal("0.20")),
    CriterionSpec("同类项目经验", CriterionKind.OBJECTIVE, Decimal(10), Decimal("0.10")),
    CriterionSpec("投标报价", CriterionKind.PRICE, Decimal(100), Decimal("0.30")),
]


# Agency names that are not substrings of one another, so "absent from the page" means something.
AGENCY_NAMES = ("甲禾社工服务中心", "乙木社工服务中心", "丙火社工服务中心", "丁土社工服务中心",
                "戊金社工服务中心", "己水社工服务中心")


class Upload:
    """A stand-in for a werkzeug FileStorage in service tests."""

    def __init__(self, filename: str, data: bytes):
        import io
        self.filename = filename
        self.stream = io.BytesIO(data)


PDF = b"%PDF-1.4\n% test\n"


class TenderBuilder:
    def __init__(self, factory, start: datetime = T0, agencies: int = 6):
        self.factory = factory
        self.start = start
        self.office = factory.org(OrgKind.STREET_OFFICE)
        self.community = factory.community(street_office=self.office)
        self.officer = factory.user(Role.TENDER_OFFICER, org=self.office)
        self.witnesses = [factory.user(Role.CONTRACT_MANAGER, org=self.office) for _ in range(2)]
        self.agencies = [factory.org(OrgKind.AGENCY) for _ in range(agencies)]
        self.agency_users = [factory.user(Role.AGENCY_STAFF, org=a) for a in self.agencies]
        pool = factory.org(OrgKind.GOVERNMENT)
        self.rep = factory.user(Role.JUDGE, org=self.office)
        self.experts = [factory.user(Role.JUDGE, org=pool) for _ in range(6)]

    def started(self, days_ago: float) -> "TenderBuilder":
        """Put the timeline `days_ago` before the real now (pages run on real time) and give
        the agencies distinct names."""
        self.start = (now_utc().astimezone(SHANGHAI) - timedelta(days=days_ago)).replace(
            second=0, microsecond=0)
        for agency, name in zip(self.agencies, AGENCY_NAMES):
            agency.name = name
        db.session.flush()
        return self

    def at(self, days: float = 0, hours: float = 0) -> datetime:
        return self.start + timedelta(days=days, hours=hours)

    def documents_until(self):
        """Five working days after the (Beijing) day of issue, whatever holidays follow it."""
        return add_working_days(self.start.astimezone(SHANGHAI).date(), 5)

    def deadline(self) -> datetime:
        """22 days after issue, later if holidays push the 20-day minimum past that."""
        local = self.start.astimezone(SHANGHAI)
        earliest = add_days(local.date(), 20)
        return max(self.at(days=22), datetime.combine(earliest, local.timetz()))

    def fields(self, **overrides) -> dict:
        fields = dict(title="社区公共服务购买项目", description="", method=TenderMethod.INVITED,
                      communities=[self.community], budget_fen=80_000_000, ceiling_fen=None,
                      deposit_fen=0, documents_until=self.documents_until(),
                      bid_deadline=self.deadline(), large_impact=False, tie_break="technical",
                      score_combination="mean", low_price_ratio=Decimal("0.80"),
                      criteria=list(DEFAULT_CRITERIA))
        fields.update(overrides)
        return fields

    def draft(self, invite: int = 6, **overrides):
        with clock.frozen(self.start):
            tender = services.create_tender(self.officer, street_office=self.office,
                                            **self.fields(**overrides))
            if tender.method is TenderMethod.INVITED and invite:
                services.invite(self.officer, tender, [a.id for a in self.agencies[:invite]])
        return tender

    def published(self, **overrides):
        tender = self.draft(**overrides)
        with clock.frozen(self.start):
            services.publish(self.officer, tender)
        return tender

    def bid(self, tender, index: int, price_fen: int, days: float = 10, uploads=()):
        with clock.frozen(self.at(days=days)):
            return bidding.submit_bid(self.agency_users[index], tender, self.agencies[index],
                                      price_fen=price_fen, proposal=f"服务方案{index}",
                                      uploads=uploads)

    def with_bids(self, prices=(60_000_000, 64_000_000, 70_000_000, 75_000_000), **overrides):
        tender = self.published(**overrides)
        for index, price in enumerate(prices):
            self.bid(tender, index, price)
        return tender

    def after_deadline(self, tender, hours: float = 0) -> datetime:
        return tender.opening_time + timedelta(hours=hours)

    def opened(self, prices=(60_000_000, 64_000_000, 70_000_000, 75_000_000), **overrides):
        tender = self.with_bids(prices, **overrides)
        with clock.frozen(self.after_deadline(tender)):
            bidding.open_tender(self.officer, tender)
        return tender

    def committee(self, tender, experts: int = 4):
        judges = [self.rep] + self.experts[:experts]
        with clock.frozen(self.after_deadline(tender)):
            evaluation.form_committee(self.officer, tender, judges=judges, chair=self.experts[0])
        return evaluation.members(tender)

    def evaluating(self, prices=(60_000_000, 64_000_000, 70_000_000, 75_000_000), **overrides):
        tender = self.opened(prices, **overrides)
        self.committee(tender)
        with clock.frozen(self.after_deadline(tender, hours=1)):
            for bid in tender.submitted_bids:
                if bid.valid is None:
                    bidding.review_qualification(self.officer, bid, valid=True)
            evaluation.start_evaluation(self.officer, tender)
        return tender

    def declare_all(self, tender, ties=()):
        """ties: (judge user, bid) pairs with a tie."""
        with clock.frozen(self.after_deadline(tender, hours=2)):
            for member in evaluation.members(tender):
                for bid in tender.valid_bids:
                    if evaluation.conflicted(member, bid.id) is None:
                        tie = (member.judge, bid) in ties
                        evaluation.declare(member.judge, member, bid, has_tie=tie,
                                           description="曾在该机构任职" if tie else None)

    def score_round(self, tender, round_, values=None):
        """values(member, bid) -> {criterion_id: Decimal}; default: a fixed fraction of max
        that differs per bid so the ranking is clear."""
        self.declare_all(tender)
        with clock.frozen(self.after_deadline(tender, hours=3)):
            for member in evaluation.members(tender):
                for entry in round_.entries:
                    if evaluation.conflicted(member, entry.bid_id):
                        continue
                    given = values(member, entry.bid) if values else {
                        c.id: (c.max_score * Decimal("0.9") - entry.bid.opening_order)
                        for c in tender.criteria if c.kind is not CriterionKind.PRICE}
                    evaluation.save_sheet(member.judge, member, round_, entry.bid, given,
                                          submit=True)

    def chair(self, tender):
        return next(m for m in evaluation.members(tender) if m.is_chair)

    def ranked(self, **overrides):
        tender = self.evaluating(**overrides)
        round_ = evaluation.current_round(tender)
        self.score_round(tender, round_)
        with clock.frozen(self.after_deadline(tender, hours=4)):
            evaluation.close_round(self.chair(tender).judge, round_)
        return tender

    def reported(self, **overrides):
        tender = self.ranked(**overrides)
        chair = self.chair(tender)
        with clock.frozen(self.after_deadline(tender, hours=5)):
            award.submit_report(chair.judge, tender, chair, "评标委员会按综合评分法评审，推荐排序如下。")
        return tender

    def awarded(self, **overrides):
        tender = self.reported(**overrides)
        first = evaluation.final_ranking(tender)[0].bid
        with clock.frozen(self.after_deadline(tender, hours=24)):
            award.award(self.officer, tender, first)
        db.session.flush()
        return tender
