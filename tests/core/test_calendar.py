"""Time zones, quarters, official working days and deadline counting.

Holiday facts used below are the State Council's published arrangements:
2016 Spring Festival: 7–13 Feb off, Sat 6 Feb and Sun 14 Feb are make-up working days.
2025 National Day + Mid-Autumn: 1–8 Oct off, Sun 28 Sep and Sat 11 Oct are working days.
2026 New Year: 1–3 Jan off, Sun 4 Jan is a working day.
"""
import json
import random
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from procurement.core import calendar as cal
from procurement.core.calendar import (
    add_days,
    add_working_days,
    days_between,
    is_estimated,
    is_working_day,
    local_to_utc,
    local_today,
    meets_min_days,
    meets_min_working_days,
    next_working_day,
    now_utc,
    quarter_label,
    quarter_of,
    quarter_range,
    quarters_between,
    to_local,
    working_days_between,
)

d = date.fromisoformat


@pytest.fixture
def holiday_file(tmp_path, monkeypatch):
    """Point the module at a temporary holidays.json; returns a writer.

    Also pins the package's coverage to 2004–2026 (chinesecalendar 1.11.0), so the
    estimate tests keep testing the fallback after an upgrade that adds 2027.
    """
    path = tmp_path / "holidays.json"
    monkeypatch.setattr(cal, "HOLIDAYS_FILE", path)
    monkeypatch.setattr(cal, "_package_covers", lambda year: 2004 <= year <= 2026)

    def write(years: dict) -> None:
        path.write_text(json.dumps({"source": "test", "years": years}), encoding="utf-8")

    return write


# --- time zones ---------------------------------------------------------------


def test_now_utc_is_timezone_aware_utc():
    now = now_utc()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
    assert abs(now - datetime.now(timezone.utc)) < timedelta(seconds=5)


def test_naive_datetime_is_taken_as_utc_when_shown_locally():
    local = to_local(datetime(2025, 12, 31, 20, 0))
    assert local == datetime(2026, 1, 1, 4, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert local.replace(tzinfo=None) == datetime(2026, 1, 1, 4, 0)
    assert local.tzinfo == ZoneInfo("Asia/Shanghai")


def test_aware_datetime_is_converted_to_shanghai_time():
    tokyo = datetime(2025, 10, 1, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert to_local(tokyo).replace(tzinfo=None) == datetime(2025, 10, 1, 8, 0)


def test_local_form_input_is_stored_as_utc():
    utc = local_to_utc(datetime(2026, 1, 1, 0, 30))
    assert utc == datetime(2025, 12, 31, 16, 30, tzinfo=timezone.utc)
    assert utc.utcoffset() == timedelta(0)


def test_aware_input_to_local_to_utc_keeps_its_instant():
    aware = datetime(2025, 10, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert local_to_utc(aware) == datetime(2025, 10, 1, 1, 0, tzinfo=timezone.utc)


def test_local_round_trip_preserves_the_instant():
    stored = datetime(2016, 2, 7, 15, 59, tzinfo=timezone.utc)
    assert local_to_utc(to_local(stored).replace(tzinfo=None)) == stored


@pytest.mark.parametrize(
    ("utc_now", "expected"),
    [
        (datetime(2025, 12, 31, 15, 59, tzinfo=timezone.utc), date(2025, 12, 31)),
        (datetime(2025, 12, 31, 16, 0, tzinfo=timezone.utc), date(2026, 1, 1)),
    ],
)
def test_local_today_switches_at_midnight_shanghai_not_utc(monkeypatch, utc_now, expected):
    monkeypatch.setattr(cal, "now_utc", lambda: utc_now)
    assert local_today() == expected


# --- quarters -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2016-01-01", (2016, 1)),
        ("2016-03-31", (2016, 1)),
        ("2016-04-01", (2016, 2)),
        ("2016-06-30", (2016, 2)),
        ("2016-07-01", (2016, 3)),
        ("2016-09-30", (2016, 3)),
        ("2016-10-01", (2016, 4)),
        ("2025-12-31", (2025, 4)),
    ],
)
def test_quarter_of_maps_months_to_quarters(day, expected):
    assert quarter_of(d(day)) == expected


@pytest.mark.parametrize(
    ("year", "q", "first", "last"),
    [
        (2016, 1, "2016-01-01", "2016-03-31"),
        (2016, 2, "2016-04-01", "2016-06-30"),
        (2016, 3, "2016-07-01", "2016-09-30"),
        (2016, 4, "2016-10-01", "2016-12-31"),
    ],
)
def test_quarter_range_is_inclusive_first_and_last_day(year, q, first, last):
    assert quarter_range(year, q) == (d(first), d(last))


def test_quarter_ranges_tile_the_year_without_gaps():
    ranges = [quarter_range(2016, q) for q in range(1, 5)]
    days = sum((last - first).days + 1 for first, last in ranges)
    assert days == 366  # 2016 is a leap year
    for q in range(1, 4):
        assert quarter_range(2016, q)[1] + timedelta(days=1) == quarter_range(2016, q + 1)[0]


@pytest.mark.parametrize(
    ("year", "q", "label"),
    [
        (2016, 1, "2016年第一季度"),
        (2016, 2, "2016年第二季度"),
        (2025, 3, "2025年第三季度"),
        (2026, 4, "2026年第四季度"),
    ],
)
def test_quarter_label_is_written_in_chinese(year, q, label):
    assert quarter_label(year, q) == label


@pytest.mark.parametrize("q", [0, 5, -1])
def test_invalid_quarter_is_refused(q):
    with pytest.raises(ValueError):
        quarter_range(2016, q)
    with pytest.raises(ValueError):
        quarter_label(2016, q)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2016-02-01", "2016-03-31", [(2016, 1)]),
        ("2016-03-31", "2016-04-01", [(2016, 1), (2016, 2)]),
        ("2025-11-15", "2026-05-01", [(2025, 4), (2026, 1), (2026, 2)]),
        ("2016-01-01", "2016-12-31", [(2016, 1), (2016, 2), (2016, 3), (2016, 4)]),
        ("2025-05-01", "2025-04-30", []),
    ],
)
def test_quarters_between_lists_every_quarter_touched(start, end, expected):
    assert quarters_between(d(start), d(end)) == expected


