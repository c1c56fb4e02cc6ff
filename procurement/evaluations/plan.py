"""The evaluation plan of an annual agreement: the sources and weights and the grade bands
(set on the agreement, contracts issue), one indicator set per source rated on a sheet,
and the periods (four quarters, plus the cooperation's mid-term and final evaluations).
An indicator set can change until its first sheet is submitted; then it is locked."""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import current_app

from procurement.accounts.roles import Role
from procurement.audit import record
from procurement.contracts.models import Agreement
from procurement.contracts.rules import quarters
from procurement.contracts.states import EvaluationSource as Src, Grade
from procurement.core.calendar import add_working_days
from procurement.core.errors import DomainError
from procurement.extensions import db
from procurement.evaluations.models import EvaluationPeriod, Indicator, IndicatorSet
from procurement.evaluations.states import SHEET_SOURCES, PeriodKind

MAX_INDICATORS = 40


@dataclass(frozen=True)
class IndicatorSpec:
    dimension: str
    name: str
    max_score: Decimal
    guidance: str = ""


def _specs(*rows) -> list[IndicatorSpec]:
    return [IndicatorSpec(d, n, Decimal(m), g) for d, n, m, g in rows]


# The Lingyuan indicator sets (DOMAIN.md 6), each out of 100.
DEFAULT_INDICATORS = {
    Src.STREET_OFFICE: _specs(
        ("服务数量", "服务清单任务完成情况", 30, "对照服务清单的季度完成率：完成率×30。"),
        ("服务质量", "服务规范与成效", 25, "服务流程规范、记录完整，居民问题得到解决。"),
        ("团队管理", "人员配备、考勤与培训", 15, "按协议配齐人员，在岗考勤和培训落实。"),
        ("资金管理", "经费使用规范", 15, "按预算科目使用经费，票据齐全。"),
        ("协作配合", "与街道、社区的沟通配合", 15, "按时参加联席会议，配合街道中心工作。")),
    Src.COMMITTEE: _specs(
        ("驻点服务", "社工在岗与驻点情况", 30, "社工按时驻点，居民找得到人。"),
        ("居民反映", "居民意见与投诉处理", 30, "居民反映的问题及时回应，无有效投诉。"),
        ("协作配合", "与居委会的协作", 20, "主动沟通，参与社区重点工作。"),
        ("社区融入", "熟悉社区、居民认可", 20, "熟悉网格居民情况，居民认可度高。")),
    Src.UNIVERSITY: _specs(
        ("专业方法", "个案、小组、社区工作方法的运用", 30, "方法选择恰当，过程规范。"),
        ("服务记录", "服务记录完整规范", 20, "抽查入户、个案和活动记录。"),
        ("需求评估", "需求调研与服务设计", 20, "有需求评估，服务设计回应需求。"),
        ("服务成效", "目标达成与服务成效", 30, "对照服务目标评估成效。")),
    Src.SELF: _specs(
        ("服务数量", "服务清单任务完成情况", 40, "系统按工作记录自动汇总本季度完成率。"),
        ("服务质量", "服务规范与居民反馈", 30, "服务流程、记录和居民反馈。"),
        ("内部管理", "团队建设、督导与培训", 30, "人员稳定，督导和培训按计划开展。")),
}


def weights_of(agreement: Agreement) -> dict[Src, Decimal]:
    return {Src(k): Decimal(str(v)) for k, v in (agreement.evaluation_weights or {}).items()}


def bands_of(agreement: Agreement) -> dict[Grade, Decimal]:
    return {Grade(k): Decimal(str(v)) for k, v in (agreement.grade_bands or {}).items()}


def required_sources(agreement: Agreement) -> list[Src]:
    """The sources with a weight: each must be present before a period is finalised."""
    return [s for s, w in weights_of(agreement).items() if w > 0]


# --- indicator sets -------------------------------------------------------------------


def indicator_set(agreement: Agreement, source: Src) -> IndicatorSet:
    """The agreement's set for a source, created from the defaults the first time."""
    found = db.session.scalar(sa.select(IndicatorSet).where(
        IndicatorSet.agreement_id == agreement.id, IndicatorSet.source == source))
    if found is None:
        found = IndicatorSet(agreement_id=agreement.id, agreement=agreement, source=source)
        found.indicators = [Indicator(position=n, dimension=s.dimension, name=s.name,
                                      max_score=s.max_score, guidance=s.guidance)
                            for n, s in enumerate(DEFAULT_INDICATORS[source])]
        db.session.add(found)
        db.session.flush()
    return found


def _score(text, label: str) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        raise DomainError(f"{label}的满分应为数字。", field="indicators") from None
    if not value.is_finite() or value <= 0 or value > 100 or value != value.quantize(Decimal("0.1")):
        raise DomainError(f"{label}的满分应在 0.1 至 100 之间，最多一位小数。", field="indicators")
    return value


