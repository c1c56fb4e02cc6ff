"""Sealed bids, the opening and the qualification review."""
from datetime import timedelta

import pytest

from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.core import clock
from procurement.core.errors import DomainError, InvalidTransition
from procurement.orgs.models import OrgKind
from procurement.tenders import bidding, permissions, services
from procurement.tenders.models import Bid, BidFile
from procurement.tenders.states import BidState, TenderMethod, TenderState
from conftest import row_counts
from tender_builder import PDF, Upload

PROPOSAL = "服务方案0"


def test_bid_is_accepted_before_the_deadline_and_refused_after(builder):
    tender = builder.published()
    bid = builder.bid(tender, 0, 60_000_000, days=21.9)
    assert bid.state is BidState.SUBMITTED and bid.version == 1
    before = row_counts(Bid, AuditEntry)
    with clock.frozen(tender.bid_deadline), pytest.raises(DomainError, match="投标已截止"):
        bidding.submit_bid(builder.agency_users[1], tender, builder.agencies[1],
                           price_fen=1, proposal="x")
    assert row_counts(Bid, AuditEntry) == before


def test_an_agency_not_invited_cannot_bid(builder):
    tender = builder.published(invite=3)
    with clock.frozen(builder.at(days=1)), pytest.raises(DomainError, match="邀请名单"):
        bidding.submit_bid(builder.agency_users[4], tender, builder.agencies[4],
                           price_fen=1_000, proposal="x")


def test_any_agency_may_bid_on_an_open_tender(builder):
    tender = builder.published(method=TenderMethod.OPEN, invite=0)
    assert builder.bid(tender, 5, 1_000).state is BidState.SUBMITTED


def test_no_bid_on_a_draft_tender(builder):
    tender = builder.draft(method=TenderMethod.OPEN, invite=0)
    with clock.frozen(builder.at(days=1)), pytest.raises(DomainError):
        bidding.submit_bid(builder.agency_users[0], tender, builder.agencies[0],
                           price_fen=1_000, proposal="x")


def test_replacing_a_bid_makes_a_new_version_and_keeps_one_bid(builder):
    tender = builder.published()
    builder.bid(tender, 0, 60_000_000, uploads=[Upload("方案.pdf", PDF)])
    bid = builder.bid(tender, 0, 58_000_000, days=11, uploads=[Upload("方案v2.pdf", PDF)])
    assert bid.version == 2 and bid.price_fen == 58_000_000
    assert [f.file.original_name for f in bid.current_files] == ["方案v2.pdf"]
    assert Bid.query.filter_by(tender_id=tender.id).count() == 1


def test_withdrawn_bid_does_not_count_and_can_be_resubmitted(builder):
    tender = builder.published()
    bid = builder.bid(tender, 0, 60_000_000)
    with clock.frozen(builder.at(days=12)):
        bidding.withdraw_bid(builder.agency_users[0], bid)
        with pytest.raises(InvalidTransition):
            bidding.withdraw_bid(builder.agency_users[0], bid)
    assert tender.submitted_bids == []
    builder.bid(tender, 0, 61_000_000, days=13)
    assert bid.state is BidState.SUBMITTED and bid.version == 2


def test_withdrawal_after_the_deadline_is_refused(builder):
    tender = builder.published()
    bid = builder.bid(tender, 0, 60_000_000)
    with clock.frozen(tender.bid_deadline + timedelta(minutes=1)), \
            pytest.raises(DomainError, match="截止"):
        bidding.withdraw_bid(builder.agency_users[0], bid)


@pytest.mark.parametrize("name, data, message", [
    ("方案.exe", b"MZ", "文件类型不允许"),
    ("方案.pdf", b"", "空文件"),
    ("方案.pdf", b"PK\x03\x04not a pdf", "不符"),
])
def test_bid_uploads_are_checked_and_a_refusal_writes_nothing(builder, name, data, message):
    tender = builder.published()
    before = row_counts(Bid, BidFile, AuditEntry)
    with pytest.raises(DomainError, match=message):
        builder.bid(tender, 0, 60_000_000, uploads=[Upload(name, data)])
    assert row_counts(Bid, BidFile, AuditEntry) == before


def test_oversized_upload_is_refused(builder, app, monkeypatch):
    tender = builder.published()
    monkeypatch.setitem(app.config, "MAX_UPLOAD_FILE_SIZE", 1024)
    with pytest.raises(DomainError, match="超过"):
        builder.bid(tender, 0, 60_000_000, uploads=[Upload("大.pdf", PDF + b"0" * 2000)])


