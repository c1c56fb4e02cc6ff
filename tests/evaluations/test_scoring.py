"""The evaluation's arithmetic and rules: scores typed and checked against their indicator,
sheets normalised to 100, the composite exact to the hundredth, grade bands at their edges,
finalisation blocked by a missing source (or re-weighted with a recorded reason), locked
indicator sets and scores, the self-assessment's review, and who may rate what."""
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from conftest import row_counts
from procurement.audit.models import AuditEntry
from procurement.contracts.rules import check_weights, grade_for
from procurement.contracts.states import EvaluationSource as Src, Grade
from procurement.core import clock
from procurement.core.calendar import SHANGHAI
from procurement.core.errors import DomainError
from procurement.evaluations import plan, scoring, sheets
from procurement.evaluations.models import PeriodResult
from procurement.evaluations.permissions import can_rate
from procurement.evaluations.states import SheetState
from procurement.extensions import db

BANDS = {Grade.EXCELLENT: Decimal(90), Grade.GOOD: Decimal(80), Grade.PASS: Decimal(60)}


def _after(period, days=1):
    day = period.end_date + timedelta(days=days)
    return clock.frozen(datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI))


def _rate(a, source, points, rater=None, narrative="本季度工作扎实。"):
    """Fill and submit a sheet giving each indicator `points` (a share of its max)."""
    period, community = a["quarter"], a["community"]
    rater = rater or {Src.SELF: a["agency"], Src.COMMITTEE: a["committee"],
                      Src.STREET_OFFICE: a["manager"], Src.UNIVERSITY: a["professor"]}[source]
    indicators = plan.indicator_set(period.agreement, source).indicators
    scores = {i.id: str((i.max_score * points).quantize(Decimal("0.1"))) for i in indicators}
    with _after(period):
        sheet = sheets.save(rater, period, community, source, scores=scores,
                            narrative=narrative, opinions="居民反映社工入户热情。")
        return sheets.submit(rater, sheet)


def test_weights_must_total_100_percent():
    with pytest.raises(DomainError, match="100%"):
        check_weights({Src.STREET_OFFICE: Decimal("0.3"), Src.COMMITTEE: Decimal("0.3")})
    check_weights({Src.STREET_OFFICE: Decimal("0.5"), Src.COMMITTEE: Decimal("0.5")})


@pytest.mark.parametrize("score, grade", [
    ("90", Grade.EXCELLENT), ("89.99", Grade.GOOD), ("80", Grade.GOOD), ("79.99", Grade.PASS),
    ("60", Grade.PASS), ("59.99", Grade.FAIL), ("0", Grade.FAIL), ("100", Grade.EXCELLENT)])
def test_grade_bands_at_their_edges(score, grade):
    assert grade_for(Decimal(score), BANDS) is grade


def test_composite_is_exact_to_the_hundredth():
    weights = {Src.STREET_OFFICE: Decimal("0.30"), Src.COMMITTEE: Decimal("0.20"),
               Src.UNIVERSITY: Decimal("0.30"), Src.RESIDENTS: Decimal("0.20")}
    scores = {Src.STREET_OFFICE: Decimal("86.50"), Src.COMMITTEE: Decimal("91.25"),
              Src.UNIVERSITY: Decimal("78.33"), Src.RESIDENTS: Decimal("88.89")}
    composite, lines = scoring.compose(weights, scores)
    # 25.95 + 18.25 + 23.499 + 17.778 = 85.477 → 85.48 (half up, once, at the end)
    assert composite == Decimal("85.48")
    assert sum(line.weighted for line in lines) == Decimal("85.477")
    assert scoring.compose({Src.SELF: Decimal(1)}, {Src.SELF: Decimal("84.445")})[0] == \
        Decimal("84.45")


def test_reweighting_keeps_the_total_at_100_percent():
    weights = {Src.STREET_OFFICE: Decimal("0.30"), Src.COMMITTEE: Decimal("0.20"),
               Src.UNIVERSITY: Decimal("0.30"), Src.RESIDENTS: Decimal("0.20")}
    scaled = scoring.reweighted(weights, {Src.STREET_OFFICE, Src.COMMITTEE, Src.UNIVERSITY})
    assert sum(scaled.values()) == 1 and Src.RESIDENTS not in scaled
    assert scaled[Src.COMMITTEE] == Decimal("0.2500")


