"""Money: integer fen in the database, ``Decimal`` yuan (two places) in Python.

Floats never touch an amount: parsing, splitting and percentages all work on
``Decimal`` or ``int`` so that every ledger sums to the fen.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, localcontext

import cn2an

# 1000 亿元: far above any street-office budget, so anything bigger is a typo.
MAX_AMOUNT = Decimal("100000000000")
# User input longer than this is refused before any parsing work is done.
MAX_INPUT_LENGTH = 64
# Largest value a signed 64-bit database column can hold.
_MAX_DB_FEN = 2**63 - 1

_CENT = Decimal("0.01")
_EXAMPLES = "请填写如 400000、400,000.00 或 40万"


class MoneyError(ValueError):
    """An amount was refused; ``str(error)`` is a Chinese message for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- parsing -----------------------------------------------------------------

# Currency markers and the sign around the number. 圆 is the formal variant of 元
# used on cheques; 整 is only meaningful after 元/圆.
_ENVELOPE = re.compile(
    r"""
    (?P<sign>[-−负]?)\s*
    (?:人民币)?\s*
    (?:¥)?\s*
    (?P<sign2>[-−负]?)\s*
    (?P<body>.*?)\s*
    (?:[元圆]整?)?
    """,
    re.VERBOSE | re.DOTALL,
)
# Plain digits, or thousands groups of exactly three after a 1-3 digit head;
# optional fraction; optional 万 multiplier. [0-9] rather than \d: \d also
# matches other scripts' digits that NFKC leaves alone.
_ARABIC = re.compile(
    r"(?P<number>(?:[0-9]+|[1-9][0-9]{0,2}(?:,[0-9]{3})+)(?:\.[0-9]+)?)(?:\s*(?P<wan>万))?",
    re.ASCII,
)
# Looks like an attempt at a grouped number (digits, commas, at most one point):
# used only to give a more precise message than "unrecognised".
_BAD_GROUPING = re.compile(r"[0-9][0-9,]*,[0-9,]*(?:\.[0-9]+)?万?", re.ASCII)
_MANY_POINTS = re.compile(r"[0-9]*(?:\.[0-9]*){2,}万?", re.ASCII)
# Integer Chinese numerals only: 点 would make cn2an return a float.
_CHINESE = re.compile(r"[零一二三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟]+")


def _shown(text: str) -> str:
    """The user's text as quoted back in a message, shortened if huge."""
    text = text.strip()
    return text if len(text) <= 20 else text[:20] + "…"


def parse_money(text: str | None) -> Decimal:
    """Parse an amount typed by a user into yuan, quantised to 0.01.

    Accepts ``400000``, ``400,000.00``, full-width digits, ``40万``/``40.5万元``,
    ``¥``/``￥``/``人民币`` prefixes, ``元``/``元整`` suffixes and integer
    Chinese numerals such as ``四十万`` or ``肆拾万元整``.

    Raises ``MoneyError`` (Chinese message quoting the input) for anything else.
    """
    if text is None:
        raise MoneyError("请填写金额")
    if not isinstance(text, str):
        raise TypeError(f"parse_money expects str, got {type(text).__name__}")
    if len(text) > MAX_INPUT_LENGTH:
        raise MoneyError(f"金额内容过长（最多 {MAX_INPUT_LENGTH} 个字符）：“{_shown(text)}”")
    # NFKC folds full-width digits, comma, point, ￥ and the ideographic space.
    normal = unicodedata.normalize("NFKC", text).strip()
    if not normal:
        raise MoneyError("请填写金额")
    shown = _shown(text)

    envelope = _ENVELOPE.fullmatch(normal)
    # The envelope pattern matches any string; `body` is what remains.
    assert envelope is not None
    body = envelope["body"]
    negative = bool(envelope["sign"]) or bool(envelope["sign2"])
    if envelope["sign"] and envelope["sign2"]:
        raise MoneyError(f"无法识别的金额“{shown}”，{_EXAMPLES}")
    if not body:
        raise MoneyError(f"无法识别的金额“{shown}”，{_EXAMPLES}")

    amount = _parse_body(body, shown)

    if negative and amount != 0:
        raise MoneyError(f"金额不能为负数：“{shown}”")
    if amount > MAX_AMOUNT:
        raise MoneyError(f"金额过大：“{shown}”，上限为 1000 亿元")
    if amount != amount.quantize(_CENT):
        raise MoneyError(f"金额最多精确到分（两位小数）：“{shown}”")
    return amount.quantize(_CENT)