def update_indicators(actor, agreement: Agreement, source: Src,
                      specs: list[IndicatorSpec]) -> IndicatorSet:
    """Replace a source's indicators; refused once a sheet was submitted against them."""
    if not (actor.has_role(Role.CONTRACT_MANAGER)
            and actor.org_id == agreement.cooperation.street_office_id):
        raise DomainError("只有本街道的合同管理员可以设置评估指标。")
    if source not in SHEET_SOURCES:
        raise DomainError("居民满意度按问卷计分，没有评分指标。")
    current = indicator_set(agreement, source)
    if current.locked_at is not None:
        raise DomainError("该来源已有评分表提交，指标已锁定，不能再修改。")
    if not specs:
        raise DomainError("请至少设置一项指标。", field="indicators")
    if len(specs) > MAX_INDICATORS:
        raise DomainError(f"指标最多 {MAX_INDICATORS} 项。", field="indicators")
    rows = []
    for n, spec in enumerate(specs, start=1):
        dimension, name = (spec.dimension or "").strip(), (spec.name or "").strip()
        if not dimension or not name:
            raise DomainError(f"第 {n} 项指标须填写维度和名称。", field="indicators")
        rows.append(Indicator(position=n - 1, dimension=dimension[:40], name=name[:200],
                              max_score=_score(spec.max_score, f"第 {n} 项指标"),
                              guidance=(spec.guidance or "").strip()))
    before = [_jsonable(i) for i in current.indicators]
    current.indicators = rows
    db.session.flush()
    record(actor, "evaluation.indicators", current, {"indicators": before},
           {"indicators": [_jsonable(i) for i in rows]},
           label=f"{agreement.number} {source.label}评估指标")
    return current


def _jsonable(indicator: Indicator) -> dict:
    return {"dimension": indicator.dimension, "name": indicator.name,
            "max_score": str(indicator.max_score)}


def lock(indicators: IndicatorSet, when) -> None:
    if indicators.locked_at is None:
        indicators.locked_at = when


# --- periods ---------------------------------------------------------------------------


def prepare(agreement: Agreement) -> None:
    """When an agreement comes in force: its quarters and each sheet source's indicator set,
    so pages never create them on a read."""
    periods(agreement)
    for source in SHEET_SOURCES:
        indicator_set(agreement, source)


def self_due(end: date) -> date:
    return add_working_days(end, current_app.config["SELF_ASSESSMENT_DUE_WORKING_DAYS"])


def periods(agreement: Agreement) -> list[EvaluationPeriod]:
    """The agreement's periods; its four quarters are created the first time they are asked
    for (they follow from the agreement's dates)."""
    found = list(db.session.scalars(sa.select(EvaluationPeriod).where(
        EvaluationPeriod.agreement_id == agreement.id)))
    have = {p.number for p in found if p.kind is PeriodKind.QUARTER}
    for quarter in quarters(agreement.start_date, agreement.end_date):
        if quarter.number not in have:
            period = EvaluationPeriod(agreement_id=agreement.id, agreement=agreement,
                                      kind=PeriodKind.QUARTER, number=quarter.number,
                                      start_date=quarter.start, end_date=quarter.end,
                                      self_due=self_due(quarter.end))
            db.session.add(period)
            found.append(period)
    db.session.flush()
    order = {PeriodKind.QUARTER: 0, PeriodKind.MIDTERM: 1, PeriodKind.FINAL: 2}
    return sorted(found, key=lambda p: (order[p.kind], p.number))


def add_review(actor, agreement: Agreement, kind: PeriodKind, start: date,
               end: date) -> EvaluationPeriod:
    """The cooperation's mid-term or final evaluation, held within one annual agreement."""
    if not (actor.has_role(Role.CONTRACT_MANAGER)
            and actor.org_id == agreement.cooperation.street_office_id):
        raise DomainError("只有本街道的合同管理员可以安排期中、期末评估。")
    kind = PeriodKind(kind)
    if kind is PeriodKind.QUARTER:
        raise DomainError("季度评估按协议季度自动生成。", field="kind")
    if not agreement.start_date <= start <= end <= agreement.end_date:
        raise DomainError("评估期间应在本年度协议期限之内。", field="start_date")
    others = db.session.scalars(sa.select(EvaluationPeriod).join(Agreement).where(
        Agreement.cooperation_id == agreement.cooperation_id, EvaluationPeriod.kind == kind))
    if any(True for _ in others):
        raise DomainError(f"本合作期已安排{kind.label}。", field="kind")
    period = EvaluationPeriod(agreement_id=agreement.id, agreement=agreement, kind=kind,
                              number=1, start_date=start, end_date=end, self_due=self_due(end))
    db.session.add(period)
    db.session.flush()
    record(actor, "evaluation.add_review", period, None,
           {"kind": kind.value, "start": start, "end": end}, label=f"{agreement.number} {kind.label}")
    return period
