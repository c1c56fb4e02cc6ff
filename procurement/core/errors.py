"""Domain errors and the error pages.

Services raise DomainError with a message in Chinese; views show it and change nothing.
"""
from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """A business rule refused the operation. The message is shown to the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidTransition(DomainError):
    """An illegal state change."""


class PermissionDenied(DomainError):
    """The user may not do this to this object (shown as 403)."""


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def register_error_handlers(app: Flask) -> None:
    titles = {
        400: _l("请求有误"),
        401: _l("请先登录"),
        403: _l("没有权限"),
        404: _l("页面不存在"),
        405: _l("不支持的操作"),
        409: _l("操作未能完成"),
        413: _l("上传的文件过大"),
        429: _l("操作过于频繁"),
        500: _l("系统错误"),
    }

    def render(code: int, message: str | None = None):
        title = str(titles.get(code, _("出错了")))
        if _wants_json():
            return jsonify(error={"code": code, "message": message or title}), code
        return render_template("errors/error.html", code=code, title=title, message=message), code

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        message = None
        if exc.code == 429:
            message = _("请求过于频繁，请稍后再试。")
        elif exc.code == 413:
            limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
            message = _("一次上传的文件合计不能超过 %(mb)s MB，请减少或压缩附件后重试。",
                        mb=limit // (1024 * 1024))
        elif exc.code == 400 and "CSRF" in (exc.description or ""):
            message = _("表单已过期或来源无效，请刷新页面后重新提交。")
        return render(exc.code or 500, message)

    @app.errorhandler(PermissionDenied)
    def permission_denied(exc: PermissionDenied):
        return render(403, exc.message)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return render(409, exc.message)

    if app.testing:
        return  # let tests see the real exception instead of a polite 500 page

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("Unhandled error on %s", request.path)
        from procurement.extensions import db

        db.session.rollback()
        return render(500, _("系统出现意外错误，操作未保存。请稍后再试或联系管理员。"))
