"""The national rules as pure functions (RULES.md), each proved at its boundary."""
from datetime import date, datetime
from decimal import Decimal

import pytest

from procurement.core.calendar import SHANGHAI
from procurement.core.errors import DomainError
from procurement.tenders import rules
from procurement.tenders.rules import CriterionSpec, Standing
from procurement.tenders.states import CriterionKind, ScoreCombination, TenderMethod, TieBreak

D = Decimal


def criteria(price_weight: str, other_weight: str | None = None):
    other = D(other_weight) if other_weight else 1 - D(price_weight)
    return [CriterionSpec("服务方案", CriterionKind.SUBJECTIVE, D(100), other),
            CriterionSpec("投标报价", CriterionKind.PRICE, D(100), D(price_weight))]


def test_weights_must_sum_to_exactly_one():
    rules.check_criteria(criteria("0.30"), TenderMethod.OPEN)
    with pytest.raises(DomainError, match="100%"):
        rules.check_criteria(criteria("0.30", "0.69"), TenderMethod.OPEN)


def test_exactly_one_price_criterion_is_required():
    no_price = [CriterionSpec("服务方案", CriterionKind.SUBJECTIVE, D(100), D(1))]
    with pytest.raises(DomainError, match="价格分"):
        rules.check_criteria(no_price, TenderMethod.OPEN)
    two = criteria("0.30", "0.40") + [CriterionSpec("报价2", CriterionKind.PRICE, D(100), D("0.30"))]
    with pytest.raises(DomainError, match="有且只有一项价格分"):
        rules.check_criteria(two, TenderMethod.OPEN)


@pytest.mark.parametrize("method, weight, ok", [
    (TenderMethod.OPEN, "0.10", True),
    (TenderMethod.OPEN, "0.09", False),
    (TenderMethod.OPEN, "0.60", True),
    (TenderMethod.INVITED, "0.0999", False),
    (TenderMethod.CONSULTATION, "0.10", True),
    (TenderMethod.CONSULTATION, "0.30", True),
    (TenderMethod.CONSULTATION, "0.31", False),
    (TenderMethod.CONSULTATION, "0.09", False),
])
def test_price_weight_limits_depend_on_the_method(method, weight, ok):
    if ok:
        rules.check_criteria(criteria(weight), method)
    else:
        with pytest.raises(DomainError, match="价格分权重"):
            rules.check_criteria(criteria(weight), method)


def test_deposit_is_at_most_two_percent_and_ceiling_within_budget():
    rules.check_amounts(1_000_000, 1_000_000, 20_000)
    with pytest.raises(DomainError, match="2%"):
        rules.check_amounts(1_000_000, None, 20_001)
    with pytest.raises(DomainError, match="最高限价"):
        rules.check_amounts(1_000_000, 1_000_001, 0)


def test_a_price_over_budget_or_ceiling_makes_the_bid_invalid():
    assert rules.over_limit_reason(100, 100, None) is None
    assert "预算" in rules.over_limit_reason(101, 100, None)
    assert "最高限价" in rules.over_limit_reason(91, 100, 90)
    assert rules.over_limit_reason(90, 100, 90) is None


def at(y, m, d, h=9):
    return datetime(y, m, d, h, tzinfo=SHANGHAI)


def test_documents_must_be_available_five_working_days():
    # Issued Monday 2026-03-02: five working days are Tue 3 … Mon 9 (the first day not counted).
    rules.check_schedule(date(2026, 3, 2), date(2026, 3, 9), at(2026, 3, 24))
    with pytest.raises(DomainError, match="5 个工作日"):
        rules.check_schedule(date(2026, 3, 2), date(2026, 3, 6), at(2026, 3, 24))


def test_five_working_days_skip_a_public_holiday():
    # Issued Wed 2026-09-30: National Day 10-01..10-07 are holidays, so Fri 10-09 is not enough.
    with pytest.raises(DomainError, match="5 个工作日"):
        rules.check_schedule(date(2026, 9, 30), date(2026, 10, 9), at(2026, 10, 30))


def test_twenty_days_from_issue_to_the_bid_deadline():
    # Issued 2026-03-02: day 20 is Sun 03-22, which moves to Mon 03-23.
    rules.check_schedule(date(2026, 3, 2), date(2026, 3, 9), at(2026, 3, 23))
    with pytest.raises(DomainError, match="20 日"):
        rules.check_schedule(date(2026, 3, 2), date(2026, 3, 9), at(2026, 3, 20))


def test_clarification_moves_the_deadline_only_when_fewer_than_15_days_remain():
    deadline = at(2026, 3, 31, 9)
    assert rules.clarified_deadline(date(2026, 3, 16), deadline) == deadline  # 15 days left
    moved = rules.clarified_deadline(date(2026, 3, 17), deadline)
    assert moved.astimezone(SHANGHAI) == at(2026, 4, 1, 9)
    # The 15th day on a weekend moves to the next working day, keeping the hour.
    moved = rules.clarified_deadline(date(2026, 3, 20), at(2026, 3, 25, 14))
    assert moved.astimezone(SHANGHAI) == at(2026, 4, 7, 14)  # 04-04..06 is Qingming


