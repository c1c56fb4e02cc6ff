"""The committee, declarations, independent scoring in rounds, corrections and ranking."""
from decimal import Decimal

import pytest

from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.core import clock
from procurement.core.errors import DomainError, InvalidTransition
from procurement.tenders import bidding, evaluation, services
from procurement.tenders.evaluation_models import Score, ScoreCorrection, ScoreSheet
from procurement.tenders.states import (CorrectionReason, CriterionKind, LowPriceDecision,
                                        MemberState, RoundState, SheetState, TenderMethod,
                                        TenderState)
from conftest import row_counts

D = Decimal


def values_for(tender, fraction="0.8"):
    return {c.id: c.max_score * D(fraction) for c in tender.criteria
            if c.kind is not CriterionKind.PRICE}


def test_committee_of_four_or_six_is_refused(builder):
    tender = builder.opened()
    for judges in ([builder.rep] + builder.experts[:3], [builder.rep] + builder.experts[:5]):
        with pytest.raises(DomainError, match="至少需要 5 人|单数"):
            evaluation.form_committee(builder.officer, tender, judges=judges,
                                      chair=builder.experts[0])


def test_large_budget_needs_seven_judges(builder):
    tender = builder.opened(budget_fen=1_000_000_000)
    with pytest.raises(DomainError, match="至少需要 7 人"):
        builder.committee(tender, experts=4)
    assert len(builder.committee(tender, experts=6)) == 7


def test_consultation_committee_may_have_three(builder):
    crit = [c for c in builder.fields()["criteria"]]
    tender = builder.opened(method=TenderMethod.CONSULTATION, criteria=crit)
    seats = evaluation.form_committee(builder.officer, tender,
                                      judges=[builder.rep] + builder.experts[:2],
                                      chair=builder.experts[0])
    assert len(seats) == 3


def test_experts_must_be_two_thirds(builder, factory):
    tender = builder.opened()
    reps = [builder.rep] + [factory.user(Role.JUDGE, org=builder.office) for _ in range(1)]
    with pytest.raises(DomainError, match="三分之二"):
        evaluation.form_committee(builder.officer, tender, judges=reps + builder.experts[:3],
                                  chair=builder.experts[0])


def test_the_purchasers_representative_may_not_chair(builder):
    tender = builder.opened()
    with pytest.raises(DomainError, match="组长"):
        evaluation.form_committee(builder.officer, tender,
                                  judges=[builder.rep] + builder.experts[:4], chair=builder.rep)


def test_only_judge_users_sit_on_the_committee(builder, factory):
    tender = builder.opened()
    not_judge = factory.user(Role.UNIVERSITY_EVALUATOR)
    with pytest.raises(DomainError, match="评委账号"):
        evaluation.form_committee(builder.officer, tender,
                                  judges=[builder.rep, not_judge] + builder.experts[:3],
                                  chair=builder.experts[0])


def test_evaluation_needs_every_bid_reviewed_and_three_qualified(builder):
    tender = builder.opened()
    builder.committee(tender)
    with pytest.raises(DomainError, match="资格审查"):
        evaluation.start_evaluation(builder.officer, tender)
    bids = tender.submitted_bids
    for bid in bids[:2]:
        bidding.review_qualification(builder.officer, bid, valid=False, reason="资质不符")
    for bid in bids[2:]:
        bidding.review_qualification(builder.officer, bid, valid=True)
    with pytest.raises(DomainError, match="合格投标人不足 3 家"):
        evaluation.start_evaluation(builder.officer, tender)
    assert tender.state is TenderState.OPENED


def test_a_judge_must_declare_before_scoring_and_a_tie_bars_scoring(builder):
    tender = builder.evaluating()
    round_ = evaluation.current_round(tender)
    member = evaluation.members(tender)[1]
    bid = tender.valid_bids[0]
    with pytest.raises(DomainError, match="回避声明"):
        evaluation.save_sheet(member.judge, member, round_, bid, values_for(tender), submit=True)
    evaluation.declare(member.judge, member, bid, has_tie=True, description="三年内曾在该机构任职")
    with pytest.raises(DomainError, match="回避"):
        evaluation.save_sheet(member.judge, member, round_, bid, values_for(tender), submit=True)
    assert ScoreSheet.query.count() == 0
    # The conflicted judge owes no sheet for that bid, so the round can close without it.
    assert (member.id, bid.id) not in {(m.id, b.id) for m, b in evaluation.missing_sheets(round_)}


def test_a_declaration_cannot_be_changed(builder):
    tender = builder.evaluating()
    member = evaluation.members(tender)[1]
    evaluation.declare(member.judge, member, tender.valid_bids[0], has_tie=False)
    with pytest.raises(DomainError, match="不能更改"):
        evaluation.declare(member.judge, member, tender.valid_bids[0], has_tie=True,
                           description="x")


