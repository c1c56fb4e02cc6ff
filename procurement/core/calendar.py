"""Dates, time zones, quarters and working days.

Timestamps are stored in UTC and shown in Asia/Shanghai. Working days follow the
State Council's holiday arrangement including make-up working days (调休), taken
from, in order of precedence:

1. ``holidays.json`` next to this module (a year listed there overrides the package,
   so a published or corrected arrangement can be added without a code change);
2. the ``chinese_calendar`` package (2004–2026 in v1.11.0);
3. an estimate: weekends plus the fixed-date statutory holidays. ``is_estimated``
   tells the UI to say so.

Day counting follows the period rules at the end of 《政府采购货物和服务招标投标管理办法》
(财政部令第87号; same principle as 民法典 第201–203条): the first day is not counted,
a period whose last day is a holiday or rest day ends on the next working day, and
"以上/以内" include the number itself.

Day functions take ``date`` only. A ``datetime`` is refused because its calendar day
depends on the time zone; convert with ``to_local(dt).date()`` first.
"""
from __future__ import annotations

import json
import calendar as calendar_module
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")

HOLIDAYS_FILE = Path(__file__).with_name("holidays.json")

# Statutory holidays on fixed Gregorian dates (全国年节及纪念日放假办法, as amended
# with effect from 2025: Labour Day is May 1–2). Lunar holidays cannot be estimated
# without a lunar calendar, so the estimate is knowingly optimistic.
_FIXED_HOLIDAYS = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))

# No real holiday break comes close; a longer search means broken data.
_MAX_SEARCH_DAYS = 366

_QUARTER_NAMES = ("一", "二", "三", "四")


# --- time zones --------------------------------------------------------------


def now_utc() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def to_local(dt: datetime) -> datetime:
    """Convert to aware Asia/Shanghai time. A naive ``dt`` is taken to be UTC (as stored)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(SHANGHAI)


def local_today() -> date:
    """Today's date in Asia/Shanghai (differs from the UTC date before 08:00 local)."""
    return now_utc().astimezone(SHANGHAI).date()


def local_to_utc(local_dt: datetime) -> datetime:
    """Interpret a naive datetime (e.g. from a form) as Asia/Shanghai and return aware UTC.

    An aware datetime is simply converted: its zone already says what it means.
    """
    if local_dt.tzinfo is None:
        local_dt = local_dt.replace(tzinfo=SHANGHAI)
    return local_dt.astimezone(UTC)


# --- quarters ------------------------------------------------------------------


def _check_date(d: date, name: str = "d") -> None:
    # datetime is a subclass of date; its day depends on the zone, so refuse it.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"{name} must be a date, got {type(d).__name__}")


def _check_quarter(q: int) -> None:
    if q not in (1, 2, 3, 4):
        raise ValueError(f"quarter must be 1..4, got {q!r}")


def quarter_of(d: date) -> tuple[int, int]:
    """``(year, quarter)`` with quarter 1..4."""
    _check_date(d)
    return d.year, (d.month - 1) // 3 + 1


def quarter_range(year: int, q: int) -> tuple[date, date]:
    """First and last day of the quarter, both inclusive."""
    _check_quarter(q)
    first = date(year, 3 * q - 2, 1)
    next_first = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return first, next_first - timedelta(days=1)


def quarter_label(year: int, q: int) -> str:
    """``quarter_label(2016, 1)`` → ``2016年第一季度``."""
    _check_quarter(q)
    return f"{year}年第{_QUARTER_NAMES[q - 1]}季度"


def quarters_between(start: date, end: date) -> list[tuple[int, int]]:
    """Every quarter touched by ``start..end`` (both inclusive), in order.

    Empty when ``end`` is before ``start``.
    """
    _check_date(start, "start")
    _check_date(end, "end")
    if end < start:
        return []
    year, q = quarter_of(start)
    last = quarter_of(end)
    result = [(year, q)]
    while (year, q) != last:
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
        result.append((year, q))
    return result


# --- holiday data --------------------------------------------------------------


