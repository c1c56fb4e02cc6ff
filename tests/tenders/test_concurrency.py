"""Many people clicking at once (PostgreSQL): one opening, one award, one bid per agency,
and an audit chain that still verifies."""
from datetime import timedelta

import sqlalchemy as sa

from conftest import Factory, at_once
from procurement.accounts.models import User
from procurement.audit.models import AuditEntry
from procurement.audit.services import verify_chain
from procurement.core.calendar import now_utc
from procurement.extensions import db
from procurement.tenders import award, bidding, evaluation
from procurement.tenders.models import Bid, Tender
from procurement.tenders.states import TenderState
from tender_builder import TenderBuilder

THREADS = 12


def built(app, days_ago: float, stage: str):
    with app.app_context():
        b = TenderBuilder(Factory(), start=(now_utc() - timedelta(days=days_ago)))
        tender = getattr(b, stage)()
        ids = {"tender": tender.id, "officer": b.officer.id,
               "agency": b.agencies[0].id, "agency_user": b.agency_users[0].id}
        db.session.commit()
        return ids


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_simultaneous_openings_open_the_tender_once(committed_app):
    ids = built(committed_app, 30, "with_bids")

    def open_it(i):
        bidding.open_tender(db.session.get(User, ids["officer"]),
                            db.session.get(Tender, ids["tender"]))

    results = at_once(committed_app, open_it)
    assert results.count("ok") == 1, results
    assert not [r for r in results if r.startswith("error")], results
    assert count(committed_app, AuditEntry, AuditEntry.action == "tender.open") == 1
    with committed_app.app_context():
        assert verify_chain().ok


def test_simultaneous_submissions_by_one_agency_keep_one_bid_with_consecutive_versions(committed_app):
    ids = built(committed_app, 1 / 24, "published")

    def submit(i):
        from procurement.orgs.models import Organisation
        bidding.submit_bid(db.session.get(User, ids["agency_user"]), db.session.get(Tender, ids["tender"]),
                           db.session.get(Organisation, ids["agency"]),
                           price_fen=60_000_000 + i, proposal=f"方案{i}")

    results = at_once(committed_app, submit)
    assert results == ["ok"] * THREADS, results
    assert count(committed_app, Bid, Bid.tender_id == ids["tender"]) == 1
    with committed_app.app_context():
        bid = db.session.scalars(sa.select(Bid).where(Bid.tender_id == ids["tender"])).one()
        assert bid.version == THREADS
        assert verify_chain().ok
    assert count(committed_app, AuditEntry, AuditEntry.action.in_(["bid.submit", "bid.replace"])) == THREADS


def test_simultaneous_awards_award_once(committed_app):
    ids = built(committed_app, 30, "reported")

    def pick(i):
        tender = db.session.get(Tender, ids["tender"])
        first = evaluation.final_ranking(tender)[0].bid
        award.award(db.session.get(User, ids["officer"]), tender, first)

    results = at_once(committed_app, pick)
    assert results.count("ok") == 1, results
    assert not [r for r in results if r.startswith("error")], results
    with committed_app.app_context():
        assert db.session.get(Tender, ids["tender"]).state is TenderState.AWARDED
        assert verify_chain().ok
    assert count(committed_app, AuditEntry, AuditEntry.action == "tender.award") == 1
