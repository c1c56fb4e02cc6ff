"""Public notices: anyone reads them, and they reveal nothing sealed."""
from datetime import datetime, timedelta

from procurement.core.calendar import SHANGHAI, now_utc
from procurement.core.money import format_fen
from procurement.tenders import evaluation
from tender_builder import TenderBuilder


def recent(factory, days_ago: int) -> TenderBuilder:
    start = (now_utc() - timedelta(days=days_ago)).astimezone(SHANGHAI)
    return TenderBuilder(factory, start=datetime(start.year, start.month, start.day, 9,
                                                 tzinfo=SHANGHAI))


def test_a_draft_is_not_public(builder, client):
    tender = builder.draft()
    assert client.get(f"/notices/{tender.id}").status_code == 404
    assert tender.title not in client.get("/notices/").get_data(as_text=True)


def test_tender_notice_is_public_and_shows_no_bid(factory, client):
    b = recent(factory, 0)
    tender = b.published()
    b.bid(tender, 0, 61_234_500, days=0.1)
    html = client.get(f"/notices/{tender.id}").get_data(as_text=True)
    assert "投标邀请" in html and tender.number in html and "服务方案" in html
    assert format_fen(61_234_500) not in html and b.agencies[0].name not in html
    assert tender.number in client.get("/notices/").get_data(as_text=True)


def test_award_notice_names_winner_price_committee_and_challenge_deadline(builder, client):
    tender = builder.awarded()
    html = client.get(f"/notices/{tender.id}").get_data(as_text=True)
    assert "中标公告" in html
    assert tender.awarded_bid.agency.name in html and format_fen(tender.awarded_bid.price_fen) in html
    assert all(m.judge.name in html for m in evaluation.members(tender))
    assert str(tender.challenge_until) in html
    assert tender.number in client.get("/notices/?kind=award").get_data(as_text=True)


def test_committee_is_not_public_before_the_award(builder, client):
    tender = builder.reported()
    html = client.get(f"/notices/{tender.id}").get_data(as_text=True)
    assert not any(m.judge.name in html for m in evaluation.members(tender))


def test_failed_notice_gives_the_reason(builder, client):
    from procurement.core import clock
    from procurement.tenders import services
    tender = builder.with_bids(prices=(60_000_000, 64_000_000))
    with clock.frozen(tender.opening_time):
        services.fail(builder.officer, tender, "投标人不足三家，依法废标")
    html = client.get(f"/notices/{tender.id}").get_data(as_text=True)
    assert "废标公告" in html and "投标人不足三家" in html
    assert format_fen(60_000_000) not in html