@lru_cache(maxsize=8)
def _load_holiday_file(path: Path) -> dict[int, tuple[frozenset[date], frozenset[date]]]:
    """``{year: (holidays, workdays)}`` from the JSON file, validated."""
    if not path.exists():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    years: dict[int, tuple[frozenset[date], frozenset[date]]] = {}
    for year_text, entry in raw.get("years", {}).items():
        year = int(year_text)
        holidays = frozenset(date.fromisoformat(s) for s in entry.get("holidays", []))
        workdays = frozenset(date.fromisoformat(s) for s in entry.get("workdays", []))
        # Fail loudly at load time: a typo here would silently move deadlines.
        stray = sorted(d for d in holidays | workdays if d.year != year)
        if stray:
            raise ValueError(f"{path}: {year} lists dates of another year: {stray}")
        both = sorted(holidays & workdays)
        if both:
            raise ValueError(f"{path}: {year} lists dates as holiday and workday: {both}")
        years[year] = (holidays, workdays)
    return years


def _file_year(year: int) -> tuple[frozenset[date], frozenset[date]] | None:
    return _load_holiday_file(HOLIDAYS_FILE).get(year)


@lru_cache(maxsize=64)
def _package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def is_estimated(d: date) -> bool:
    """True when no official arrangement is known for ``d``'s year (working days are a guess)."""
    _check_date(d)
    return _file_year(d.year) is None and not _package_covers(d.year)


def is_working_day(d: date) -> bool:
    """Whether ``d`` is an official working day, make-up working days (调休) included."""
    _check_date(d)
    listed = _file_year(d.year)
    if listed is not None:
        holidays, workdays = listed
        if d in workdays:
            return True
        return d.weekday() < 5 and d not in holidays
    if _package_covers(d.year):
        return chinese_calendar.is_workday(d)
    return d.weekday() < 5 and (d.month, d.day) not in _FIXED_HOLIDAYS


def next_working_day(d: date) -> date:
    """``d`` itself if it is a working day, otherwise the first working day after it."""
    _check_date(d)
    candidate = d
    for _ in range(_MAX_SEARCH_DAYS):
        if is_working_day(candidate):
            return candidate
        candidate += timedelta(days=1)
    raise RuntimeError(
        f"no working day within {_MAX_SEARCH_DAYS} days after {d}; check holidays.json"
    )


# --- day counting (87号令 period rules) ----------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day (01-31 + 1 month → 02-28/29)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar_module.monthrange(year, month)[1]))


def add_days(start: date, days: int) -> date:
    """End of a period of ``days`` calendar days from ``start``.

    The start day is not counted (``start + days``); if that falls on a holiday or
    rest day the period ends on the next working day.
    """
    _check_date(start, "start")
    if days < 0:
        raise ValueError("days must not be negative")
    return next_working_day(start + timedelta(days=days))


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself is not counted).

    ``n == 0`` returns ``next_working_day(start)``: a zero-length period ends on
    ``start`` but, like any deadline, moves off a rest day, matching
    ``add_days(start, 0)``. For ``n >= 1``, ``working_days_between(start, result) == n``.
    """
    _check_date(start, "start")
    if n < 0:
        raise ValueError("n must not be negative")
    if n == 0:
        return next_working_day(start)
    current = start
    remaining = n
    while remaining:
        current = next_working_day(current + timedelta(days=1))
        remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days in ``(start, end]``: start excluded, end included; 0 if ``end <= start``."""
    _check_date(start, "start")
    _check_date(end, "end")
    count = 0
    current = start + timedelta(days=1)
    while current <= end:
        if is_working_day(current):
            count += 1
        current += timedelta(days=1)
    return count


def days_between(start: date, end: date) -> int:
    """Calendar days from ``start`` to ``end``, first day not counted (``end - start``).

    Negative when ``end`` is before ``start``.
    """
    _check_date(start, "start")
    _check_date(end, "end")
    return (end - start).days


def meets_min_days(start: date, end: date, days: int) -> bool:
    """Whether ``start → end`` satisfies "not less than ``days`` days" (不得少于/以上 include the number).

    The period's last day moves off holidays (87号令), so ``end`` must be on or
    after ``add_days(start, days)``, not just ``days`` calendar days later: a 20-day
    period whose 20th day is 1 October cannot end before the first working day after
    the National Day break.
    """
    return end >= add_days(start, days)


def meets_min_working_days(start: date, end: date, n: int) -> bool:
    """Whether ``(start, end]`` contains at least ``n`` working days (inclusive)."""
    if n < 0:
        raise ValueError("n must not be negative")
    return working_days_between(start, end) >= n
