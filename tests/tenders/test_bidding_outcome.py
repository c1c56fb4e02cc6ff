"""The agency side after the opening: the committee stays hidden until the result, each
bidder sees only its own score and rank (and the winner), the low-price explanation, and
challenges within the window only."""
import sqlalchemy as sa

from conftest import row_counts
from procurement.audit.models import AuditEntry
from procurement.core import clock
from procurement.extensions import db as _db
from procurement.tenders import evaluation, services
from procurement.tenders.models import Bid, Challenge
from procurement.tenders.states import LowPriceDecision, TenderState


def _bid_of(tender, agency):
    return _db.session.scalar(sa.select(Bid).where(Bid.tender_id == tender.id,
                                                   Bid.agency_id == agency.id))


def _judges(builder):
    return [builder.rep.name] + [e.name for e in builder.experts[:4]]


def test_committee_is_hidden_from_bidders_until_the_result_is_published(past, sign_in):
    tender = past.evaluating()
    client = sign_in(past.agency_users[0])
    html = client.get(f"/bidding/{tender.id}").get_data(as_text=True)
    assert "评标委员会</h2>" not in html
    for name in _judges(past):
        assert name not in html, name


def test_after_the_award_a_losing_bidder_sees_its_own_score_and_rank_and_the_winner_only(past, sign_in):
    tender = past.awarded()
    ranking = evaluation.final_ranking(tender)
    winner = ranking[0]
    mine = ranking[2]
    others = [e for e in ranking if e not in (winner, mine)]
    loser_index = past.agencies.index(mine.bid.agency)

    html = sign_in(past.agency_users[loser_index]).get(f"/bidding/{tender.id}").get_data(as_text=True)
    assert f"排名第 {mine.rank}" in html
    assert f"综合得分 {mine.final_score} 分" in html
    assert f"中标人：{winner.bid.agency.name}" in html
    for entry in others:
        assert entry.bid.agency.name not in html
        assert f"{entry.final_score}" not in html or entry.final_score == mine.final_score
    assert f"{winner.final_score}" not in html or winner.final_score == mine.final_score
    # The result is published: the committee list may now be shown.
    for name in _judges(past):
        assert name in html, name


def test_the_winner_is_told_it_won(past, sign_in):
    tender = past.awarded()
    winner = evaluation.final_ranking(tender)[0].bid
    index = past.agencies.index(winner.agency)
    html = sign_in(past.agency_users[index]).get(f"/bidding/{tender.id}").get_data(as_text=True)
    assert "贵机构为中标人" in html and "排名第 1" in html


def test_a_failed_tender_tells_each_bidder_why(past, sign_in):
    tender = past.with_bids(prices=(60_000_000, 64_000_000))
    with clock.frozen(past.after_deadline(tender, hours=1)):
        services.fail(past.officer, tender, "投标人不足三家，依法废标。")
    html = sign_in(past.agency_users[0]).get(f"/bidding/{tender.id}").get_data(as_text=True)
    assert "投标人不足三家，依法废标。" in html


# --- abnormally low price ----------------------------------------------------------------

LOW = (30_000_000, 64_000_000, 70_000_000, 75_000_000)


def test_flagged_bidder_explains_its_low_price(past, sign_in):
    tender = past.evaluating(prices=LOW)
    bid = _bid_of(tender, past.agencies[0])
    assert bid.low_price and bid.low_price_decision is LowPriceDecision.PENDING
    client = sign_in(past.agency_users[0])
    assert "异常低价书面说明" in client.get(f"/bidding/{tender.id}").get_data(as_text=True)

    before = row_counts(AuditEntry)
    response = client.post(f"/bidding/{tender.id}/explain", data={"explanation": ""})
    assert response.status_code == 200 and "请填写书面说明" in response.get_data(as_text=True)
    assert row_counts(AuditEntry) == before

    response = client.post(f"/bidding/{tender.id}/explain",
                           data={"explanation": "本机构已有社工站场地，人员成本由自有项目分担。"})
    assert response.status_code == 302
    _db.session.refresh(bid)
    assert bid.low_price_explanation == "本机构已有社工站场地，人员成本由自有项目分担。"
    assert _db.session.scalar(sa.select(AuditEntry.action).order_by(AuditEntry.seq.desc())) == "bid.explain"


def test_a_bidder_not_flagged_cannot_file_an_explanation(past, sign_in):
    tender = past.evaluating(prices=LOW)
    client = sign_in(past.agency_users[1])
    assert "异常低价书面说明" not in client.get(f"/bidding/{tender.id}").get_data(as_text=True)
    before = row_counts(AuditEntry)
    response = client.post(f"/bidding/{tender.id}/explain", data={"explanation": "理由"})
    assert response.status_code == 200 and "无需或已不能提交低价说明" in response.get_data(as_text=True)
    assert row_counts(AuditEntry) == before
    assert _bid_of(tender, past.agencies[1]).low_price_explanation is None


# --- challenges --------------------------------------------------------------------------


def _loser(builder, tender):
    entry = evaluation.final_ranking(tender)[1]
    return builder.agency_users[builder.agencies.index(entry.bid.agency)]


def test_challenge_within_the_window_is_accepted_and_listed_with_its_answer(past, sign_in):
    tender = past.awarded()
    assert clock.today() <= tender.challenge_until  # the window is still open
    user = _loser(past, tender)
    client = sign_in(user)
    assert 'name="content"' in client.get(f"/bidding/{tender.id}").get_data(as_text=True)
    response = client.post(f"/bidding/{tender.id}/challenge",
                           data={"content": "价格分计算有误，请复核。"})
    assert response.status_code == 302
    challenge = _db.session.scalar(sa.select(Challenge).where(Challenge.tender_id == tender.id))
    assert challenge.agency_id == user.org_id and challenge.content == "价格分计算有误，请复核。"

    from procurement.tenders import award
    award.answer_challenge(past.officer, challenge, answer="经复核，价格分计算无误。",
                           may_change_result=False)
    _db.session.flush()
    html = client.get(f"/bidding/{tender.id}").get_data(as_text=True)
    assert "价格分计算有误，请复核。" in html and "经复核，价格分计算无误。" in html
    # Another bidder does not see this agency's challenge.
    other = next(u for u in past.agency_users[:4] if u.org_id != user.org_id)
    assert "价格分计算有误" not in sign_in(other).get(f"/bidding/{tender.id}").get_data(as_text=True)


def test_challenge_after_the_window_is_refused_and_nothing_written(long_past, sign_in):
    tender = long_past.awarded()
    assert clock.today() > tender.challenge_until
    client = sign_in(_loser(long_past, tender))
    html = client.get(f"/bidding/{tender.id}").get_data(as_text=True)
    assert "质疑期已于" in html and 'name="content"' not in html
    before = row_counts(Challenge, AuditEntry)
    response = client.post(f"/bidding/{tender.id}/challenge", data={"content": "迟到的质疑"})
    assert response.status_code == 200
    assert "质疑期已于" in response.get_data(as_text=True)
    assert row_counts(Challenge, AuditEntry) == before


def test_agency_without_a_bid_cannot_challenge(past, sign_in):
    tender = past.awarded()
    assert tender.state is TenderState.AWARDED
    client = sign_in(past.agency_users[5])  # invited, never bid
    before = row_counts(Challenge)
    assert client.post(f"/bidding/{tender.id}/challenge",
                       data={"content": "质疑"}).status_code == 403
    assert row_counts(Challenge) == before