def test_path_parts_in_a_file_name_are_dropped(builder):
    tender = builder.published()
    bid = builder.bid(tender, 0, 60_000_000, uploads=[Upload("../../etc/passwd.pdf", PDF)])
    stored = bid.current_files[0].file
    assert stored.original_name == "passwd.pdf"
    assert "/" not in stored.stored_name and ".." not in stored.stored_name


def test_audit_entries_of_a_sealed_bid_carry_no_price_or_proposal(builder):
    tender = builder.published()
    builder.bid(tender, 0, 61_234_500, uploads=[Upload("机密方案.pdf", PDF)])
    builder.bid(tender, 0, 59_876_500, days=11)
    entries = AuditEntry.query.filter(AuditEntry.action.like("bid.%")).all()
    assert len(entries) == 2
    text = " ".join(str(e.before) + str(e.after) for e in entries)
    for secret in ("61234500", "612345", "59876500", PROPOSAL, "机密方案"):
        assert secret not in text


def test_nobody_can_read_a_bid_before_opening(builder, factory):
    tender = builder.with_bids()
    bid = tender.submitted_bids[0]
    members = builder.committee(tender)
    everyone = [builder.officer, builder.agency_users[0], builder.agency_users[1], members[0].judge,
                members[1].judge, factory.user(Role.AUDITOR),
                factory.user(Role.LEADER, org=builder.office),
                factory.user(Role.ADMIN, org=builder.office)]
    # Past the deadline and opening time, but not yet opened: still sealed.
    with clock.frozen(tender.opening_time + timedelta(hours=1)):
        assert not any(permissions.can_read_bid(u, bid) for u in everyone)
        bidding.open_tender(builder.officer, tender)
        readers = {u.id for u in everyone if permissions.can_read_bid(u, bid)}
    admin = everyone[-1]
    assert builder.officer.id in readers and builder.agency_users[0].id in readers
    assert builder.agency_users[1].id not in readers  # another bidder
    assert admin.id not in readers  # no superuser


def test_opening_before_the_opening_time_is_refused(builder):
    tender = builder.with_bids()
    with clock.frozen(tender.opening_time - timedelta(seconds=1)), \
            pytest.raises(DomainError, match="未到开标时间"):
        bidding.open_tender(builder.officer, tender)
    assert tender.opened_at is None and tender.state is TenderState.PUBLISHED


def test_fewer_than_three_bids_cannot_be_opened_only_failed(builder):
    tender = builder.with_bids(prices=(60_000_000, 64_000_000))
    with clock.frozen(tender.opening_time):
        with pytest.raises(DomainError, match="不足 3 家"):
            bidding.open_tender(builder.officer, tender)
    assert tender.opened_at is None
    with clock.frozen(tender.opening_time):
        services.fail(builder.officer, tender, "投标人不足三家")
    assert tender.state is TenderState.FAILED


def test_opening_marks_bids_over_budget_or_ceiling_invalid(builder):
    tender = builder.opened(prices=(60_000_000, 70_000_000, 75_000_001, 80_000_001),
                            ceiling_fen=75_000_000)
    by_price = {b.price_fen: b for b in tender.submitted_bids}
    assert by_price[60_000_000].valid is None
    assert "最高限价" in by_price[75_000_001].invalid_reason and by_price[75_000_001].valid is False
    assert "预算" in by_price[80_000_001].invalid_reason
    assert [b.opening_order for b in tender.submitted_bids] == [1, 2, 3, 4]


def test_opening_is_recorded_with_the_prices_read_out(builder):
    builder.opened()
    entry = AuditEntry.query.filter_by(action="tender.open").one()
    assert [row["price_fen"] for row in entry.after["opening_record"]] == [
        60_000_000, 64_000_000, 70_000_000, 75_000_000]


def test_qualification_needs_a_reason_to_refuse_and_cannot_pass_an_over_budget_bid(builder):
    tender = builder.opened(prices=(60_000_000, 70_000_000, 75_000_000, 80_000_001))
    good, over = tender.submitted_bids[0], tender.submitted_bids[3]
    with pytest.raises(DomainError, match="原因"):
        bidding.review_qualification(builder.officer, good, valid=False, reason="")
    with pytest.raises(DomainError, match="预算"):
        bidding.review_qualification(builder.officer, over, valid=True)
    bidding.review_qualification(builder.officer, good, valid=False, reason="未提供社工机构登记证书")
    assert good.valid is False and good.invalid_reason == "未提供社工机构登记证书"


def test_agency_org_kind_is_required_to_bid(builder, factory):
    tender = builder.published(method=TenderMethod.OPEN, invite=0)
    university = factory.org(OrgKind.UNIVERSITY)
    with clock.frozen(builder.at(days=1)), pytest.raises(DomainError, match="社工机构"):
        bidding.submit_bid(builder.officer, tender, university, price_fen=1, proposal="x")
