"""Money parsing, conversion, formatting, 大写 and instalment arithmetic."""
import random
from decimal import Decimal

import cn2an
import pytest

from procurement.core.money import (
    MAX_AMOUNT,
    MoneyError,
    format_fen,
    format_yuan,
    from_fen,
    in_words,
    parse_money,
    percent_of,
    split_evenly,
    to_fen,
)

D = Decimal


# --- parse_money: accepted ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("400000", "400000.00"),
        ("400,000.00", "400000.00"),
        ("1,234,567.89", "1234567.89"),
        ("999", "999.00"),
        ("0", "0.00"),
        ("0.5", "0.50"),
        ("0.05", "0.05"),
        ("  400000  ", "400000.00"),
        ("\u3000400000\u3000", "400000.00"),  # ideographic spaces from a Chinese IME
        ("40万", "400000.00"),
        ("40万元", "400000.00"),
        ("40.5万", "405000.00"),
        ("40.12万", "401200.00"),
        ("0.0001万", "1.00"),
        ("40.123456万", "401234.56"),  # 2 decimals once multiplied
        ("400000元", "400000.00"),
        ("400000元整", "400000.00"),
        ("¥400,000", "400000.00"),
        ("￥400,000.00", "400000.00"),
        ("人民币400000元", "400000.00"),
        ("人民币 ¥ 40 万元", "400000.00"),
        ("100000000000", "100000000000.00"),  # the upper limit itself is allowed
    ],
)
def test_common_ways_of_writing_an_amount_are_accepted(text, expected):
    result = parse_money(text)
    assert result == D(expected)
    assert str(result) == expected  # always exactly two decimal places


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("４０００００", "400000.00"),
        ("４００，０００．５０", "400000.50"),
        ("４０万", "400000.00"),
        ("￥４０００", "4000.00"),
    ],
)
def test_full_width_digits_comma_and_point_are_accepted(text, expected):
    assert parse_money(text) == D(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("四十万", "400000.00"),
        ("四十万元", "400000.00"),
        ("肆拾万元整", "400000.00"),
        ("肆拾万圆整", "400000.00"),
        ("人民币肆拾万元整", "400000.00"),
        ("壹拾万零壹元", "100001.00"),
        ("一千零一", "1001.00"),
        ("四十万五千", "405000.00"),
        ("零", "0.00"),
    ],
)
def test_integer_chinese_numerals_are_accepted(text, expected):
    assert parse_money(text) == D(expected)


def test_parsed_amount_is_decimal_never_float():
    assert type(parse_money("四十万")) is Decimal
    assert type(parse_money("40.5万")) is Decimal


def test_negative_zero_is_just_zero():
    assert parse_money("-0") == D("0.00")


# --- parse_money: refused -----------------------------------------------------


@pytest.mark.parametrize("text", [None, "", "   ", "\u3000"])
def test_missing_amount_asks_to_fill_it_in(text):
    with pytest.raises(MoneyError) as exc:
        parse_money(text)
    assert str(exc.value) == "请填写金额"


@pytest.mark.parametrize("text", ["-5", "-400,000.00", "−400", "-¥400", "¥-400", "负四十万", "- 40万"])
def test_negative_amounts_are_refused(text):
    with pytest.raises(MoneyError, match="金额不能为负数") as exc:
        parse_money(text)
    assert text.strip() in str(exc.value)


@pytest.mark.parametrize("text", ["0.001", "400000.005", "1.999", "40.1234567万", "0.0000001万"])
def test_more_than_two_decimals_after_applying_wan_is_refused(text):
    with pytest.raises(MoneyError, match="最多精确到分") as exc:
        parse_money(text)
    assert text in str(exc.value)


@pytest.mark.parametrize("text", ["1,00,000", "1,0000", "10,00", "1,000,00", "1,,000", "1000,000"])
def test_comma_grouping_must_be_thousands(text):
    with pytest.raises(MoneyError, match="千分位") as exc:
        parse_money(text)
    assert text in str(exc.value)


@pytest.mark.parametrize("text", ["1.000.000", "1..5", "1.2.3万"])
def test_more_than_one_decimal_point_is_refused(text):
    with pytest.raises(MoneyError, match="只能有一个小数点"):
        parse_money(text)