def test_a_sheet_is_normalised_to_100(appraised):
    sheet = _rate(appraised, Src.STREET_OFFICE, Decimal("0.865"))
    # 30×.865=26.0 (rounded to 0.1 when typed), 25→21.6, 15→13.0, 15→13.0, 15→13.0
    assert sheet.total == Decimal("86.60") and sheet.state is SheetState.SUBMITTED


def test_scores_are_checked_against_their_indicator(appraised):
    a = appraised
    indicator = plan.indicator_set(a["agreement"], Src.STREET_OFFICE).indicators[0]
    counts = row_counts(AuditEntry)
    with _after(a["quarter"]):
        for bad, message in (("31", "0 至 30"), ("-1", "0 至 30"), ("8.25", "一位小数"),
                             ("八十", "数字"), ("NaN", "一位小数")):
            with pytest.raises(DomainError, match=message):
                sheets.save(a["manager"], a["quarter"], a["community"], Src.STREET_OFFICE,
                            scores={indicator.id: bad})
        sheet = sheets.save(a["manager"], a["quarter"], a["community"], Src.STREET_OFFICE,
                            scores={indicator.id: "２８.５"})  # full-width digits
    assert sheet.scores[0].score == Decimal("28.5")
    assert row_counts(AuditEntry)[0] == counts[0] + 1


def test_a_sheet_with_blank_indicators_cannot_be_submitted(appraised):
    a = appraised
    with _after(a["quarter"]):
        sheet = sheets.save(a["manager"], a["quarter"], a["community"], Src.STREET_OFFICE,
                            scores={}, narrative="意见")
        with pytest.raises(DomainError, match="尚未评分"):
            sheets.submit(a["manager"], sheet)


def test_indicator_sets_lock_at_the_first_submission(appraised):
    a = appraised
    specs = [plan.IndicatorSpec("服务数量", "完成情况", Decimal(100))]
    plan.update_indicators(a["manager"], a["agreement"], Src.STREET_OFFICE, specs)
    assert plan.indicator_set(a["agreement"], Src.STREET_OFFICE).max_total == 100
    _rate(a, Src.STREET_OFFICE, Decimal("0.9"))
    with pytest.raises(DomainError, match="锁定"):
        plan.update_indicators(a["manager"], a["agreement"], Src.STREET_OFFICE, specs)
    # Another source's set is still open.
    plan.update_indicators(a["manager"], a["agreement"], Src.COMMITTEE, specs)


def test_the_self_assessment_carries_the_quarters_completion_and_is_reviewed(appraised):
    a = appraised
    sheet = _rate(a, Src.SELF, Decimal("0.8"))
    assert sheet.completion["items"] and "overall" in sheet.completion
    assert sheet.late is False
    with _after(a["quarter"], 2):
        with pytest.raises(DomainError, match="写明意见"):
            sheets.return_for_revision(a["manager"], sheet, "")
        sheets.return_for_revision(a["manager"], sheet, "请补充活动照片。")
        assert sheet.state is SheetState.RETURNED and sheet.returns == 1
        with pytest.raises(DomainError):
            sheets.accept(a["manager"], sheet)  # a returned one is resubmitted first
        sheets.submit(a["agency"], sheet)
        sheets.accept(a["manager"], sheet)
    assert sheet.state is SheetState.ACCEPTED


def test_a_late_self_assessment_is_flagged(appraised):
    a = appraised
    period = a["quarter"]
    late_by = (period.self_due - period.end_date).days + 1
    indicators = plan.indicator_set(a["agreement"], Src.SELF).indicators
    with _after(period, late_by):
        sheet = sheets.save(a["agency"], period, a["community"], Src.SELF,
                            scores={i.id: "1" for i in indicators}, narrative="迟交的自评")
        assert sheets.submit(a["agency"], sheet).late is True


