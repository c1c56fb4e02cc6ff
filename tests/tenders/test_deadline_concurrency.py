"""Bids and the committee's decisions at the same moment (PostgreSQL), beyond
test_concurrency.py: every invited agency submitting at once just before the deadline (with
files), bids and withdrawals racing the opening at the deadline (each either in the opening
record with the price read out, or refused: never slipped in or changed after it), every
judge submitting every score sheet at once (one sheet each), and the round's close and the
committee's report clicked many times at once (once each). Each thread freezes its own
business clock (clock.frozen is per context), so "just before" and "just after" the deadline
race for real."""
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from conftest import Factory, at_once
from procurement.accounts.models import User
from procurement.audit.models import AuditEntry
from procurement.audit.services import verify_chain
from procurement.core import clock
from procurement.core.calendar import now_utc
from procurement.documents.models import StoredFile
from procurement.extensions import db
from procurement.orgs.models import Organisation
from procurement.tenders import award, bidding, evaluation
from procurement.tenders.evaluation_models import RoundEntry, ScoreSheet
from procurement.tenders.models import Bid, BidFile, Tender
from procurement.tenders.states import BidState, CriterionKind, TenderState
from tender_builder import PDF, TenderBuilder, Upload

BEFORE = timedelta(minutes=1)


def built(app, stage: str, **kwargs) -> dict:
    with app.app_context():
        b = TenderBuilder(Factory(), start=now_utc() - timedelta(days=30))
        tender = getattr(b, stage)(**kwargs)
        if stage == "evaluating":
            b.declare_all(tender)
        ids = {"tender": tender.id, "officer": b.officer.id,
               "agencies": [a.id for a in b.agencies],
               "agency_users": [u.id for u in b.agency_users],
               "deadline": tender.bid_deadline, "opening": tender.opening_time}
        db.session.commit()
        return ids


def tender_of(ids) -> Tender:
    return db.session.get(Tender, ids["tender"])


def submit(ids, index: int, price_fen: int, uploads=()):
    return bidding.submit_bid(db.session.get(User, ids["agency_users"][index]), tender_of(ids),
                              db.session.get(Organisation, ids["agencies"][index]),
                              price_fen=price_fen, proposal=f"方案{index}", uploads=uploads)


def audit_after(app, action: str) -> list[dict]:
    with app.app_context():
        return [e.after for e in db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq))]


def errors(results):
    return [r for r in results if r.startswith("error")]


def assert_opening_is_the_truth(app, ids):
    """Opened: exactly the standing bids were opened, each with the price read out in public
    and no bid submitted, replaced or withdrawn after that."""
    (opening,) = [a["opening_record"] for a in audit_after(app, "tender.open")]
    with app.app_context():
        tender = tender_of(ids)
        assert tender.state is TenderState.OPENED
        standing = [b for b in tender.bids if b.state is BidState.SUBMITTED]
        assert all(b.opening_order is not None for b in standing)
        assert all(b.opening_order is None for b in tender.bids if b.state is not BidState.SUBMITTED)
        assert all(b.submitted_at < ids["deadline"] for b in standing)
        read_out = {row["agency"]: row["price_fen"] for row in opening}
        assert read_out == {b.agency.name: b.price_fen for b in standing}
        assert verify_chain().ok


def listing(app) -> set[str]:
    path = Path(app.config["UPLOAD_DIR"])
    return set(os.listdir(path)) if path.exists() else set()


def test_every_invited_agency_bidding_at_once_with_files_gets_one_bid_each(committed_app):
    ids = built(committed_app, "published")
    before = listing(committed_app)

    def work(i):
        with clock.frozen(ids["deadline"] - BEFORE):
            submit(ids, i % 6, 60_000_000 + i, uploads=[Upload(f"方案{i}.pdf", PDF)])

    results = at_once(committed_app, work, n=12)  # each of the six agencies twice
    assert results == ["ok"] * 12, results
    with committed_app.app_context():
        bids = db.session.scalars(sa.select(Bid).where(Bid.tender_id == ids["tender"])).all()
        assert sorted(b.agency_id for b in bids) == sorted(ids["agencies"])
        assert all(b.version == 2 and len(b.current_files) == 1 for b in bids)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BidFile)) == 12
        kept = set(db.session.scalars(sa.select(StoredFile.stored_name)))
        assert verify_chain().ok
    assert listing(committed_app) - before == kept
    assert len(audit_after(committed_app, "bid.submit")) == 6
    assert len(audit_after(committed_app, "bid.replace")) == 6