def _parse_body(body: str, shown: str) -> Decimal:
    """The number itself, without sign or currency markers, as exact Decimal."""
    arabic = _ARABIC.fullmatch(body)
    if arabic:
        # 64 input characters are at most 64 digits; precision 100 keeps the
        # 万 multiplication and the later quantize exact.
        with localcontext() as ctx:
            ctx.prec = 100
            value = Decimal(arabic["number"].replace(",", ""))
            if arabic["wan"]:
                value *= 10000
            return value
    if _CHINESE.fullmatch(body):
        try:
            value = cn2an.cn2an(body, "strict")
        except (ValueError, KeyError, IndexError, TypeError):
            # cn2an reports malformed numerals in various ways; all mean "not a number".
            raise MoneyError(f"无法识别的金额“{shown}”，{_EXAMPLES}") from None
        if not isinstance(value, int):  # guard: a float must never become money
            raise MoneyError(f"无法识别的金额“{shown}”，{_EXAMPLES}")
        return Decimal(value)
    if _MANY_POINTS.fullmatch(body):
        raise MoneyError(f"金额中只能有一个小数点：“{shown}”")
    if _BAD_GROUPING.fullmatch(body):
        raise MoneyError(f"千分位逗号位置不正确（应每三位一组，如 1,000,000）：“{shown}”")
    raise MoneyError(f"无法识别的金额“{shown}”，{_EXAMPLES}")


# --- fen <-> yuan ------------------------------------------------------------


def to_fen(amount: Decimal) -> int:
    """Exact yuan → fen. Refuses floats/ints (TypeError) and sub-fen values (MoneyError)."""
    # int is refused too: an int here is as likely to be fen as yuan.
    if not isinstance(amount, Decimal):
        raise TypeError(f"to_fen expects Decimal, got {type(amount).__name__}")
    if not amount.is_finite():
        raise MoneyError(f"金额无效：“{amount}”")
    if amount.is_zero():
        return 0
    # Cheap magnitude check first so that exponents like 1E+999999 cost nothing.
    if amount.adjusted() > 18:
        raise MoneyError(f"金额过大：“{amount}”")
    # Integer arithmetic on the Decimal's own digits: exact whatever its precision.
    sign, digits, exponent = amount.as_tuple()
    coefficient = int("".join(map(str, digits)))
    shift = exponent + 2
    if shift >= 0:
        fen = coefficient * 10**shift
    else:
        if -shift > len(digits):  # a non-zero coefficient below 10**-shift: sub-fen
            raise MoneyError(f"金额最多精确到分（两位小数）：“{amount}”")
        fen, remainder = divmod(coefficient, 10**-shift)
        if remainder:
            raise MoneyError(f"金额最多精确到分（两位小数）：“{amount}”")
    fen = -fen if sign else fen
    if abs(fen) > _MAX_DB_FEN:
        raise MoneyError(f"金额过大：“{amount}”")
    return fen


def _check_fen(fen: int, name: str = "fen") -> None:
    # bool is an int subclass; True as an amount is always a bug.
    if not isinstance(fen, int) or isinstance(fen, bool):
        raise TypeError(f"{name} must be int, got {type(fen).__name__}")


def from_fen(fen: int) -> Decimal:
    """Fen → yuan with exactly two decimal places (``40000000`` → ``Decimal('400000.00')``)."""
    _check_fen(fen)
    sign = 1 if fen < 0 else 0
    return Decimal((sign, tuple(int(c) for c in str(abs(fen))), -2))


# --- display -------------------------------------------------------------------


