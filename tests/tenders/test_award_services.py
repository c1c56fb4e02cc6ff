"""The committee's report, the pick in ranked order, the notice, challenges, what bidders see."""
from datetime import date, datetime, timedelta

import pytest

from procurement.core import clock
from procurement.core.calendar import SHANGHAI
from procurement.core.errors import DomainError, InvalidTransition
from procurement.tenders import award, evaluation
from procurement.tenders.states import ChallengeState, TenderState


def test_only_the_chair_submits_the_report_and_only_after_the_final_round(builder):
    tender = builder.evaluating()
    members = evaluation.members(tender)
    chair = builder.chair(tender)
    with pytest.raises(DomainError, match="评分尚未结束"):
        award.submit_report(chair.judge, tender, chair, "报告")
    round_ = evaluation.current_round(tender)
    builder.score_round(tender, round_)
    evaluation.close_round(chair.judge, round_)
    other = next(m for m in members if not m.is_chair)
    with pytest.raises(DomainError, match="组长"):
        award.submit_report(other.judge, tender, other, "报告")
    award.submit_report(chair.judge, tender, chair, "推荐排序如下")
    assert tender.state is TenderState.RESULT_PENDING and tender.report_at


def test_the_winner_is_picked_in_ranked_order(builder):
    tender = builder.reported()
    ranking = evaluation.final_ranking(tender)
    second = ranking[1].bid
    with pytest.raises(DomainError, match="排名第 2"):
        award.award(builder.officer, tender, second)
    assert tender.state is TenderState.RESULT_PENDING
    with clock.frozen(builder.after_deadline(tender, hours=30)):
        award.award(builder.officer, tender, second, reason="排名第一的投标人书面放弃中标")
    assert tender.awarded_bid == second and tender.pick_reason


def test_a_bid_outside_the_ranking_cannot_win(builder):
    tender = builder.opened(prices=(60_000_000, 64_000_000, 70_000_000, 75_000_000))
    builder.committee(tender)
    bids = tender.submitted_bids
    from procurement.tenders import bidding
    bidding.review_qualification(builder.officer, bids[0], valid=False, reason="资质不符")
    for bid in bids[1:]:
        bidding.review_qualification(builder.officer, bid, valid=True)
    evaluation.start_evaluation(builder.officer, tender)
    round_ = evaluation.current_round(tender)
    builder.score_round(tender, round_)
    chair = builder.chair(tender)
    evaluation.close_round(chair.judge, round_)
    award.submit_report(chair.judge, tender, chair, "报告")
    with pytest.raises(DomainError, match="排序名单"):
        award.award(builder.officer, tender, bids[0], reason="x")


def test_award_notice_runs_one_working_day_then_seven_for_challenges(builder):
    tender = builder.reported()
    # Friday 2026-04-03: the notice ends Tuesday 04-07 (Qingming 04-04..06), challenges until 04-16.
    with clock.frozen(datetime(2026, 4, 3, 10, tzinfo=SHANGHAI)):
        award.award(builder.officer, tender, evaluation.final_ranking(tender)[0].bid)
    assert tender.notice_end == date(2026, 4, 7)
    assert tender.challenge_until == date(2026, 4, 16)


def test_award_twice_is_refused(builder):
    tender = builder.awarded()
    with pytest.raises(InvalidTransition, match="已中标"):
        award.award(builder.officer, tender, tender.awarded_bid)


def loser(builder, tender):
    ranking = evaluation.final_ranking(tender)
    return ranking[-1].bid


def test_a_challenge_within_the_window_suspends_contract_signing(builder):
    tender = builder.awarded()
    assert award.signing_block(tender) is None
    bid = loser(builder, tender)
    with clock.frozen(datetime.combine(tender.challenge_until, datetime.min.time(), SHANGHAI)):
        challenge = award.file_challenge(builder.agency_users[0], tender, bid, "评分有误")
    assert "暂停签订合同" in award.signing_block(tender)
    with clock.frozen(challenge.submitted_at + timedelta(days=2)):
        award.answer_challenge(builder.officer, challenge, answer="经复核评分无误",
                               may_change_result=False)
    assert challenge.state is ChallengeState.ANSWERED
    assert award.signing_block(tender) is None


def test_a_challenge_that_may_change_the_result_keeps_blocking_after_the_answer(builder):
    tender = builder.awarded()
    with clock.frozen(datetime.combine(tender.notice_end, datetime.min.time(), SHANGHAI)):
        challenge = award.file_challenge(None, tender, loser(builder, tender), "资格有误")
        award.answer_challenge(builder.officer, challenge, answer="质疑成立", may_change_result=True)
    assert award.signing_block(tender)


def test_a_challenge_after_the_window_is_refused(builder):
    tender = builder.awarded()
    late = datetime.combine(tender.challenge_until + timedelta(days=1), datetime.min.time(), SHANGHAI)
    with clock.frozen(late), pytest.raises(DomainError, match="质疑期"):
        award.file_challenge(None, tender, loser(builder, tender), "评分有误")
    assert tender.challenges == []


def test_a_challenge_needs_content_and_a_bidder_of_this_tender(builder):
    tender = builder.awarded()
    other = builder.awarded()
    with clock.frozen(datetime.combine(tender.notice_end, datetime.min.time(), SHANGHAI)):
        with pytest.raises(DomainError, match="质疑事项"):
            award.file_challenge(None, tender, loser(builder, tender), " ")
        with pytest.raises(DomainError, match="投标人"):
            award.file_challenge(None, tender, loser(builder, other), "x")


def test_each_bidder_sees_its_own_score_and_rank_and_the_winner(builder):
    tender = builder.awarded()
    ranking = evaluation.final_ranking(tender)
    last = ranking[-1]
    outcome = award.outcome_for(tender, last.bid)
    assert outcome.rank == len(ranking) and outcome.score == last.final_score
    assert not outcome.won and outcome.winner == ranking[0].bid.agency.name
    assert award.outcome_for(tender, ranking[0].bid).won


def test_bidders_see_why_a_tender_failed(builder):
    tender = builder.evaluating(prices=(40_000_000, 64_000_000, 70_000_000))
    low = tender.valid_bids[0]
    from procurement.tenders import bidding
    bidding.explain_low_price(None, low, "说明")
    bidding.decide_low_price(None, low, accept=False, note="不合理")
    for bid in tender.submitted_bids:
        outcome = award.outcome_for(tender, bid)
        assert outcome.state is TenderState.FAILED and "不足 3 家" in outcome.reason


def test_no_outcome_before_the_result(builder):
    tender = builder.reported()
    assert award.outcome_for(tender, tender.valid_bids[0]) is None
