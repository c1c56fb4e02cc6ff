"""The composite score (综合得分): each source's score normalised to 100, weighted by the
contract's weights and added, exact to the hundredth (ROUND_HALF_UP once, at the end). A
community's period is finalised only when every weighted source is present, unless the
street office records why it re-weights the sources present; finalising locks the scores
and gives the grade. When every quarter of the agreement is finalised for every community,
the year's grade (the mean of its composites) goes on the agreement: the renewal gate."""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from procurement.audit import record
from procurement.contracts.models import Agreement
from procurement.contracts.rules import grade_for
from procurement.contracts.states import EvaluationSource as Src, Grade
from procurement.core import clock
from procurement.core.errors import DomainError
from procurement.core.numbers import HUNDRED
from procurement.core.states import lock_for_update
from procurement.evaluations import plan
from procurement.evaluations.models import (EvaluationPeriod, EvaluationSheet, PeriodResult,
                                            Survey, SurveyResponse)
from procurement.evaluations.permissions import can_manage
from procurement.evaluations.states import PeriodKind, SheetState
from procurement.extensions import db

CENT = Decimal("0.01")
WEIGHT = Decimal("0.0001")


def round_score(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def normalise(points: Decimal, max_total: Decimal) -> Decimal:
    """A sheet's points on a 100-point scale."""
    return round_score(points * HUNDRED / max_total)


@dataclass(frozen=True)
class Line:
    source: Src
    weight: Decimal
    score: Decimal | None

    @property
    def weighted(self) -> Decimal | None:
        return None if self.score is None else self.weight * self.score


def source_scores(period: EvaluationPeriod, community) -> dict[Src, Decimal | None]:
    """Each source's score for the period: a submitted sheet (the self-assessment once
    accepted), and the mean of the survey's answers for the residents."""
    scores: dict[Src, Decimal | None] = {s: None for s in Src}
    for sheet in db.session.scalars(sa.select(EvaluationSheet).where(
            EvaluationSheet.period_id == period.id,
            EvaluationSheet.community_id == community.id)):
        counted = (sheet.state is SheetState.ACCEPTED if sheet.source is Src.SELF
                   else sheet.state in (SheetState.SUBMITTED, SheetState.ACCEPTED))
        if counted:
            scores[sheet.source] = sheet.total
    scores[Src.RESIDENTS] = survey_score(period, community)
    return scores


def survey_score(period: EvaluationPeriod, community) -> Decimal | None:
    row = db.session.execute(
        sa.select(sa.func.count(SurveyResponse.id), sa.func.sum(SurveyResponse.score))
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(Survey.period_id == period.id, Survey.community_id == community.id)).one()
    if not row[0]:
        return None
    return round_score(Decimal(row[1]) / row[0])


def compose(weights: dict[Src, Decimal], scores: dict[Src, Decimal | None]) -> tuple[
        Decimal, list[Line]]:
    """The composite of the weighted sources (all must have a score)."""
    lines = [Line(s, w, scores.get(s)) for s, w in weights.items() if w > 0]
    missing = [line.source for line in lines if line.score is None]
    if missing:
        raise DomainError("缺少以下来源的评分：" + "、".join(s.label for s in missing) + "。")
    return round_score(sum((line.weighted for line in lines), Decimal(0))), lines


def reweighted(weights: dict[Src, Decimal], present: set[Src]) -> dict[Src, Decimal]:
    """The weights of the sources present, scaled to total 100% (to 0.01%; the largest takes
    the rounding so they add up exactly)."""
    kept = {s: w for s, w in weights.items() if w > 0 and s in present}
    total = sum(kept.values(), Decimal(0))
    if not kept or total == 0:
        raise DomainError("没有任何来源的评分，无法重新分配权重。")
    scaled = {s: (w / total).quantize(WEIGHT, rounding=ROUND_HALF_UP) for s, w in kept.items()}
    largest = max(scaled, key=lambda s: (scaled[s], s.value))
    scaled[largest] += Decimal(1) - sum(scaled.values(), Decimal(0))
    return scaled


def result_of(period: EvaluationPeriod, community) -> PeriodResult | None:
    return db.session.scalar(sa.select(PeriodResult).where(
        PeriodResult.period_id == period.id, PeriodResult.community_id == community.id))


def is_final(period: EvaluationPeriod, community) -> bool:
    return result_of(period, community) is not None


def finalise(actor, period: EvaluationPeriod, community,
             reweight_reason: str | None = None) -> PeriodResult:
    agreement = period.agreement
    if not can_manage(actor, agreement):
        raise DomainError("只有本街道的合同管理员或领导可以确定评估结果。")
    if not any(row.community_id == community.id for row in agreement.communities):
        raise DomainError("该社区不在本协议的服务范围内。")
    if clock.today() <= period.end_date:
        raise DomainError("评估期间尚未结束，不能确定结果。")
    # Finalisations of the period take turns (the second sees the first's result), and so
    # do the survey's answers: none is counted after the score was locked without it.
    lock_for_update(period)
    survey = db.session.scalar(sa.select(Survey).where(Survey.period_id == period.id,
                                                       Survey.community_id == community.id))
    if survey is not None:
        lock_for_update(survey)
    if is_final(period, community):
        raise DomainError("该期评估结果已确定，分数已锁定。")
    weights = plan.weights_of(agreement)
    scores = source_scores(period, community)
    reason = (reweight_reason or "").strip()
    missing = [s for s, w in weights.items() if w > 0 and scores.get(s) is None]
    if missing and not reason:
        raise DomainError("缺少以下来源的评分：" + "、".join(s.label for s in missing)
                          + "。请等待评分完成，或写明理由按现有来源重新分配权重。",
                          field="reweight_reason")
    if missing:
        weights = reweighted(weights, {s for s, v in scores.items() if v is not None})
    composite, lines = compose(weights, scores)
    grade = grade_for(composite, plan.bands_of(agreement))
    result = PeriodResult(
        period_id=period.id, community_id=community.id, composite=composite, grade=grade,
        breakdown=[{"source": line.source.value, "weight": str(line.weight),
                    "score": str(line.score), "weighted": str(round_score(line.weighted))}
                   for line in lines],
        reweight_reason=reason or None, finalised_by_id=actor.id, finalised_at=clock.now())
    db.session.add(result)
    db.session.flush()
    record(actor, "evaluation.finalise", result, None,
           {"composite": composite, "grade": grade.value, "breakdown": result.breakdown,
            "reweight_reason": result.reweight_reason},
           label=f"{agreement.number} {community.name} {period.label}")
    _settle_year(actor, agreement)
    return result


def year_composite(agreement: Agreement) -> Decimal | None:
    """The mean of every quarter's composite, once all are finalised for all communities."""
    quarters = [p for p in plan.periods(agreement) if p.kind is PeriodKind.QUARTER]
    results = db.session.scalars(sa.select(PeriodResult).where(
        PeriodResult.period_id.in_([p.id for p in quarters]))).all()
    if not quarters or len(results) < len(quarters) * len(agreement.communities):
        return None
    return round_score(sum((r.composite for r in results), Decimal(0)) / len(results))


def _settle_year(actor, agreement: Agreement) -> None:
    composite = year_composite(agreement)
    if composite is None or agreement.annual_grade is not None:
        return
    grade: Grade = grade_for(composite, plan.bands_of(agreement))
    agreement.annual_grade = grade
    db.session.flush()
    record(actor, "agreement.annual_grade", agreement, {"annual_grade": None},
           {"annual_grade": grade.value, "composite": composite})
