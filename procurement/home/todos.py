"""What a user has to do next. Each domain registers a provider for the roles it concerns;
the home page asks every provider that applies to the user."""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from procurement.accounts.roles import Role


@dataclass(frozen=True)
class Todo:
    title: str
    url: str
    detail: str = ""
    due: date | None = None
    urgent: bool = False


_providers: list[tuple[frozenset[str], Callable]] = []


def provides(*roles: Role) -> Callable:
    """Register `func(user) -> list[Todo]` for users holding any of `roles`."""
    def decorator(func: Callable) -> Callable:
        _providers.append((frozenset(str(r) for r in roles), func))
        return func

    return decorator


def todos_for(user) -> list[Todo]:
    items: list[Todo] = []
    for roles, provider in _providers:
        if user.role_values & roles:
            items.extend(provider(user))
    return sorted(items, key=lambda t: (not t.urgent, t.due or date.max, t.title))
