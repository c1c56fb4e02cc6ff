"""The JSON API under /api/v1: read endpoints over the same permissions and services as
the pages. Authentication is by per-user bearer token only — a session cookie never
authenticates here, so the API needs no CSRF protection."""
import hashlib
import json
import re
from datetime import datetime, timezone

from flask import Blueprint, current_app, g, request, url_for
from flask_login import current_user

from procurement.api import errors
from procurement.api.errors import ApiError, bad_parameter, is_api_path
from procurement.core.calendar import SHANGHAI
from procurement.core.money import from_fen
from procurement.extensions import db, limiter, login_manager

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_PER_PAGE = 100
MAX_PAGE = 100_000
MAX_ID = 2**31 - 1


def current_token():
    """The request's valid token (cached), or None."""
    if "api_token" not in g:
        from procurement.api.tokens import authenticate

        header = request.headers.get("Authorization")
        g.api_token = authenticate(header)
        g.api_token_state = "ok" if g.api_token else ("invalid" if header else "missing")
    return g.api_token


def rate_key() -> str:
    """Per token when one is presented and valid, else per client address."""
    token = current_token()
    return f"api-token:{token.id}" if token else f"api-ip:{request.remote_addr}"


def _api_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def _use_token_user():
    """Make the token's user (or nobody) the current user for API paths, ignoring any
    session cookie, before the access-rule hook looks at current_user."""
    if not is_api_path(request.path):
        return None
    token = current_token()
    user = token.user if token else login_manager.anonymous_user()
    login_manager._update_request_context_with_user(user)
    if token is not None and user.must_change_password:
        raise ApiError(403, "该账号须先在网页上修改密码，才能使用 API。", "password_change_required")
    return None


def init_app(app) -> None:
    """Called by create_app before the access-rule hook is installed."""
    from procurement.api import (cases, contracts, disbursements, docs,  # noqa: F401
                                 evaluations, payments, records, self_assessments, tenders,
                                 work)

    app.config.setdefault("API_RATE_LIMIT", "600 per hour")
    app.before_request(_use_token_user)
    app.register_blueprint(bp)


# The blueprint is set up once, at import: create_app may run several times (tests).
errors.register(bp)


@bp.url_value_preprocessor
def _ids_in_range(endpoint, values):
    """Flask's int converter takes any length of digits; an id no column can hold would
    make the database driver raise (a 500). No such record exists: answer 404."""
    for value in (values or {}).values():
        if isinstance(value, int) and not 1 <= value <= MAX_ID:
            raise ApiError(404, "要查找的记录不存在。")
limiter.limit(_api_limit, key_func=rate_key)(bp)


def finish(app) -> None:
    """Called by create_app after the app's error handlers exist."""
    errors.wrap_unmatched(app)


# --- reading query parameters ------------------------------------------------------------

_INT = re.compile(r"^\d{1,12}$")


def int_arg(name: str, default: int | None = None, *, minimum: int = 1,
            maximum: int = MAX_ID) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    raw = raw.strip()
    if not _INT.match(raw):
        raise bad_parameter(name, f"参数 {name} 必须是整数。")
    value = int(raw)
    if not minimum <= value <= maximum:
        raise bad_parameter(name, f"参数 {name} 必须在 {minimum} 到 {maximum} 之间。")
    return value


def datetime_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace(" ", "+"))
    except ValueError:
        raise bad_parameter(name, f"参数 {name} 必须是 ISO 8601 时间，例如 2026-01-01T08:00:00+08:00。"
                            ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return value.astimezone(timezone.utc)


def choice_arg(name: str, enum_cls):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return enum_cls(raw)
    except ValueError:
        allowed = "、".join(str(m.value) for m in enum_cls)
        raise bad_parameter(name, f"参数 {name} 的取值只能是：{allowed}。") from None


# --- responses ---------------------------------------------------------------------------

def money(fen: int | None) -> str | None:
    return None if fen is None else f"{from_fen(fen):.2f}"


def stamp(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(SHANGHAI).isoformat()
    return value.isoformat()


def respond(payload: dict):
    """JSON with an ETag (a hash of the body); If-None-Match with that tag gives 304."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body.encode("utf-8")).hexdigest()[:32])
    response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request)


def paged(query, serialise) -> dict:
    """One page of a select as {"data", "meta", "links"}."""
    page = int_arg("page", 1, maximum=MAX_PAGE)
    per_page = int_arg("per_page", current_app.config["PER_PAGE"], maximum=MAX_PER_PAGE)
    result = db.paginate(query, page=page, per_page=per_page, error_out=False,
                         max_per_page=MAX_PER_PAGE)
    args = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}

    def link(number):
        return url_for(request.endpoint, **(request.view_args or {}), **args, page=number,
                       per_page=per_page)

    return {"data": [serialise(item) for item in result.items],
            "meta": {"page": page, "per_page": per_page, "total": result.total},
            "links": {"self": link(page), "next": link(page + 1) if result.has_next else None,
                      "prev": link(page - 1) if page > 1 else None}}


def written(payload: dict, status: int = 200):
    """The answer to a write: JSON, never cached."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    response = current_app.response_class(body, status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def commit(operation):
    """Run one service call as the request's unit of work, as `core.pages.perform` does for
    a page: commit on success; on a refusal roll back, and the refusal (a DomainError or an
    ApiError) becomes the JSON error."""
    try:
        result = operation()
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def load(model, ident: int, readable=None):
    """The row, or 404 — also when `readable(user, row)` says the caller may not read it
    (its existence is not told)."""
    item = db.session.get(model, ident)
    if item is None or (readable is not None and not readable(who(), item)):
        raise ApiError(404, "要查找的记录不存在。")
    return item


def who() -> object:
    return current_user._get_current_object()