@pytest.mark.parametrize(
    "text",
    [
        "4e5",
        "4E5",
        "1_000",
        "NaN",
        "nan",
        "Infinity",
        "inf",
        "40万5千",  # mixed Arabic digits and Chinese units
        "4O0000",  # letter O instead of zero
        "四十点五万",  # Chinese decimals would go through a float in cn2an
        "两万",
        "十万万",
        "万",
        "元",
        "¥",
        "abc",
        "400000美元",
        "400000整",  # 整 only after 元
        ".5",
        "5.",
        "+400",
        "--5",
        "0x10",
        "٤٠٠",  # Arabic-Indic digits are not folded by NFKC
        "400 000",
    ],
)
def test_unrecognised_text_is_refused_with_examples(text):
    with pytest.raises(MoneyError) as exc:
        parse_money(text)
    message = str(exc.value)
    assert message.startswith("无法识别的金额“")
    assert "400,000.00" in message and "40万" in message
    assert text.strip() in message


@pytest.mark.parametrize("text", ["100000000000.01", "100000000001", "1000000000000", "10000001万"])
def test_amount_above_one_hundred_billion_yuan_is_refused(text):
    with pytest.raises(MoneyError, match="金额过大") as exc:
        parse_money(text)
    assert text in str(exc.value)


def test_too_large_chinese_numeral_is_refused():
    with pytest.raises(MoneyError, match="金额过大"):
        parse_money("一万亿")


def test_overlong_input_is_refused_before_parsing():
    with pytest.raises(MoneyError, match="过长"):
        parse_money("1" * 65)
    # 64 characters are still parsed (and here refused only for size).
    with pytest.raises(MoneyError, match="金额过大"):
        parse_money("1" * 64)


def test_message_quotes_long_input_shortened():
    with pytest.raises(MoneyError) as exc:
        parse_money("x" * 100)
    assert "x" * 20 + "…" in str(exc.value)
    assert "x" * 21 not in str(exc.value)


def test_money_error_is_a_value_error_with_message_attribute():
    with pytest.raises(ValueError) as exc:
        parse_money("abc")
    assert isinstance(exc.value, MoneyError)
    assert exc.value.message == str(exc.value)


def test_non_string_input_is_a_programming_error():
    with pytest.raises(TypeError):
        parse_money(400000)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_money(400000.0)  # type: ignore[arg-type]


# --- to_fen / from_fen ----------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "fen"),
    [
        ("400000.00", 40000000),
        ("400000", 40000000),
        ("0.01", 1),
        ("0", 0),
        ("0E-10", 0),
        ("-1234.50", -123450),
        ("1.10000000000000000000000000000000", 110),  # trailing zeros beyond context precision
        ("4E+5", 40000000),
        ("100000000000.00", 10000000000000),
    ],
)
def test_to_fen_is_exact(amount, fen):
    result = to_fen(D(amount))
    assert result == fen
    assert type(result) is int


@pytest.mark.parametrize(
    "amount",
    [
        "0.001",
        "1.005",
        "-0.001",
        "1E-3",
        "1E-999999",
        "1.0000000000000000000000000000000000000000001",  # beyond context precision
    ],
)
def test_to_fen_refuses_sub_fen_amounts(amount):
    with pytest.raises(MoneyError, match="精确到分"):
        to_fen(D(amount))


@pytest.mark.parametrize(
    "amount", ["NaN", "Infinity", "-Infinity", "1E+999999", "100000000000000000000"]
)
def test_to_fen_refuses_non_finite_and_absurd_amounts(amount):
    with pytest.raises(MoneyError):
        to_fen(D(amount))


@pytest.mark.parametrize("amount", [0.1, 400000.0, 400000, "400000", None])
def test_to_fen_refuses_anything_but_decimal(amount):
    with pytest.raises(TypeError):
        to_fen(amount)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fen", "expected"),
    [
        (40000000, "400000.00"),
        (1, "0.01"),
        (0, "0.00"),
        (-123450, "-1234.50"),
        (2**63 - 1, "92233720368547758.07"),
    ],
)
def test_from_fen_gives_two_decimal_places(fen, expected):
    result = from_fen(fen)
    assert str(result) == expected


@pytest.mark.parametrize("fen", [1.0, D("1"), "1", True])
def test_from_fen_refuses_non_int(fen):
    with pytest.raises(TypeError):
        from_fen(fen)  # type: ignore[arg-type]


