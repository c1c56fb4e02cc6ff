"""Rules of the contract side as pure functions (RULES.md "Purchase of services"; DOMAIN.md 3)."""
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from procurement.contracts.states import BudgetCategory, EvaluationSource, Grade
from procurement.core.calendar import add_months
from procurement.core.errors import DomainError
from procurement.core.money import format_fen

MAX_COOPERATION_YEARS = 3   # 102号令 24
SIGN_WITHIN_DAYS = 30       # 87号令 71
SIGN_WARNING_DAYS = 7
PUBLISH_WORKING_DAYS = 2    # 实施条例 50

DEFAULT_WEIGHTS = {EvaluationSource.STREET_OFFICE: Decimal("0.30"),
                   EvaluationSource.COMMITTEE: Decimal("0.20"),
                   EvaluationSource.UNIVERSITY: Decimal("0.30"),
                   EvaluationSource.RESIDENTS: Decimal("0.20")}
DEFAULT_BANDS = {Grade.EXCELLENT: Decimal(90), Grade.GOOD: Decimal(80), Grade.PASS: Decimal(60)}


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


class Quarter(NamedTuple):
    """A quarter of an annual agreement (服务季度): three months from its start, numbered
    1..4, the last one clipped to the agreement's end. Payments, targets and evaluations
    all count in these quarters."""
    number: int
    start: date
    end: date

    @property
    def label(self) -> str:
        return f"第{QUARTER_NAMES[self.number - 1]}季度"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


QUARTER_NAMES = ("一", "二", "三", "四")


def quarters(start: date, end: date) -> list[Quarter]:
    periods = []
    for index in range(4):
        first = add_months(start, 3 * index)
        if first > end:
            break
        last = min(add_months(start, 3 * (index + 1)) - timedelta(days=1), end)
        periods.append(Quarter(index + 1, first, last))
    return periods


def year_end(start: date, years: int = 1) -> date:
    """The last day of a term of `years` from `start` (2016-04-01 + 1 year → 2017-03-31)."""
    return add_years(start, years) - timedelta(days=1)


def check_cooperation_term(start: date, end: date, justification: str | None) -> None:
    if end <= start:
        raise DomainError("合作期的结束日期应晚于开始日期。", field="end_date")
    if end > year_end(start, MAX_COOPERATION_YEARS):
        raise DomainError(f"合作期最长 {MAX_COOPERATION_YEARS} 年（102号令第二十四条），"
                          f"应不晚于 {year_end(start, MAX_COOPERATION_YEARS):%Y-%m-%d}。",
                          field="end_date")
    if end > year_end(start) and not (justification or "").strip():
        raise DomainError("合作期超过 1 年的，须写明理由（服务稳定持续且资金有保障，102号令"
                          "第二十四条）。", field="justification")


def check_agreement_term(start: date, end: date, coop_start: date, coop_end: date) -> None:
    if end <= start:
        raise DomainError("协议的结束日期应晚于开始日期。", field="end_date")
    if end > year_end(start):
        raise DomainError(f"年度协议最长 1 年，应不晚于 {year_end(start):%Y-%m-%d}。",
                          field="end_date")
    if start < coop_start or end > coop_end:
        raise DomainError(f"年度协议应在合作期（{coop_start:%Y-%m-%d} 至 {coop_end:%Y-%m-%d}）"
                          "之内。", field="start_date")


def check_budget(community: str, amount_fen: int, lines: Mapping[BudgetCategory, int]) -> None:
    """A community's budget lines add up to its amount exactly, to the fen."""
    if amount_fen <= 0:
        raise DomainError(f"{community}的年度金额必须大于零。", field="amounts")
    if any(value < 0 for value in lines.values()):
        raise DomainError(f"{community}的预算科目金额不能为负数。", field="budget")
    total = sum(lines.values())
    if total != amount_fen:
        difference = amount_fen - total
        side = "少" if difference > 0 else "多"
        raise DomainError(f"{community}的预算科目合计 {format_fen(total)}，与年度金额 "
                          f"{format_fen(amount_fen)} 不符（{side} {format_fen(abs(difference))}），"
                          "须分毫不差。", field="budget")


def check_weights(weights: Mapping[EvaluationSource, Decimal]) -> None:
    if not weights:
        raise DomainError("请设置评估来源及权重。", field="weights")
    if any(w < 0 or w > 1 for w in weights.values()):
        raise DomainError("每项权重应在 0 至 100% 之间。", field="weights")
    total = sum(weights.values(), Decimal(0))
    if total != 1:
        raise DomainError(f"评估来源权重之和必须为 100%，现为 {(total * 100).normalize():f}%。",
                          field="weights")


def check_bands(bands: Mapping[Grade, Decimal]) -> None:
    excellent, good, passed = (bands.get(Grade.EXCELLENT), bands.get(Grade.GOOD),
                               bands.get(Grade.PASS))
    if None in (excellent, good, passed):
        raise DomainError("请设置优秀、良好、基本合格的分数线。", field="bands")
    if not 0 < passed < good < excellent <= 100:
        raise DomainError("分数线应满足 0 < 基本合格 < 良好 < 优秀 ≤ 100。", field="bands")


def grade_for(score: Decimal, bands: Mapping[Grade, Decimal]) -> Grade:
    for grade in (Grade.EXCELLENT, Grade.GOOD, Grade.PASS):
        if score >= bands[grade]:
            return grade
    return Grade.FAIL


def sign_due(notice_day: date) -> date:
    return notice_day + timedelta(days=SIGN_WITHIN_DAYS)
