"""政府购买服务管理平台 — the application factory."""
import os
from pathlib import Path

from flask import Flask, current_app, has_request_context, session
from flask_login import current_user

import config as config_module
from procurement.extensions import babel, configure_sqlite, bootstrap, csrf, db, limiter, login_manager, migrate

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def create_app(config: str | type | None = None, overrides: dict | None = None) -> Flask:
    """Build the app. `overrides` lets tests point at their own database before the
    extensions read the configuration."""
    if config is None or isinstance(config, str):
        config = config_module.CONFIGS[config or os.environ.get("PROCUREMENT_CONFIG", "development")]
    config.check()
    app = Flask(
        __name__,
        instance_path=str(config_module.INSTANCE_DIR),
        template_folder=str(PROJECT_DIR / "templates"),
        static_folder=str(PACKAGE_DIR / "static"),
    )
    app.config.from_object(config)
    app.config.update(overrides or {})
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(PACKAGE_DIR / "translations"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    _register_template_helpers(app)

    from procurement.core import permissions
    from procurement.core.errors import register_error_handlers

    permissions.init_app(app)
    register_error_handlers(app)
    from procurement import api

    api.finish(app)
    app.after_request(_security_headers)
    return app


def _select_locale() -> str:
    lang = session.get("lang") if has_request_context() else None
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(PROJECT_DIR / "migrations"), compare_type=True,
                 render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    bootstrap.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"

    # Models must be imported before migrations or queries see the metadata.
    from procurement import models  # noqa: F401
    from procurement.accounts.models import User

    @login_manager.user_loader
    def load_user(user_id: str):
        user_pk, _, token = user_id.partition(":")
        if not user_pk.isdigit():
            return None
        user = db.session.get(User, int(user_pk))
        # A rotated token (password reset, deactivation, new roles) ends old sessions.
        if user is None or not token or user.session_token != token or not user.is_active:
            return None
        return user


def _register_blueprints(app: Flask) -> None:
    from procurement.accounts.admin_views import bp as users_bp
    from procurement.accounts.views import bp as accounts_bp
    from procurement.audit.views import bp as audit_bp
    from procurement.home.views import bp as home_bp
    from procurement.opendata.views import bp as opendata_bp
    from procurement.contracts.views import bp as contracts_bp
    from procurement.disbursements.views import bp as disbursements_bp
    from procurement.orgs.views import bp as orgs_bp
    from procurement.evaluations.sheet_views import bp as sheets_bp
    from procurement.evaluations.survey_views import bp as surveys_bp
    from procurement.evaluations.survey_views import public_bp as survey_public_bp
    from procurement.evaluations.views import bp as evaluations_bp
    from procurement.tasks.record_views import bp as records_bp
    from procurement.tasks.register_views import bp as registers_bp
    from procurement.tasks.team_views import bp as team_bp
    from procurement.tasks.views import bp as cases_bp
    from procurement.tasks.work_views import bp as work_bp
    from procurement.tenders.bid_views import bp as bidding_bp
    from procurement.tenders.judge_views import bp as judging_bp
    from procurement.tenders.notice_views import bp as notices_bp
    from procurement.tenders.views import bp as tenders_bp

    for blueprint in (home_bp, accounts_bp, users_bp, orgs_bp, audit_bp, tenders_bp, bidding_bp,
                      judging_bp, notices_bp, contracts_bp, cases_bp, work_bp, records_bp,
                      registers_bp, team_bp, evaluations_bp, sheets_bp, surveys_bp,
                      survey_public_bp, disbursements_bp, opendata_bp):
        app.register_blueprint(blueprint)

    # The JSON API: bearer tokens only, so no CSRF (a session cookie never authenticates it).
    from procurement import api

    api.init_app(app)
    csrf.exempt(api.bp)


def _register_cli(app: Flask) -> None:
    from procurement.cli import register

    register(app)


def _register_template_helpers(app: Flask) -> None:
    from procurement.audit.labels import action_label, object_label
    from procurement.core.calendar import to_local
    from procurement.core.money import format_fen, format_yuan, from_fen, in_words
    from procurement.core.permissions import is_allowed
    from procurement.navigation import navigation

    @app.template_filter("local")
    def local_datetime(value, fmt="%Y-%m-%d %H:%M"):
        return to_local(value).strftime(fmt) if value else ""

    app.add_template_filter(format_fen, "fen")
    app.add_template_filter(format_yuan, "yuan")
    app.add_template_filter(lambda fen: in_words(from_fen(fen)), "fen_words")
    app.add_template_filter(action_label, "action_label")
    app.add_template_filter(object_label, "object_label")

    @app.template_global()
    def allowed(endpoint: str, method: str = "GET") -> bool:
        """Whether to show a link or button: the endpoint's own declared rule decides."""
        return is_allowed(current_user, endpoint, method)

    @app.context_processor
    def layout_context():
        return {
            "navigation": navigation(current_user) if current_user.is_authenticated else [],
            "current_locale": _select_locale(),
            "languages": app.config["LANGUAGES"],
        }


CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'")


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    # Pages behind a login must not be kept by shared or browser caches.
    if current_user.is_authenticated and response.mimetype == "text/html":
        headers["Cache-Control"] = "no-store"
    return response

