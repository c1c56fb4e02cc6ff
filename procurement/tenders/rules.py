"""The national rules for tenders as pure functions (RULES.md: Methods, Deadlines, Bids,
The evaluation committee, Scoring). Services call these; tests prove each one directly."""
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from procurement.core.calendar import (SHANGHAI, add_days, add_working_days, meets_min_days,
                                       working_days_between)
from procurement.core.errors import DomainError
from procurement.core.numbers import HUNDRED, format_percent
from procurement.tenders.states import CriterionKind, ScoreCombination, TenderMethod, TieBreak

CENT = Decimal("0.01")
# 87号令 47: at least 7 judges when the budget reaches 10,000,000 yuan.
LARGE_BUDGET_FEN = 10_000_000 * 100
MIN_BIDS = 3               # 87号令 41, 43, 44; 法 36
MIN_INVITED = 3            # 法 34
MIN_WITNESSES = 2          # 87号令 14
NOTICE_WORKING_DAYS = 5    # 87号令 16, 18
BID_PERIOD_DAYS = 20       # 法 35
CLARIFICATION_DAYS = 15    # 87号令 27
NOTICE_RUN_WORKING_DAYS = 1
CHALLENGE_WORKING_DAYS = 7
REPORT_WORKING_DAYS = 2
PICK_WORKING_DAYS = 5
ANSWER_WORKING_DAYS = 7
# Price weight for services (87号令 55; 磋商 24).
PRICE_WEIGHT_LIMITS = {
    TenderMethod.OPEN: (Decimal("0.10"), Decimal("1")),
    TenderMethod.INVITED: (Decimal("0.10"), Decimal("1")),
    TenderMethod.CONSULTATION: (Decimal("0.10"), Decimal("0.30")),
}


def round2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- money -------------------------------------------------------------------------------


def check_amounts(budget_fen: int, ceiling_fen: int | None, deposit_fen: int) -> None:
    if budget_fen <= 0:
        raise DomainError("预算金额必须大于零。", field="budget")
    if ceiling_fen is not None and not 0 < ceiling_fen <= budget_fen:
        raise DomainError("最高限价必须大于零且不得超过预算金额（87号令第十二条）。", field="ceiling")
    if deposit_fen < 0 or deposit_fen * 50 > budget_fen:
        raise DomainError("投标保证金不得超过预算金额的 2%（实施条例第三十三条）。", field="deposit")


def over_limit_reason(price_fen: int, budget_fen: int, ceiling_fen: int | None) -> str | None:
    """Why a price makes a bid invalid (87号令 63), or None."""
    if price_fen > budget_fen:
        return "投标报价超过采购预算，按无效投标处理（87号令第六十三条）。"
    if ceiling_fen is not None and price_fen > ceiling_fen:
        return "投标报价超过最高限价，按无效投标处理（87号令第六十三条）。"
    return None


# --- criteria ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionSpec:
    name: str
    kind: CriterionKind
    max_score: Decimal
    weight: Decimal


def check_criteria(criteria: Sequence[CriterionSpec], method: TenderMethod) -> None:
    """Weights sum to exactly 1, one price criterion, price weight within the method's limits."""
    if not criteria:
        raise DomainError("请至少设置一项评分因素。", field="criteria")
    names = [c.name for c in criteria]
    if len(set(names)) != len(names):
        raise DomainError("评分因素名称不能重复。", field="criteria")
    for c in criteria:
        if c.weight <= 0 or c.weight > 1:
            raise DomainError(f"“{c.name}”的权重必须大于 0 且不超过 100%。", field="criteria")
        if c.max_score <= 0:
            raise DomainError(f"“{c.name}”的满分必须大于零。", field="criteria")
    prices = [c for c in criteria if c.kind is CriterionKind.PRICE]
    if len(prices) != 1:
        raise DomainError("综合评分法必须有且只有一项价格分（87号令第五十五条）。", field="criteria")
    total = sum((c.weight for c in criteria), Decimal(0))
    if total != 1:
        raise DomainError(f"各评分因素权重之和必须等于 100%，现为 {format_percent(total)}。",
                          field="criteria")
    low, high = PRICE_WEIGHT_LIMITS[TenderMethod(method)]
    weight = prices[0].weight
    if not low <= weight <= high:
        rule = (f"在 {format_percent(low)} 至 {format_percent(high)} 之间（磋商办法第二十四条）" if high < 1
                else f"不低于 {format_percent(low)}（87号令第五十五条）")
        raise DomainError(f"服务项目的价格分权重应{rule}，现为 {format_percent(weight)}。",
                          field="criteria")


# --- deadlines ---------------------------------------------------------------------------


def local_date(dt: datetime) -> date:
    return dt.astimezone(SHANGHAI).date()


def check_schedule(issued: date, documents_until: date, deadline: datetime) -> None:
    """Deadlines counted from the day the documents are issued (87号令 85–86)."""
    if working_days_between(issued, documents_until) < NOTICE_WORKING_DAYS:
        raise DomainError(f"招标公告及招标文件提供期限不得少于 {NOTICE_WORKING_DAYS} 个工作日"
                          f"（自 {issued:%Y-%m-%d} 发布起算），请推迟“文件提供截止日”。",
                          field="documents_until")
    if not meets_min_days(issued, local_date(deadline), BID_PERIOD_DAYS):
        earliest = add_days(issued, BID_PERIOD_DAYS)
        raise DomainError(f"自招标文件发出之日起至投标截止不得少于 {BID_PERIOD_DAYS} 日"
                          f"（法第三十五条），最早可定于 {earliest:%Y-%m-%d}。",
                          field="bid_deadline")
    if documents_until > local_date(deadline):
        raise DomainError("文件提供截止日不能晚于投标截止日。", field="documents_until")