def test_bids_racing_the_opening_are_either_opened_or_refused(committed_app):
    """The opener's clock is past the opening time, the bidders' a minute before the
    deadline: a bidder that checked the deadline before the opening and then waited for the
    tender's lock must be refused, not let in after the prices were read out."""
    ids = built(committed_app, "with_bids")  # agencies 0-3 have bid
    before = listing(committed_app)

    def work(i):
        if i == 0:
            with clock.frozen(ids["opening"] + BEFORE):
                bidding.open_tender(db.session.get(User, ids["officer"]), tender_of(ids))
        else:  # new bids from agencies 4 and 5, replacements from 0-3
            with clock.frozen(ids["deadline"] - BEFORE):
                submit(ids, i % 6, 50_000_000 + i, uploads=[Upload(f"报价{i}.pdf", PDF)])

    results = at_once(committed_app, work, n=12)  # in the order the threads finished
    assert not errors(results), results
    refused = [r for r in results if r != "ok"]
    assert all("不接受投标" in r for r in refused), results
    assert_opening_is_the_truth(committed_app, ids)
    with committed_app.app_context():
        kept = set(db.session.scalars(sa.select(StoredFile.stored_name)))
    assert listing(committed_app) - before == kept  # refused bidders left no file behind


def test_withdrawals_racing_the_opening_are_either_before_it_or_refused(committed_app):
    ids = built(committed_app, "with_bids",
                prices=(60_000_000, 62_000_000, 64_000_000, 66_000_000, 68_000_000, 70_000_000))

    def work(i):
        if i == 0:
            with clock.frozen(ids["opening"] + BEFORE):
                bidding.open_tender(db.session.get(User, ids["officer"]), tender_of(ids))
        else:
            with clock.frozen(ids["deadline"] - BEFORE):
                index = i % 3  # agencies 0-2 withdraw, several clicks each
                bid = db.session.scalar(sa.select(Bid).where(
                    Bid.tender_id == ids["tender"], Bid.agency_id == ids["agencies"][index]))
                bidding.withdraw_bid(db.session.get(User, ids["agency_users"][index]), bid)

    results = at_once(committed_app, work, n=12)
    assert not errors(results), results
    # Three of six bids are withdrawn at most: three stand, enough to open.
    assert_opening_is_the_truth(committed_app, ids)


def _criteria_values(tender, entry):
    return {c.id: (c.max_score * Decimal("0.9") - entry.bid.opening_order)
            for c in tender.criteria if c.kind is not CriterionKind.PRICE}


def test_every_judge_submitting_every_sheet_at_once_gives_one_sheet_each(committed_app):
    ids = built(committed_app, "evaluating")
    with committed_app.app_context():
        tender = tender_of(ids)
        round_ = evaluation.current_round(tender)
        pairs = [(m.id, e.id) for m in evaluation.members(tender) for e in round_.entries]
    at = ids["opening"] + timedelta(hours=3)

    def score(i):
        member_id, entry_id = pairs[i % len(pairs)]
        with clock.frozen(at):
            tender = tender_of(ids)
            round_ = evaluation.current_round(tender)
            member = next(m for m in evaluation.members(tender) if m.id == member_id)
            entry = next(e for e in round_.entries if e.id == entry_id)
            evaluation.save_sheet(member.judge, member, round_, entry.bid,
                                  _criteria_values(tender, entry), submit=True)

    n = len(pairs) + 4  # four sheets submitted twice
    results = at_once(committed_app, score, n=n)
    assert not errors(results), results
    assert results.count("ok") == len(pairs), results
    assert all("评分表已提交" in r for r in results if r != "ok"), results
    with committed_app.app_context():
        sheets = db.session.scalars(sa.select(ScoreSheet)).all()
        assert sorted((s.member_id, s.bid_id) for s in sheets) == sorted(
            (m, db.session.get(RoundEntry, e).bid_id) for m, e in pairs)
        assert evaluation.missing_sheets(evaluation.current_round(tender_of(ids))) == []
    assert len(audit_after(committed_app, "score.submit")) == len(pairs)

    def close(i):
        with clock.frozen(at + timedelta(hours=1)):
            tender = tender_of(ids)
            chair = next(m for m in evaluation.members(tender) if m.is_chair)
            evaluation.close_round(chair.judge, evaluation.current_round(tender))

    results = at_once(committed_app, close)
    assert results.count("ok") == 1 and not errors(results), results
    assert len(audit_after(committed_app, "round.close")) == 1

    def report(i):
        with clock.frozen(at + timedelta(hours=2)):
            tender = tender_of(ids)
            chair = next(m for m in evaluation.members(tender) if m.is_chair)
            award.submit_report(chair.judge, tender, chair, f"评审意见{i}")

    results = at_once(committed_app, report)
    assert results.count("ok") == 1 and not errors(results), results
    with committed_app.app_context():
        assert tender_of(ids).state is TenderState.RESULT_PENDING
        assert verify_chain().ok
    assert len(audit_after(committed_app, "tender.report")) == 1