def test_price_score_is_computed_from_the_lowest_valid_price_never_typed(builder):
    tender = builder.evaluating(prices=(60_000_000, 64_000_000, 70_000_000, 75_000_000))
    round_ = evaluation.current_round(tender)
    assert [e.price_score for e in round_.entries] == [D("100.00"), D("93.75"), D("85.71"), D("80.00")]
    builder.declare_all(tender)
    member = evaluation.members(tender)[1]
    price = tender.price_criterion
    typed = values_for(tender) | {price.id: D(100)}
    sheet = evaluation.save_sheet(member.judge, member, round_, round_.entries[3].bid, typed,
                                  submit=True)
    assert sheet.score_for(price.id) is None
    # 0.8 of every non-price max gives 80 × 0.7 = 56; price 80.00 × 0.3 = 24.
    assert sheet.total == D("80.00")


def test_an_invalid_bid_does_not_set_the_price_base(builder):
    tender = builder.opened(prices=(50_000_000, 64_000_000, 70_000_000, 80_000_000))
    builder.committee(tender)
    bids = tender.submitted_bids
    bidding.review_qualification(builder.officer, bids[0], valid=False, reason="资质不符")
    for bid in bids[1:]:
        bidding.review_qualification(builder.officer, bid, valid=True)
    evaluation.start_evaluation(builder.officer, tender)
    entries = evaluation.current_round(tender).entries
    assert [e.bid.price_fen for e in entries] == [64_000_000, 70_000_000, 80_000_000]
    assert entries[0].price_score == D("100.00")


def test_scores_out_of_range_are_refused_and_nothing_is_written(builder):
    tender = builder.evaluating()
    builder.declare_all(tender)
    round_ = evaluation.current_round(tender)
    member = evaluation.members(tender)[0]
    bad = values_for(tender)
    bad[tender.criteria[0].id] = tender.criteria[0].max_score + 1
    before = row_counts(ScoreSheet, Score, AuditEntry)
    with pytest.raises(DomainError, match="之间"):
        evaluation.save_sheet(member.judge, member, round_, tender.valid_bids[0], bad, submit=True)
    assert row_counts(ScoreSheet, Score, AuditEntry) == before


def test_a_submitted_sheet_cannot_be_saved_again(builder):
    tender = builder.evaluating()
    builder.declare_all(tender)
    round_ = evaluation.current_round(tender)
    member = evaluation.members(tender)[0]
    bid = tender.valid_bids[0]
    draft = evaluation.save_sheet(member.judge, member, round_, bid, values_for(tender, "0.5"),
                                  submit=False)
    assert draft.state is SheetState.DRAFT
    evaluation.save_sheet(member.judge, member, round_, bid, values_for(tender), submit=True)
    with pytest.raises(DomainError, match="已提交"):
        evaluation.save_sheet(member.judge, member, round_, bid, values_for(tender, "0.9"),
                              submit=True)


def test_corrections_only_for_allowed_reasons_and_recorded(builder):
    tender = builder.evaluating()
    round_ = evaluation.current_round(tender)
    builder.score_round(tender, round_)
    member = evaluation.members(tender)[1]
    sheet = evaluation.sheet_of(round_, member, tender.valid_bids[0])
    subjective = next(c for c in tender.criteria if c.kind is CriterionKind.SUBJECTIVE)
    objective = next(c for c in tender.criteria if c.kind is CriterionKind.OBJECTIVE)
    with pytest.raises(ValueError):
        evaluation.correct_score(member.judge, sheet, subjective.id, D(30), reason="changed_mind",
                                 note="想改")
    with pytest.raises(DomainError, match="客观分"):
        evaluation.correct_score(member.judge, sheet, subjective.id, D(30),
                                 reason=CorrectionReason.OBJECTIVE_INCONSISTENT, note="x")
    with pytest.raises(DomainError, match="价格分"):
        evaluation.correct_score(member.judge, sheet, tender.price_criterion.id, D(30),
                                 reason=CorrectionReason.SUMMING_ERROR, note="x")
    old_total = sheet.total
    correction = evaluation.correct_score(member.judge, sheet, objective.id, D(10),
                                          reason=CorrectionReason.OBJECTIVE_INCONSISTENT,
                                          note="人员证书数量按投标文件核对")
    assert correction.old_value != correction.new_value and sheet.total != old_total
    assert ScoreCorrection.query.count() == 1
    assert AuditEntry.query.filter_by(action="score.correct").count() == 1


def test_replacing_a_judge_voids_that_judges_scores(builder):
    tender = builder.evaluating()
    round_ = evaluation.current_round(tender)
    builder.score_round(tender, round_)
    leaving = evaluation.members(tender)[2]
    newcomer = evaluation.replace_member(builder.officer, leaving, new_judge=builder.experts[5],
                                         reason="突发疾病")
    assert leaving.state is MemberState.REPLACED and newcomer.active
    assert {s.state for s in round_.sheets if s.member_id == leaving.id} == {SheetState.VOID}
    # The newcomer now owes every sheet, so the round cannot close yet.
    assert {m.id for m, _ in evaluation.missing_sheets(round_)} == {newcomer.id}
    with pytest.raises(DomainError, match="未提交"):
        evaluation.close_round(builder.chair(tender).judge, round_)