# --- working days ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # 2025 National Day: eight days off, two weekend make-up days.
        ("2025-09-27", False),  # Saturday
        ("2025-09-28", True),  # Sunday, make-up working day
        ("2025-09-30", True),
        ("2025-10-01", False),
        ("2025-10-06", False),  # Monday inside the break
        ("2025-10-08", False),  # Wednesday inside the break
        ("2025-10-09", True),
        ("2025-10-11", True),  # Saturday, make-up working day
        ("2025-10-12", False),  # ordinary Sunday
        # 2016 Spring Festival.
        ("2016-02-05", True),
        ("2016-02-06", True),  # Saturday, make-up working day
        ("2016-02-08", False),  # Monday, 初一
        ("2016-02-12", False),  # Friday inside the break
        ("2016-02-14", True),  # Sunday, make-up working day
        # 2026 New Year.
        ("2026-01-01", False),
        ("2026-01-02", False),  # Friday off
        ("2026-01-04", True),  # Sunday, make-up working day
        ("2026-01-05", True),
    ],
)
def test_working_days_follow_the_official_arrangement(day, working):
    assert is_working_day(d(day)) is working


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2025-10-01", "2025-10-09"),
        ("2025-10-08", "2025-10-09"),
        ("2025-09-28", "2025-09-28"),  # make-up Sunday is itself a working day
        ("2025-10-10", "2025-10-10"),
        ("2025-10-12", "2025-10-13"),
        ("2016-02-07", "2016-02-14"),  # the next working day is a Sunday
        ("2025-12-31", "2025-12-31"),
        ("2026-01-01", "2026-01-04"),
    ],
)
def test_next_working_day_skips_holidays_and_weekends(day, expected):
    assert next_working_day(d(day)) == d(expected)


def test_datetime_is_refused_because_its_day_depends_on_the_time_zone():
    with pytest.raises(TypeError):
        is_working_day(datetime(2025, 10, 1, 12, 0))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        add_days(datetime(2025, 10, 1), 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        quarter_of("2025-10-01")  # type: ignore[arg-type]


# --- day counting --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        ("2025-11-05", 20, "2025-11-25"),  # Tuesday: no move
        ("2025-11-05", 10, "2025-11-17"),  # Sat 15 Nov → Monday
        ("2025-09-21", 10, "2025-10-09"),  # 1 Oct → after the National Day break
        ("2025-09-18", 10, "2025-09-28"),  # lands on the make-up Sunday: stays
        ("2016-01-28", 10, "2016-02-14"),  # 7 Feb (除夕) → make-up Sunday 14 Feb
        ("2025-12-22", 10, "2026-01-04"),  # across the year into the New Year break
    ],
)
def test_deadline_on_holiday_moves_to_next_working_day(start, days, expected):
    assert add_days(d(start), days) == d(expected)


def test_add_days_does_not_count_the_first_day():
    # 2025-11-03 (Mon) + 1 = Tue 4 Nov, not Mon itself.
    assert add_days(d("2025-11-03"), 1) == d("2025-11-04")


