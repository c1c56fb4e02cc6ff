"""A small state-machine helper: each workflow declares its allowed transitions as a table.

    TENDER = StateMachine("招标项目", {DRAFT: {PUBLISHED, CANCELLED}, ...})
    TENDER.move(tender, TenderState.PUBLISHED, "发布")

`move` refuses an illegal transition with a message naming the current state and the action,
so the same refusal reaches a form, the API and the CLI.
"""
import sys
from collections.abc import Iterable, Mapping
from enum import Enum, StrEnum

import sqlalchemy as sa
from sqlalchemy import inspect
from sqlalchemy.orm import object_session

from procurement.core.errors import InvalidTransition


class LabelledEnum(StrEnum):
    """A state or kind with a Chinese label: `.label` looks it up in the LABELS table of the
    module that defines the enum, keyed by (enum class, value) because members of different
    StrEnums with the same value are equal as dict keys."""

    @property
    def label(self) -> str:
        return str(sys.modules[type(self).__module__].LABELS[(type(self), self.value)])


def state_label(state: Enum) -> str:
    return str(getattr(state, "label", state.value))


def lock_for_update(obj) -> None:
    """Reload `obj` under a row lock the first time a transaction checks its state, so two
    requests racing on one object take turns and the second sees what the first did
    (PostgreSQL; SQLite serialises writers itself)."""
    session = object_session(obj)
    if session is None or obj in session.new or session.get_bind().dialect.name != "postgresql":
        return
    transaction = session.get_transaction()
    held = session.info.get("row_locks")
    if held is None or held[0] is not transaction:
        held = session.info["row_locks"] = (transaction, set())
    key = (type(obj), obj.id)
    if key in held[1]:
        return
    session.flush()
    # Lock only this table's row (eager joins of related rows may not be locked) and
    # overwrite the stale in-memory copy with what the database now holds.
    model = type(obj)
    session.execute(sa.select(model).where(inspect(model).primary_key[0] == obj.id)
                    .with_for_update(of=model).execution_options(populate_existing=True)
                    ).scalar_one()
    held[1].add(key)


class StateMachine:
    def __init__(self, noun: str, transitions: Mapping[Enum, Iterable[Enum]],
                 attribute: str = "state"):
        self.noun = noun
        self.attribute = attribute
        self.transitions = {source: frozenset(targets) for source, targets in transitions.items()}

    def allowed(self, current: Enum, target: Enum) -> bool:
        return target in self.transitions.get(current, frozenset())

    def check(self, obj, target: Enum, action: str) -> None:
        lock_for_update(obj)
        current = getattr(obj, self.attribute)
        if not self.allowed(current, target):
            raise InvalidTransition(
                f"{self.noun}当前状态为“{state_label(current)}”，不能{action}。")

    def move(self, obj, target: Enum, action: str) -> Enum:
        """Check and apply; returns the state it left."""
        self.check(obj, target, action)
        previous = getattr(obj, self.attribute)
        setattr(obj, self.attribute, target)
        return previous

    def require_in(self, obj, states: Iterable[Enum], action: str) -> None:
        """For an action that does not change the state but is allowed only in some."""
        lock_for_update(obj)
        current = getattr(obj, self.attribute)
        if current not in set(states):
            raise InvalidTransition(
                f"{self.noun}当前状态为“{state_label(current)}”，不能{action}。")