def clarified_deadline(issued: date, deadline: datetime) -> datetime:
    """The deadline after a clarification that affects bids: unchanged when at least 15 days
    remain, otherwise moved to the 15th day (the next working day if that is a holiday)."""
    if meets_min_days(issued, local_date(deadline), CLARIFICATION_DAYS):
        return deadline
    new_day = add_days(issued, CLARIFICATION_DAYS)
    local = deadline.astimezone(SHANGHAI)
    return datetime.combine(new_day, time(local.hour, local.minute), SHANGHAI).astimezone(
        deadline.tzinfo)


# --- committee ---------------------------------------------------------------------------


def min_committee_size(method: TenderMethod, budget_fen: int, large_impact: bool) -> int:
    if TenderMethod(method) is TenderMethod.CONSULTATION:
        return 3  # 磋商 14
    return 7 if budget_fen >= LARGE_BUDGET_FEN or large_impact else 5


def check_committee(size: int, experts: int, chair_is_expert: bool | None, minimum: int) -> None:
    """87号令 45, 47; 磋商 14."""
    if size < minimum:
        raise DomainError(f"评标委员会至少需要 {minimum} 人，现有 {size} 人。", field="judges")
    if size % 2 == 0:
        raise DomainError(f"评标委员会成员人数应为单数，现有 {size} 人。", field="judges")
    if experts * 3 < size * 2:
        raise DomainError(f"评审专家不得少于成员总数的三分之二，现有专家 {experts} 人、"
                          f"共 {size} 人。", field="judges")
    if chair_is_expert is None:
        raise DomainError("请指定评标委员会组长。", field="chair")
    if not chair_is_expert:
        raise DomainError("采购人代表不得担任评标委员会组长（87号令第四十五条）。", field="chair")


# --- scoring -----------------------------------------------------------------------------


def price_scores(prices: dict[int, int]) -> dict[int, Decimal]:
    """(lowest valid price / bid price) × 100 for each bid (87号令 55)."""
    if not prices:
        return {}
    base = min(prices.values())
    return {bid: round2(Decimal(base) / Decimal(price) * HUNDRED) for bid, price in prices.items()}


def weighted(value: Decimal, max_score: Decimal, weight: Decimal) -> Decimal:
    return Decimal(value) / Decimal(max_score) * HUNDRED * Decimal(weight)


def check_score(name: str, value: Decimal, max_score: Decimal) -> None:
    if value < 0 or value > max_score:
        raise DomainError(f"“{name}”的得分应在 0 至 {max_score.normalize():f} 之间。",
                          field="scores")
    if value != value.quantize(CENT):
        raise DomainError(f"“{name}”的得分最多保留两位小数。", field="scores")


def combine(totals: Sequence[Decimal], method: ScoreCombination) -> Decimal:
    """Combine the judges' totals for one bid (mean by default, a setting)."""
    values = sorted(totals)
    if not values:
        raise DomainError("该投标没有有效的评分。")
    if ScoreCombination(method) is ScoreCombination.TRIMMED_MEAN and len(values) >= 5:
        values = values[1:-1]
    return round2(sum(values, Decimal(0)) / len(values))


def low_price_bids(prices: dict[int, int], ratio: Decimal) -> set[int]:
    """Bids priced below `ratio` × the mean of the other valid bids (87号令 60; the ratio is
    a setting of each tender)."""
    flagged = set()
    for bid, price in prices.items():
        others = [p for b, p in prices.items() if b != bid]
        if others and Decimal(price) < Decimal(ratio) * Decimal(sum(others)) / len(others):
            flagged.add(bid)
    return flagged


@dataclass
class Standing:
    bid_id: int
    score: Decimal
    price_fen: int
    technical: Decimal
    rank: int = 0
    note: str | None = None


@dataclass
class RankingResult:
    standings: list[Standing]
    draws: list[str] = field(default_factory=list)


def rank(standings: Iterable[Standing], tie_break: TieBreak, seed: str) -> RankingResult:
    """Score descending, then price ascending, then the tender's tie-break rule, then a
    random draw recorded with its seed (87号令 57, 68)."""
    rng = random.Random(seed)
    tie_break = TieBreak(tie_break)

    def key(s: Standing):
        technical = -s.technical if tie_break is TieBreak.TECHNICAL else 0
        return (-s.score, s.price_fen, technical)

    ordered = sorted(standings, key=key)
    result: list[Standing] = []
    draws = []
    i = 0
    while i < len(ordered):
        group = [s for s in ordered[i:] if key(s) == key(ordered[i])]
        if len(group) > 1:
            rng.shuffle(group)
            names = "、".join(str(s.bid_id) for s in group)
            for s in group:
                s.note = "得分、报价及招标文件规定的排序规则均相同，随机抽取确定名次"
            draws.append(names)
        result.extend(group)
        i += len(group)
    for position, s in enumerate(result, start=1):
        s.rank = position
    return RankingResult(result, draws)


def working_deadline(start: date, working_days: int) -> date:
    return add_working_days(start, working_days)