def test_add_zero_days_still_moves_off_a_holiday():
    assert add_days(d("2025-10-03"), 0) == d("2025-10-09")
    assert add_days(d("2025-10-09"), 0) == d("2025-10-09")


def test_negative_periods_are_refused():
    with pytest.raises(ValueError):
        add_days(d("2025-10-09"), -1)
    with pytest.raises(ValueError):
        add_working_days(d("2025-10-09"), -1)
    with pytest.raises(ValueError):
        meets_min_working_days(d("2025-10-09"), d("2025-10-10"), -1)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2025-09-26", 1, "2025-09-28"),  # Fri → make-up Sunday
        ("2025-09-26", 3, "2025-09-30"),
        ("2025-09-26", 4, "2025-10-09"),  # jumps the whole break
        ("2025-09-26", 6, "2025-10-11"),  # make-up Saturday counts
        ("2025-09-26", 7, "2025-10-13"),
        ("2025-10-01", 1, "2025-10-09"),  # starting inside the break
        ("2016-02-05", 1, "2016-02-06"),
        ("2016-02-05", 2, "2016-02-14"),
        ("2016-02-05", 3, "2016-02-15"),
        ("2025-11-07", 5, "2025-11-14"),  # ordinary week: Fri → next Fri
    ],
)
def test_add_working_days_counts_only_official_working_days(start, n, expected):
    assert add_working_days(d(start), n) == d(expected)


def test_add_zero_working_days_is_the_next_working_day():
    assert add_working_days(d("2025-10-09"), 0) == d("2025-10-09")
    assert add_working_days(d("2025-10-05"), 0) == d("2025-10-09")


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2025-09-30", "2025-10-09", 1),  # only 9 Oct; start excluded
        ("2025-09-26", "2025-10-11", 6),  # 28, 29, 30 Sep, 9, 10, 11 Oct
        ("2025-09-29", "2025-09-30", 1),  # end included
        ("2016-02-05", "2016-02-15", 3),  # 6, 14, 15 Feb
        ("2025-10-01", "2025-10-08", 0),  # whole break
        ("2025-10-09", "2025-10-09", 0),  # same day
        ("2025-10-10", "2025-10-09", 0),  # end before start
    ],
)
def test_working_days_between_excludes_start_and_includes_end(start, end, expected):
    assert working_days_between(d(start), d(end)) == expected


def test_add_working_days_and_working_days_between_agree():
    rng = random.Random(2016)
    for _ in range(300):
        start = date(2016, 1, 1) + timedelta(days=rng.randint(0, 3650))
        n = rng.randint(1, 30)
        end = add_working_days(start, n)
        assert working_days_between(start, end) == n
        assert is_working_day(end)
        assert working_days_between(start, end - timedelta(days=1)) == n - 1


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2025-09-21", "2025-10-01", 10),
        ("2016-02-28", "2016-03-01", 2),  # leap day counted
        ("2025-10-09", "2025-10-09", 0),
        ("2025-10-09", "2025-10-08", -1),
    ],
)
def test_days_between_does_not_count_the_first_day(start, end, expected):
    assert days_between(d(start), d(end)) == expected


@pytest.mark.parametrize(
    ("start", "end", "days", "meets"),
    [
        ("2025-11-05", "2025-11-25", 20, True),  # exactly 20 days: 以上 includes the number
        ("2025-11-05", "2025-11-24", 20, False),  # 19 days
        ("2025-11-05", "2025-12-01", 20, True),
        ("2025-11-03", "2025-11-23", 20, False),  # 20th day is a Sunday: period ends Monday
        ("2025-11-03", "2025-11-24", 20, True),
        ("2025-09-21", "2025-10-01", 10, False),  # 10th day is 1 Oct: period ends 9 Oct
        ("2025-09-21", "2025-10-08", 10, False),
        ("2025-09-21", "2025-10-09", 10, True),
    ],
)
def test_min_days_rule_includes_the_number_and_moves_off_holidays(start, end, days, meets):
    assert meets_min_days(d(start), d(end), days) is meets


@pytest.mark.parametrize(
    ("start", "end", "n", "meets"),
    [
        ("2025-09-26", "2025-10-10", 5, True),  # 5th working day is 10 Oct: inclusive
        ("2025-09-26", "2025-10-09", 5, False),
        ("2025-11-07", "2025-11-14", 5, True),
        ("2025-11-07", "2025-11-13", 5, False),
        ("2025-11-07", "2025-11-07", 0, True),
    ],
)
def test_min_working_days_rule_includes_the_number(start, end, n, meets):
    assert meets_min_working_days(d(start), d(end), n) is meets


