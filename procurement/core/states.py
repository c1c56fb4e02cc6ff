"""A small state-machine helper: each workflow declares its allowed transitions as a table.

    TENDER = StateMachine("招标项目", {DRAFT: {PUBLISHED, CANCELLED}, ...})
    TENDER.move(tender, TenderState.PUBLISHED, "发布")

`move` refuses an illegal transition with a message naming the current state and the action,
so the same refusal reaches a form, the API and the CLI.
"""
from collections.abc import Iterable, Mapping
from enum import Enum

from procurement.core.errors import InvalidTransition


def state_label(state: Enum) -> str:
    return str(getattr(state, "label", state.value))


class StateMachine:
    def __init__(self, noun: str, transitions: Mapping[Enum, Iterable[Enum]],
                 attribute: str = "state"):
        self.noun = noun
        self.attribute = attribute
        self.transitions = {source: frozenset(targets) for source, targets in transitions.items()}

    def allowed(self, current: Enum, target: Enum) -> bool:
        return target in self.transitions.get(current, frozenset())

    def check(self, obj, target: Enum, action: str) -> None:
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
        current = getattr(obj, self.attribute)
        if current not in set(states):
            raise InvalidTransition(
                f"{self.noun}当前状态为“{state_label(current)}”，不能{action}。")
