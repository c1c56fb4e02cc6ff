"""JSON errors: {"error": {"code": "stable_code", "message": "中文", "field": name|null}}."""
from flask import g, jsonify, request
from werkzeug.exceptions import HTTPException

from procurement.core.errors import DomainError, PermissionDenied

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid",
         429: "rate_limited", 500: "server_error"}
MESSAGES = {400: "请求有误。", 401: "缺少 API 令牌：请在请求头加上 Authorization: Bearer <令牌>。",
            403: "您没有权限执行此操作。", 404: "要查找的记录不存在。", 405: "不支持该请求方法。",
            409: "操作未能完成。", 413: "请求内容过大。", 422: "提交的内容有误。",
            429: "请求过于频繁，请稍后再试。", 500: "系统出现意外错误。"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None,
                 field: str | None = None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field
        self.code = code or CODES.get(status, "error")


def bad_parameter(field: str, message: str) -> ApiError:
    return ApiError(400, message, "invalid_parameter", field)


def error_response(status: int, message: str, code: str | None = None,
                   field: str | None = None):
    response = jsonify(error={"code": code or CODES.get(status, "error"), "message": message,
                              "field": field})
    response.status_code = status
    return response


def is_api_path(path: str) -> bool:
    """The JSON API proper; /api/v1/ocds belongs to the open-data blueprint."""
    return path.startswith("/api/v1/") and not path.startswith("/api/v1/ocds")


def _http_error(exc: HTTPException):
    status = exc.code or 500
    if status == 401 and g.get("api_token_state") == "invalid":
        return error_response(401, "API 令牌无效或已撤销。", "invalid_token")
    message = MESSAGES.get(status, exc.description or "")
    response = error_response(status, message)
    valid = getattr(exc, "valid_methods", None)
    if status == 405 and valid:
        response.headers["Allow"] = ", ".join(valid)
    if status == 429 and getattr(exc, "retry_after", None):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def register(bp) -> None:
    @bp.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return error_response(exc.status, exc.message, exc.code, exc.field)

    @bp.errorhandler(PermissionDenied)
    def permission_denied(exc: PermissionDenied):
        return error_response(403, exc.message, "forbidden")

    @bp.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        status = 422 if exc.field else 409
        return error_response(status, exc.message, CODES[status], exc.field)

    bp.register_error_handler(HTTPException, _http_error)


def wrap_unmatched(app) -> None:
    """Unknown paths and wrong methods under /api/v1 never reach the blueprint's handlers;
    answer them in the same JSON shape. Called after the app's own error handlers exist."""
    previous = app.error_handler_spec[None][None].get(HTTPException)

    def handler(exc: HTTPException):
        if is_api_path(request.path):
            return _http_error(exc)
        return previous(exc)

    if previous is not None:
        app.register_error_handler(HTTPException, handler)