@pytest.mark.parametrize("source, who, allowed", [
    (Src.SELF, "agency", True), (Src.SELF, "other_agency", False),
    (Src.SELF, "manager", False),
    (Src.COMMITTEE, "committee", True), (Src.COMMITTEE, "other_committee", False),
    (Src.COMMITTEE, "agency", False),
    (Src.STREET_OFFICE, "manager", True), (Src.STREET_OFFICE, "leader", True),
    (Src.STREET_OFFICE, "committee", False),
    (Src.UNIVERSITY, "professor", True), (Src.UNIVERSITY, "manager", False),
    (Src.RESIDENTS, "manager", False)])
def test_each_source_is_rated_only_by_its_own_people(appraised, source, who, allowed):
    a = appraised
    assert can_rate(a[who], a["agreement"], a["community"], source) is allowed
    if not allowed:
        with _after(a["quarter"]), pytest.raises(DomainError):
            sheets.save(a[who], a["quarter"], a["community"], source, scores={})


def test_finalising_is_blocked_by_a_missing_source(appraised):
    a = appraised
    for source in (Src.STREET_OFFICE, Src.COMMITTEE, Src.UNIVERSITY):
        _rate(a, source, Decimal("0.9"))
    with _after(a["quarter"], 20), pytest.raises(DomainError, match="居民"):
        scoring.finalise(a["manager"], a["quarter"], a["community"])
    assert db.session.query(PeriodResult).count() == 0


def test_a_recorded_reweighting_finalises_with_the_sources_present(appraised):
    a = appraised
    for source, share in ((Src.STREET_OFFICE, "0.9"), (Src.COMMITTEE, "0.8"),
                          (Src.UNIVERSITY, "0.7")):
        _rate(a, source, Decimal(share))
    with _after(a["quarter"], 20):
        result = scoring.finalise(a["manager"], a["quarter"], a["community"],
                                  reweight_reason="台风影响，本季度未开展满意度调查。")
    weights = {line["source"]: Decimal(line["weight"]) for line in result.breakdown}
    assert sum(weights.values()) == 1 and "residents" not in weights
    expected = scoring.round_score(sum(Decimal(line["weight"]) * Decimal(line["score"])
                                       for line in result.breakdown))
    assert result.composite == expected and result.grade is grade_for(expected, BANDS)
    # Finalised: the scores are locked.
    with _after(a["quarter"], 21), pytest.raises(DomainError, match="锁定"):
        sheets.save(a["committee"], a["quarter"], a["community"], Src.COMMITTEE, scores={})


def test_only_the_street_office_finalises_and_only_after_the_period(appraised):
    a = appraised
    with _after(a["quarter"], 20), pytest.raises(DomainError, match="合同管理员"):
        scoring.finalise(a["agency"], a["quarter"], a["community"], reweight_reason="x")
    day = a["quarter"].end_date
    with clock.frozen(datetime(day.year, day.month, day.day, 12, tzinfo=SHANGHAI)), \
            pytest.raises(DomainError, match="尚未结束"):
        scoring.finalise(a["manager"], a["quarter"], a["community"], reweight_reason="x")


def test_the_years_grade_opens_the_renewal_once_every_quarter_is_final(appraised):
    from procurement.contracts import services as contract_services
    from procurement.evaluations.models import Survey, SurveyResponse
    from procurement.evaluations.states import PeriodKind
    a = appraised
    agreement = a["agreement"]
    assert [row.community_id for row in agreement.communities] == [a["community"].id]
    renewal = contract_services.draft_renewal(a["manager"], agreement)
    assert "尚未确定" in contract_services.renewal_block(renewal)
    quarters = [p for p in plan.periods(agreement) if p.kind is PeriodKind.QUARTER]
    for period in quarters:
        q = dict(a, quarter=period)
        for source in (Src.COMMITTEE, Src.STREET_OFFICE, Src.UNIVERSITY):
            _rate(q, source, Decimal("0.85"))
        with _after(period):
            survey = Survey(period_id=period.id, community_id=a["community"].id, size=5,
                            closes_at=clock.now(), created_by_id=a["manager"].id)
            db.session.add(survey)
            db.session.flush()
            db.session.add(SurveyResponse(survey_id=survey.id, answers={}, score=Decimal(85)))
        with _after(period, 20):
            scoring.finalise(a["manager"], period, a["community"])
        if period is not quarters[-1]:
            assert agreement.annual_grade is None
    assert agreement.annual_grade is Grade.GOOD
    assert contract_services.renewal_block(renewal) is None
