"""Decimals as people write them: 40.00 → 40, the fraction 0.30 → 30 or 30%."""
from decimal import Decimal

HUNDRED = Decimal(100)


def plain(value) -> Decimal:
    """Without trailing zeros or an exponent: 40.00 → 40, 0.50 → 0.5."""
    return Decimal(f"{Decimal(str(value)).normalize():f}")


def percent_number(fraction) -> Decimal:
    """A stored fraction as the number typed on a form: 0.30 → 30."""
    return plain(Decimal(str(fraction)) * HUNDRED)


def format_percent(fraction) -> str:
    """0.30 → "30%"."""
    return f"{percent_number(fraction)}%"
