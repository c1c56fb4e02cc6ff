"""The business clock: what time the rules think it is.

Deadlines and opening times are checked against `now()`. Normally that is the real time; the
demo replays Lingyuan's 2016 tender and tests step through a tender's life by freezing it
with `frozen(at)`. The audit trail never uses this clock: it records when a change was
really made.
"""
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime

from procurement.core.calendar import SHANGHAI, now_utc

_frozen: ContextVar[datetime | None] = ContextVar("frozen_clock", default=None)


def now() -> datetime:
    return _frozen.get() or now_utc()


def today() -> date:
    """Today's date in Asia/Shanghai by the business clock."""
    return now().astimezone(SHANGHAI).date()


@contextmanager
def frozen(at: datetime):
    if at.tzinfo is None:
        raise ValueError("frozen() needs a timezone-aware datetime")
    token = _frozen.set(at)
    try:
        yield at
    finally:
        _frozen.reset(token)
