"""Numbers as people write them, and month arithmetic for terms and quarters."""
from datetime import date
from decimal import Decimal

from procurement.core.calendar import add_months
from procurement.core.numbers import format_percent, percent_number, plain


def test_plain_drops_trailing_zeros_without_an_exponent():
    assert str(plain(Decimal("40.00"))) == "40" and str(plain(Decimal("100"))) == "100"
    assert str(plain("0.50")) == "0.5"


def test_fractions_become_percentages():
    assert str(percent_number("0.30")) == "30" and format_percent(Decimal("0.125")) == "12.5%"
    assert format_percent(Decimal("1")) == "100%"


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert add_months(date(2016, 5, 1), 3) == date(2016, 8, 1)
    assert add_months(date(2016, 1, 31), 1) == date(2016, 2, 29)
    assert add_months(date(2016, 11, 30), 3) == date(2017, 2, 28)
    assert add_months(date(2016, 2, 29), 12) == date(2017, 2, 28)