# --- years without an official arrangement ------------------------------------------


@pytest.mark.parametrize(
    ("day", "estimated"),
    [
        ("2016-06-01", False),
        ("2025-10-01", False),
        ("2026-12-31", False),
        ("2027-01-01", True),
        ("2003-12-31", True),
    ],
)
def test_years_outside_the_package_are_marked_estimated(holiday_file, day, estimated):
    holiday_file({})
    assert is_estimated(d(day)) is estimated


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2027-01-01", False),  # Friday, New Year
        ("2027-01-04", True),
        ("2027-05-03", True),  # the estimate adds no days in lieu
        ("2027-05-04", True),
        ("2027-10-01", False),  # Friday, National Day
        ("2027-10-04", True),
        ("2027-03-06", False),  # ordinary Saturday
    ],
)
def test_unknown_years_fall_back_to_weekends_and_fixed_date_holidays(holiday_file, day, working):
    holiday_file({})
    assert is_working_day(d(day)) is working


def test_fixed_date_estimate_includes_labour_day_second_of_may(holiday_file):
    holiday_file({})
    # 2028-05-02 is a Tuesday; May 1–2 are statutory holidays since 2025.
    assert is_working_day(d("2028-05-02")) is False
    assert is_working_day(d("2028-05-03")) is True


def test_deadline_in_estimated_year_moves_off_fixed_holiday(holiday_file):
    holiday_file({})
    assert add_days(d("2026-12-22"), 10) == d("2027-01-04")  # Fri 1 Jan + weekend
    assert working_days_between(d("2026-12-31"), d("2027-01-04")) == 1


def test_holiday_file_supplies_an_arrangement_for_a_new_year(holiday_file):
    # Test data shaped like a State Council notice, not the real 2027 arrangement.
    holiday_file(
        {
            "2027": {
                "holidays": ["2027-01-01", "2027-01-02", "2027-01-03", "2027-01-04"],
                "workdays": ["2027-01-09"],
            }
        }
    )
    assert is_estimated(d("2027-06-01")) is False
    assert is_working_day(d("2027-01-04")) is False  # listed holiday on a Monday
    assert is_working_day(d("2027-01-09")) is True  # listed make-up Saturday
    assert is_working_day(d("2027-05-03")) is True
    assert is_working_day(d("2027-10-01")) is True  # not listed: the file replaces the estimate
    assert next_working_day(d("2027-01-01")) == d("2027-01-05")
    assert is_estimated(d("2028-01-01")) is True


def test_holiday_file_overrides_the_package_for_a_covered_year(holiday_file):
    holiday_file({"2025": {"holidays": ["2025-10-09"], "workdays": []}})
    assert is_working_day(d("2025-10-09")) is False
    assert is_working_day(d("2025-10-10")) is True


def test_missing_holiday_file_means_package_or_estimate(tmp_path, monkeypatch):
    monkeypatch.setattr(cal, "HOLIDAYS_FILE", tmp_path / "absent.json")
    assert is_working_day(d("2025-10-01")) is False
    assert is_estimated(d("2025-10-01")) is False
    assert is_estimated(d("1999-10-01")) is True  # before the package's first year


def test_package_coverage_is_detected_from_the_package_itself():
    assert cal._package_covers(2016) is True
    assert cal._package_covers(2026) is True
    assert cal._package_covers(2003) is False


@pytest.mark.parametrize(
    "years",
    [
        {"2027": {"holidays": ["2028-01-01"], "workdays": []}},  # date of another year
        {"2027": {"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}},  # both lists
        {"2027": {"holidays": ["2027-13-01"], "workdays": []}},  # not a date
    ],
)
def test_inconsistent_holiday_file_is_refused_loudly(holiday_file, years):
    holiday_file(years)
    with pytest.raises(ValueError):
        is_working_day(d("2027-01-01"))


def test_endless_holiday_data_fails_instead_of_looping(holiday_file):
    every_day = [str(date(2027, 1, 1) + timedelta(days=i)) for i in range(365)]
    holiday_file({"2027": {"holidays": every_day, "workdays": []}})
    with pytest.raises(RuntimeError):
        next_working_day(d("2027-01-01"))


def test_shipped_holiday_file_is_valid_and_documented():
    raw = json.loads(cal.HOLIDAYS_FILE.read_text(encoding="utf-8"))
    assert raw["source"] and raw["note"]
    assert isinstance(raw["years"], dict)
    loaded = cal._load_holiday_file(cal.HOLIDAYS_FILE)
    assert set(loaded) == {int(y) for y in raw["years"]}