@pytest.mark.parametrize("method, budget_fen, large, minimum", [
    (TenderMethod.OPEN, 999_999_999, False, 5),
    (TenderMethod.OPEN, 1_000_000_000, False, 7),
    (TenderMethod.INVITED, 80_000_000, True, 7),
    (TenderMethod.CONSULTATION, 80_000_000, False, 3),
])
def test_minimum_committee_size(method, budget_fen, large, minimum):
    assert rules.min_committee_size(method, budget_fen, large) == minimum


def test_committee_must_be_odd_two_thirds_experts_and_not_chaired_by_the_purchaser():
    rules.check_committee(5, 4, True, 5)
    with pytest.raises(DomainError, match="至少需要 5 人"):
        rules.check_committee(3, 3, True, 5)
    with pytest.raises(DomainError, match="单数"):
        rules.check_committee(6, 6, True, 5)
    with pytest.raises(DomainError, match="三分之二"):
        rules.check_committee(5, 3, True, 5)
    rules.check_committee(3, 2, True, 3)  # 2 of 3 is exactly two thirds
    with pytest.raises(DomainError, match="组长"):
        rules.check_committee(5, 4, False, 5)
    with pytest.raises(DomainError, match="指定"):
        rules.check_committee(5, 4, None, 5)


def test_price_score_uses_the_lowest_valid_price_as_base():
    scores = rules.price_scores({1: 600_000, 2: 640_000, 3: 700_000})
    assert scores == {1: D("100.00"), 2: D("93.75"), 3: D("85.71")}


def test_weighted_total_normalises_each_criterion_to_a_hundred():
    assert rules.weighted(D(36), D(40), D("0.40")) == D(36)
    assert rules.weighted(D("93.75"), D(100), D("0.30")) == D("28.125")


def test_scores_must_lie_in_range_with_two_decimals():
    rules.check_score("方案", D("40.00"), D(40))
    with pytest.raises(DomainError, match="0 至 40"):
        rules.check_score("方案", D("40.01"), D(40))
    with pytest.raises(DomainError, match="两位小数"):
        rules.check_score("方案", D("1.005"), D(40))


def test_combining_judges_mean_and_trimmed_mean():
    totals = [D(80), D(90), D(70), D(85), D(100)]
    assert rules.combine(totals, ScoreCombination.MEAN) == D("85.00")
    assert rules.combine(totals, ScoreCombination.TRIMMED_MEAN) == D("85.00")
    assert rules.combine([D(60), D(90), D(91), D(92), D(93)], ScoreCombination.TRIMMED_MEAN) == D("91.00")
    # Too few judges to trim: the plain mean.
    assert rules.combine([D(60), D(90), D(90)], ScoreCombination.TRIMMED_MEAN) == D("80.00")


def test_abnormally_low_price_is_judged_against_the_others_mean():
    prices = {1: 500, 2: 1000, 3: 1000, 4: 1000}
    assert rules.low_price_bids(prices, D("0.80")) == {1}
    assert rules.low_price_bids({1: 800, 2: 1000, 3: 1000}, D("0.80")) == set()


def test_ranking_score_then_price_then_tie_break_then_recorded_draw():
    standings = [Standing(1, D(90), 700, D(60)), Standing(2, D(92), 800, D(60)),
                 Standing(3, D(90), 650, D(50)), Standing(4, D(90), 700, D(65))]
    result = rules.rank(standings, TieBreak.TECHNICAL, "seed")
    assert [s.bid_id for s in result.standings] == [2, 3, 4, 1]
    assert [s.rank for s in result.standings] == [1, 2, 3, 4]
    assert result.draws == []


def test_a_full_tie_is_decided_by_a_draw_that_the_seed_reproduces():
    def tied():
        return [Standing(i, D(90), 700, D(60)) for i in (1, 2, 3)]
    first = rules.rank(tied(), TieBreak.TECHNICAL, "abc")
    again = rules.rank(tied(), TieBreak.TECHNICAL, "abc")
    assert [s.bid_id for s in first.standings] == [s.bid_id for s in again.standings]
    assert len(first.draws) == 1 and all(s.note for s in first.standings)
    orders = {tuple(s.bid_id for s in rules.rank(tied(), TieBreak.DRAW, seed).standings)
              for seed in map(str, range(30))}
    assert len(orders) > 1  # the seed, not the input order, decides


def test_draw_tie_break_ignores_the_technical_score():
    standings = [Standing(1, D(90), 700, D(50)), Standing(2, D(90), 700, D(60))]
    result = rules.rank(standings, TieBreak.DRAW, "x")
    assert result.draws and all(s.note for s in result.standings)