def test_fen_round_trip_is_lossless():
    rng = random.Random(20160101)
    for _ in range(2000):
        fen = rng.randint(-(10**14), 10**14)
        assert to_fen(from_fen(fen)) == fen


def test_parsed_text_round_trips_through_fen():
    assert from_fen(to_fen(parse_money("400,000.05"))) == D("400000.05")


# --- formatting -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "expected"),
    [
        (40000000, "¥400,000.00"),
        (0, "¥0.00"),
        (5, "¥0.05"),
        (99999, "¥999.99"),
        (100000, "¥1,000.00"),
        (123456789, "¥1,234,567.89"),
        (-123450, "-¥1,234.50"),
        (-5, "-¥0.05"),
    ],
)
def test_format_fen_shows_yuan_with_grouping(fen, expected):
    assert format_fen(fen) == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("400000", "¥400,000.00"),
        ("400000.5", "¥400,000.50"),
        ("-1234.5", "-¥1,234.50"),
        ("0.00", "¥0.00"),
    ],
)
def test_format_yuan_shows_yuan_with_grouping(amount, expected):
    assert format_yuan(D(amount)) == expected


def test_format_yuan_refuses_sub_fen_instead_of_rounding():
    with pytest.raises(MoneyError):
        format_yuan(D("1.005"))


def test_format_functions_refuse_the_wrong_unit_type():
    with pytest.raises(TypeError):
        format_yuan(40000000)  # type: ignore[arg-type]  # fen passed as yuan
    with pytest.raises(TypeError):
        format_fen(D("400000.00"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        format_yuan(400000.0)  # type: ignore[arg-type]


# --- in_words (大写) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("400000", "人民币肆拾万元整"),
        ("0", "人民币零元整"),
        ("0.05", "人民币伍分"),
        ("0.50", "人民币伍角"),
        ("0.15", "人民币壹角伍分"),
        ("1", "人民币壹元整"),
        ("10", "人民币壹拾元整"),  # 壹拾, never a bare 拾
        ("15", "人民币壹拾伍元整"),
        ("110", "人民币壹佰壹拾元整"),
        ("10.50", "人民币壹拾元伍角"),  # no 整 after 角 (see in_words docstring)
        ("1.10", "人民币壹元壹角"),
        ("1.05", "人民币壹元零伍分"),
        ("10000.01", "人民币壹万元零壹分"),
        ("400000.05", "人民币肆拾万元零伍分"),
        ("1000000.10", "人民币壹佰万元壹角"),
        ("100001", "人民币壹拾万零壹元整"),
        ("1001", "人民币壹仟零壹元整"),
        ("1010", "人民币壹仟零壹拾元整"),
        ("10010", "人民币壹万零壹拾元整"),
        ("101000", "人民币壹拾万零壹仟元整"),
        ("1010000", "人民币壹佰零壹万元整"),
        ("10001000", "人民币壹仟万零壹仟元整"),
        ("100000000", "人民币壹亿元整"),
        ("100010000", "人民币壹亿零壹万元整"),
        ("100001000", "人民币壹亿零壹仟元整"),
        ("200000008", "人民币贰亿零捌元整"),
        ("100000000.01", "人民币壹亿元零壹分"),
        ("100000000000", "人民币壹仟亿元整"),
        (
            "12345678901.23",
            "人民币壹佰贰拾叁亿肆仟伍佰陆拾柒万捌仟玖佰零壹元贰角叁分",
        ),
    ],
)
def test_in_words_follows_formal_chinese_financial_writing(amount, expected):
    assert in_words(D(amount)) == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        # The examples printed in 《正确填写票据和结算凭证的基本规定》.
        ("1409.50", "人民币壹仟肆佰零玖元伍角"),
        ("6007.14", "人民币陆仟零柒元壹角肆分"),
        ("1680.32", "人民币壹仟陆佰捌拾元叁角贰分"),
        ("107000.53", "人民币壹拾万零柒仟元伍角叁分"),
        ("16409.02", "人民币壹万陆仟肆佰零玖元零贰分"),
        ("325.04", "人民币叁佰贰拾伍元零肆分"),
    ],
)
def test_in_words_matches_the_official_payment_rule_examples(amount, expected):
    assert in_words(D(amount)) == expected