def test_replacing_the_chair_passes_the_chair_on(builder):
    tender = builder.evaluating()
    chair = builder.chair(tender)
    newcomer = evaluation.replace_member(builder.officer, chair, new_judge=builder.experts[5],
                                         reason="回避")
    assert newcomer.is_chair and not chair.is_chair


def test_low_price_must_be_explained_and_accepted_before_ranking(builder):
    tender = builder.evaluating(prices=(40_000_000, 64_000_000, 70_000_000, 75_000_000))
    low = tender.valid_bids[0]
    assert low.low_price and low.low_price_decision is LowPriceDecision.PENDING
    round_ = evaluation.current_round(tender)
    builder.score_round(tender, round_)
    chair = builder.chair(tender).judge
    with pytest.raises(DomainError, match="明显偏低"):
        evaluation.close_round(chair, round_)
    with pytest.raises(DomainError, match="尚未提交书面说明"):
        bidding.decide_low_price(chair, low, accept=True, note="合理")
    bidding.explain_low_price(builder.agency_users[0], low, "本机构在当地已有办公场所和团队，成本较低。")
    bidding.decide_low_price(chair, low, accept=True, note="说明合理，予以接受")
    evaluation.close_round(chair, round_)
    assert round_.state is RoundState.CLOSED
    assert evaluation.final_ranking(tender)[0].bid == low


def test_a_rejected_low_price_makes_the_bid_invalid_and_too_few_fails_the_tender(builder):
    tender = builder.evaluating(prices=(40_000_000, 64_000_000, 70_000_000))
    low = tender.valid_bids[0]
    bidding.explain_low_price(builder.agency_users[0], low, "成本说明")
    bidding.decide_low_price(builder.chair(tender).judge, low, accept=False, note="不能证明合理性")
    assert low.valid is False and "第六十条" in low.invalid_reason
    assert tender.state is TenderState.FAILED and "不足 3 家" in tender.end_reason


def test_ranking_uses_the_mean_of_the_judges_totals(builder):
    tender = builder.evaluating()
    round_ = evaluation.current_round(tender)
    fractions = {}

    def vary(member, bid):
        fraction = D("0.5") + D(member.id % 5) / 10
        fractions.setdefault(bid.id, []).append(fraction)
        return values_for(tender, fraction)

    builder.score_round(tender, round_, values=vary)
    evaluation.close_round(builder.chair(tender).judge, round_)
    for entry in round_.entries:
        totals = [s.total for s in round_.sheets if s.bid_id == entry.bid_id]
        assert len(totals) == 5
        assert entry.final_score == (sum(totals) / 5).quantize(D("0.01"))
    ranks = [e.rank for e in sorted(round_.entries, key=lambda e: -e.final_score)]
    assert ranks == [1, 2, 3, 4]


def test_equal_scores_rank_the_lower_price_first(builder):
    tender = builder.evaluating(prices=(64_000_000, 64_000_000, 70_000_000))
    round_ = evaluation.current_round(tender)
    builder.score_round(tender, round_, values=lambda m, b: values_for(tender))
    evaluation.close_round(builder.chair(tender).judge, round_)
    ranking = evaluation.final_ranking(tender)
    assert ranking[-1].bid.price_fen == 70_000_000
    # The two identical bids tie on everything: a recorded draw decides, with its seed kept.
    assert round_.draw_seed and ranking[0].tie_note and ranking[1].tie_note


def test_shortlist_opens_a_new_round_with_the_top_bids(builder):
    tender = builder.evaluating()
    first = evaluation.current_round(tender)
    builder.score_round(tender, first)
    chair = builder.chair(tender).judge
    with pytest.raises(DomainError, match="2 至 3"):
        evaluation.close_round(chair, first, shortlist=4)
    evaluation.close_round(chair, first, shortlist=3)
    second = evaluation.current_round(tender)
    assert second.number == 2 and second.state is RoundState.SCORING
    top = [e.bid_id for e in sorted(first.entries, key=lambda e: e.rank)[:3]]
    assert [e.bid_id for e in second.entries] == top
    assert evaluation.final_round(tender) is None
    builder.score_round(tender, second)
    evaluation.close_round(chair, second)
    assert [e.bid_id for e in evaluation.final_ranking(tender)] and evaluation.final_round(tender) == second


def test_scoring_is_refused_once_the_round_is_closed(builder):
    tender = builder.ranked()
    round_ = evaluation.current_round(tender)
    member = evaluation.members(tender)[0]
    with pytest.raises(InvalidTransition):
        evaluation.save_sheet(member.judge, member, round_, tender.valid_bids[0],
                              values_for(tender), submit=True)


def test_committee_cannot_be_reformed_after_declarations(builder):
    tender = builder.opened()
    builder.committee(tender)
    member = evaluation.members(tender)[0]
    with clock.frozen(builder.after_deadline(tender)):
        evaluation.declare(member.judge, member, tender.submitted_bids[0], has_tie=False)
    with pytest.raises(DomainError, match="更换成员"):
        builder.committee(tender)


def test_failing_during_evaluation_is_allowed_with_a_reason(builder):
    tender = builder.evaluating()
    services.fail(builder.officer, tender, "采购需求发生重大变化")
    assert tender.state is TenderState.FAILED
