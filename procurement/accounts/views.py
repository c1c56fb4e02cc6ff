"""Sign in and out, and each user's own account."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from procurement.accounts import services
from procurement.accounts.forms import ChangePasswordForm, ConfirmForm, LoginForm
from procurement.accounts.roles import ROLE_DUTIES
from procurement.core.errors import DomainError
from procurement.core.forms import show_domain_error
from procurement.core.pages import safe_next
from procurement.core.permissions import authenticated, public
from procurement.extensions import db, limiter

bp = Blueprint("accounts", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        result = services.authenticate(form.username.data, form.password.data)
        db.session.commit()  # failures and locks count even though the login is refused
        if result.user is None:
            flash(result.refused, "danger")
        else:
            lang = session.get("lang")
            session.clear()  # nothing from before the login carries over (no fixation)...
            if lang:
                session["lang"] = lang  # ...except the language the user chose
            session.permanent = True
            login_user(result.user)
            if result.user.must_change_password:
                flash(_("这是初始密码，请先设置您自己的密码。"), "warning")
                return redirect(url_for("accounts.change_password"))
            return redirect(safe_next(request.args.get("next"), url_for("home.index")))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@authenticated
def logout():
    form = ConfirmForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash(_("您已安全退出。"), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@authenticated
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data,
                                     form.new_password.data)
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc, default_field="new_password")
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # the new session token
            flash(_("密码已修改。"), "success")
            return redirect(url_for("home.index"))
    return render_template("accounts/change_password.html", form=form)


@bp.route("/account")
@authenticated
def profile():
    from procurement.api.forms import TokenForm
    from procurement.api.tokens import tokens_of

    return render_template("accounts/profile.html", user=current_user, duties=ROLE_DUTIES,
                           tokens=tokens_of(current_user), token_form=TokenForm(),
                           revoke_form=ConfirmForm())


@bp.route("/account/tokens", methods=["POST"])
@authenticated
def create_token():
    """The new token is shown on this response only, never stored or redirected with."""
    from procurement.api.forms import TokenForm
    from procurement.api.tokens import create_token as create, tokens_of

    form = TokenForm()
    plain = None
    if form.validate_on_submit():
        try:
            _, plain = create(current_user, current_user, form.name.data)
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            db.session.commit()
            form = TokenForm(formdata=None)
    status = 200 if plain else 422
    return render_template("accounts/profile.html", user=current_user, duties=ROLE_DUTIES,
                           tokens=tokens_of(current_user), token_form=form,
                           revoke_form=ConfirmForm(), new_token=plain), status


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@authenticated
def revoke_token(token_id: int):
    from procurement.api.tokens import ApiToken, revoke_token as revoke
    from procurement.core.pages import perform

    token = db.get_or_404(ApiToken, token_id)
    if token.user_id != current_user.id:
        abort(404)  # someone else's token: not even its existence is told
    if ConfirmForm().validate_on_submit():
        perform(lambda: revoke(current_user, token), _("令牌已撤销。"))
    return redirect(url_for("accounts.profile"))