def test_in_words_differs_from_cn2an_only_by_optional_zero():
    """cn2an drops the 零 at a 万/亿 boundary; everything else must agree exactly."""
    rng = random.Random(87)
    differences = 0
    for _ in range(3000):
        # Sparse digits produce the interesting runs of zeros.
        digits = "".join(rng.choice("0000000123456789") for _ in range(rng.randint(1, 12)))
        fen = int(digits)
        amount = from_fen(fen)
        ours = in_words(amount)
        theirs = "人民币" + cn2an.an2cn(str(amount), "rmb")
        if ours != theirs:
            differences += 1
            assert ours.replace("零", "") == theirs.replace("零", ""), amount
            assert ours.count("零") > theirs.count("零"), amount
    assert differences > 0  # the sample did exercise the boundary case


def test_in_words_never_writes_zheng_after_fen_or_two_zeros_in_a_row():
    rng = random.Random(2025)
    for _ in range(3000):
        words = in_words(from_fen(rng.randint(0, 10**13)))
        assert not words.endswith("分整")
        assert "零零" not in words
        assert not words.endswith("零元整") or words == "人民币零元整"
        assert words.startswith("人民币") and words.count("人民币") == 1


def test_in_words_refuses_negative_and_sub_fen_amounts():
    with pytest.raises(MoneyError, match="负数"):
        in_words(D("-1"))
    with pytest.raises(MoneyError, match="精确到分"):
        in_words(D("0.001"))
    with pytest.raises(TypeError):
        in_words(400000.0)  # type: ignore[arg-type]


def test_in_words_covers_the_whole_accepted_range():
    assert in_words(MAX_AMOUNT) == "人民币壹仟亿元整"
    assert in_words(D("999999999999.99")).endswith("玖元玖角玖分")
    with pytest.raises(MoneyError, match="金额过大"):
        in_words(D("1000000000000"))


# --- split_evenly / percent_of ---------------------------------------------------


@pytest.mark.parametrize(
    ("total", "parts", "expected"),
    [
        (100, 3, [33, 33, 34]),
        (40000000, 4, [10000000, 10000000, 10000000, 10000000]),
        (10000001, 4, [2500000, 2500000, 2500000, 2500001]),
        (11, 4, [2, 2, 2, 5]),
        (2, 3, [0, 0, 2]),
        (0, 4, [0, 0, 0, 0]),
        (7, 1, [7]),
    ],
)
def test_split_evenly_last_part_absorbs_the_remainder(total, parts, expected):
    result = split_evenly(total, parts)
    assert result == expected
    assert sum(result) == total


def test_split_evenly_always_sums_exactly():
    rng = random.Random(4)
    for _ in range(2000):
        total, parts = rng.randint(0, 10**13), rng.randint(1, 40)
        result = split_evenly(total, parts)
        assert len(result) == parts
        assert sum(result) == total
        assert len(set(result[:-1])) <= 1
        assert 0 <= result[-1] - result[0] < parts


@pytest.mark.parametrize(("total", "parts"), [(100, 0), (100, -1), (-100, 4)])
def test_split_evenly_refuses_invalid_arguments(total, parts):
    with pytest.raises(ValueError):
        split_evenly(total, parts)


def test_split_evenly_refuses_non_int_total():
    with pytest.raises(TypeError):
        split_evenly(D("100"), 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        split_evenly(100, 3.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fen", "percent", "expected"),
    [
        (40000000, D("5"), 2000000),
        (40000000, D("2.5"), 1000000),
        (1, D("50"), 1),  # 0.5 fen rounds up, not to even
        (3, D("50"), 2),  # 1.5 → 2
        (5, D("50"), 3),  # 2.5 → 3 (banker's rounding would give 2)
        (333, D("10"), 33),  # 33.3 → 33
        (335, D("10"), 34),  # 33.5 → 34
        (12345, D("0.5"), 62),  # 61.725 → 62
        (100, D("0"), 0),
        (100, 3, 3),  # int percent is exact too
        (-5, D("50"), -3),  # corrections round away from zero symmetrically
        (9223372036854775807, D("100"), 9223372036854775807),
    ],
)
def test_percent_of_rounds_half_up_to_the_fen(fen, percent, expected):
    result = percent_of(fen, percent)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize("percent", [5.0, 0.1, "5", True])
def test_percent_of_refuses_float_and_other_percentages(percent):
    with pytest.raises(TypeError):
        percent_of(40000000, percent)  # type: ignore[arg-type]
