"""Helpers for thin views: pagination and safe redirects."""
from urllib.parse import urlsplit

from flask import current_app, flash, request

from procurement.core.errors import DomainError
from procurement.core.forms import show_domain_error
from procurement.extensions import db


def paginate(query, per_page: int | None = None):
    """Paginate a select; a nonsense page number gives the first page, not an error."""
    page = request.args.get("page", 1, type=int) or 1
    return db.paginate(query, page=max(page, 1), per_page=per_page or current_app.config["PER_PAGE"],
                       error_out=False, max_per_page=100)


def safe_next(target: str | None, default: str) -> str:
    """Only local paths: never redirect a user to another site after login."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return default
    return target



def perform(operation, done, form=None):
    """Run one service call as the request's single unit of work.

    On success commit and flash `done` (a string, or a function of the result); on a
    DomainError roll back and show the message on the form's field (or flash it without a
    form). Returns the service's result, or None when it was refused.
    """
    try:
        result = operation()
    except DomainError as exc:
        db.session.rollback()
        if form is not None:
            show_domain_error(form, exc)
        else:
            flash(exc.message, "danger")
        return None
    db.session.commit()
    flash(done(result) if callable(done) else done, "success")
    return result