def format_fen(fen: int) -> str:
    """``40000000`` → ``¥400,000.00``; negatives (ledger corrections) → ``-¥1,234.50``."""
    _check_fen(fen)
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def format_yuan(amount: Decimal) -> str:
    """``Decimal('400000')`` → ``¥400,000.00``. Sub-fen amounts are refused, not rounded."""
    return format_fen(to_fen(amount))


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_SECTION_UNITS = ("", "万", "亿")


def _yuan_in_words(yuan: int) -> str:
    """Uppercase (大写) integer yuan, 1 <= yuan < 10**12, without the 元."""
    text = str(yuan)
    out: list[str] = []
    pending_zero = False  # zeros seen since the last written digit
    section_has_digit = False
    for index, char in enumerate(text):
        position = len(text) - 1 - index  # 0 = 元 place
        digit = int(char)
        if digit:
            if pending_zero:
                out.append("零")  # one 零 per run of zeros, across 万/亿 too
            out.append(_DIGITS[digit] + _SMALL_UNITS[position % 4])
            pending_zero = False
            section_has_digit = True
        elif out:
            pending_zero = True
        if position % 4 == 0:
            if section_has_digit:
                out.append(_SECTION_UNITS[position // 4])
            section_has_digit = False
    return "".join(out)


def in_words(amount: Decimal) -> str:
    """Formal uppercase amount for contracts and payment forms (``人民币肆拾万元整``).

    Follows 《正确填写票据和结算凭证的基本规定》 (PBOC 支付结算办法 附一):

    * 整 after 元 when there are no 角/分; no 整 after 角 (the rule makes it
      optional; its own example ¥1409.50 → 壹仟肆佰零玖元伍角 omits it); never after 分.
    * A run of zeros inside the number is written as one 零, including across the
      万/亿 boundary: ¥107000.53 → 壹拾万零柒仟元伍角叁分 (one of the two forms the
      rule gives; cn2an omits this 零 and writes a form the rule does not list).
    * 零 after 元 only when 角 is 0 and 分 is not (required); when only the 元
      place is 0 the optional 零 is left out: ¥1680.32 → 壹仟陆佰捌拾元叁角贰分.
    * 10–19 keep the leading 壹 (壹拾元) so nothing can be written in front.
    """
    fen = to_fen(amount)
    if fen < 0:
        raise MoneyError(f"大写金额不能为负数：“{amount}”")
    yuan, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    if yuan >= 10**12:
        raise MoneyError(f"金额过大，无法书写大写：“{amount}”")
    if fen == 0:
        return "人民币零元整"
    parts = []
    if yuan:
        parts.append(_yuan_in_words(yuan) + "元")
    if jiao:
        parts.append(_DIGITS[jiao] + "角")
    elif fen_digit and yuan:
        parts.append("零")
    if fen_digit:
        parts.append(_DIGITS[fen_digit] + "分")
    elif not jiao:
        parts.append("整")
    return "人民币" + "".join(parts)


# --- arithmetic ----------------------------------------------------------------


def split_evenly(total_fen: int, parts: int) -> list[int]:
    """Split into ``parts`` equal instalments; the last absorbs the remainder fen.

    ``split_evenly(100, 3)`` → ``[33, 33, 34]``: the sum is always exactly the total.
    """
    _check_fen(total_fen, "total_fen")
    _check_fen(parts, "parts")
    if parts < 1:
        raise ValueError("parts must be at least 1")
    if total_fen < 0:
        raise ValueError("total_fen must not be negative")
    share = total_fen // parts
    return [share] * (parts - 1) + [total_fen - share * (parts - 1)]


def percent_of(fen: int, percent: Decimal) -> int:
    """``percent`` % of ``fen``, rounded half-up to the fen (e.g. deposits, retention money).

    ``percent`` must be a Decimal (or int): a float percentage is refused.
    """
    _check_fen(fen)
    if isinstance(percent, bool) or not isinstance(percent, (Decimal, int)):
        raise TypeError(f"percent must be Decimal, got {type(percent).__name__}")
    percent = Decimal(percent)
    if not percent.is_finite():
        raise ValueError("percent must be finite")
    # Enough precision for an int64 fen times any sensible percentage, so the
    # only rounding is the deliberate one below.
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(fen) * percent / 100
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
