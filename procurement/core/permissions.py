"""Deny-by-default access control.

Every view declares who may use it with exactly one of `public`, `authenticated` or
`allow(*roles, read_only=...)`. A before-request hook enforces the declaration; an endpoint
without one is refused (and a test walks the URL map so none ships). Object-level rules live
in each domain's `permissions.py` as `can_<verb>(user, obj)` predicates checked with `require`.
"""
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

from procurement.core.errors import PermissionDenied

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Extension endpoints that serve only static assets.
STATIC_ENDPOINTS = ("static", "bootstrap.static")
# Endpoints a user with a forced password change may still reach.
PASSWORD_CHANGE_ENDPOINTS = frozenset(
    {"accounts.change_password", "accounts.logout", "static", "bootstrap.static", "home.set_language"}
)


@dataclass(frozen=True)
class AccessRule:
    public: bool = False
    any_user: bool = False
    roles: frozenset[str] = field(default_factory=frozenset)
    read_only: frozenset[str] = field(default_factory=frozenset)

    def allows(self, user, method: str) -> bool:
        if self.public:
            return True
        if not getattr(user, "is_authenticated", False):
            return False
        if self.any_user:
            return True
        held = user.role_values
        if held & self.roles:
            return True
        return method in READ_METHODS and bool(held & self.read_only)

    def describe(self) -> str:
        if self.public:
            return "public"
        if self.any_user:
            return "any signed-in user"
        text = ", ".join(sorted(self.roles))
        if self.read_only:
            text += f"; read only: {', '.join(sorted(self.read_only))}"
        return text


def _declare(rule: AccessRule) -> Callable:
    def decorator(view: Callable) -> Callable:
        if hasattr(view, "access_rule"):
            raise RuntimeError(f"{view.__name__} declares its access twice")
        view.access_rule = rule
        return view

    return decorator


def public(view: Callable) -> Callable:
    """Anyone, signed in or not (login page, public notices, the resident survey)."""
    return _declare(AccessRule(public=True))(view)


def authenticated(view: Callable) -> Callable:
    """Any signed-in, active user (home page, own profile)."""
    return _declare(AccessRule(any_user=True))(view)


def allow(*roles, read_only: Iterable = ()) -> Callable:
    """Users holding one of `roles`; `read_only` roles may only use GET/HEAD."""
    if not roles and not read_only:
        raise ValueError("allow() needs at least one role")
    return _declare(
        AccessRule(
            roles=frozenset(str(r) for r in roles),
            read_only=frozenset(str(r) for r in read_only),
        )
    )


def require(condition: bool, message: str | None = None) -> None:
    """Object-level check inside a view: `require(can_edit(current_user, tender))`."""
    if not condition:
        raise PermissionDenied(message or "您没有权限执行此操作。")


def access_rules(app: Flask) -> dict[str, AccessRule]:
    """The declared rule of every endpoint; endpoints without one are absent."""
    rules = {}
    for endpoint, view in app.view_functions.items():
        rule = getattr(view, "access_rule", None)
        if rule is None and endpoint in STATIC_ENDPOINTS:
            rule = AccessRule(public=True)
        if rule is not None:
            rules[endpoint] = rule
    return rules


def rules_of(app: Flask) -> dict[str, AccessRule]:
    """Computed once, after every blueprint is registered."""
    rules = app.extensions.get("access_rules")
    if rules is None:
        rules = app.extensions["access_rules"] = access_rules(app)
    return rules


def is_allowed(user, endpoint: str, method: str = "GET") -> bool:
    """Used by the navigation so a link is shown only to those who may follow it."""
    rule = rules_of(current_app).get(endpoint)
    return rule is not None and rule.allows(user, method)


def init_app(app: Flask) -> None:
    @app.before_request
    def enforce_access_rule():
        endpoint = request.endpoint
        if endpoint is None:
            return None  # no route matched: Flask answers 404/405
        rule = rules_of(app).get(endpoint)
        if rule is None:
            app.logger.error("Endpoint %s declares no access rule; denied", endpoint)
            abort(403)
        if rule.public:
            return None
        if not current_user.is_authenticated:
            if request.method in READ_METHODS and not request.path.startswith("/api/"):
                return redirect(url_for("accounts.login", next=request.full_path))
            abort(401)
        if current_user.must_change_password and endpoint not in PASSWORD_CHANGE_ENDPOINTS:
            return redirect(url_for("accounts.change_password"))
        if not rule.allows(current_user, request.method):
            abort(403)
        return None
