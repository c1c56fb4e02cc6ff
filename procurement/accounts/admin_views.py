"""User administration: list, create, edit, deactivate, reset password."""
import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from procurement.accounts import services
from procurement.accounts.forms import ConfirmForm, UserFilterForm, UserForm
from procurement.accounts.models import User, UserRole
from procurement.accounts.roles import Role
from procurement.core.calendar import now_utc
from procurement.core.errors import DomainError
from procurement.core.pages import paginate, perform
from procurement.core.permissions import allow
from procurement.documents.excel import xlsx_response
from procurement.extensions import db
from procurement.orgs.models import Organisation

bp = Blueprint("users", __name__, url_prefix="/admin/users")


def _org_choices():
    orgs = db.session.execute(
        sa.select(Organisation.id, Organisation.name, Organisation.kind)
        .where(Organisation.active).order_by(Organisation.kind, Organisation.name)
    ).all()
    return [(o.id, f"{o.name}（{o.kind.label}）") for o in orgs]


def _filtered_users(form: UserFilterForm):
    query = sa.select(User).join(User.org).options(selectinload(User.role_rows))
    if form.q.data:
        like = f"%{form.q.data}%"
        query = query.where(sa.or_(User.username.ilike(like), User.name.ilike(like),
                                   Organisation.name.ilike(like)))
    if form.role.data:
        query = query.where(User.id.in_(sa.select(UserRole.user_id)
                                        .where(UserRole.role == Role(form.role.data))))
    if form.status.data == "active":
        query = query.where(User.active)
    elif form.status.data == "inactive":
        query = query.where(~User.active)
    elif form.status.data == "locked":
        query = query.where(User.locked_until > now_utc())
    return query.order_by(Organisation.name, User.username)


@bp.route("/")
@allow(Role.ADMIN, read_only=[Role.AUDITOR])
def index():
    form = UserFilterForm(request.args)
    query = _filtered_users(form) if form.validate() else sa.select(User).where(sa.false())
    return render_template("accounts/users.html", form=form, page=paginate(query), now=now_utc())


@bp.route("/export.xlsx")
@allow(Role.ADMIN, read_only=[Role.AUDITOR])
def export():
    form = UserFilterForm(request.args)
    query = _filtered_users(form) if form.validate() else sa.select(User).where(sa.false())
    users = db.session.execute(query).scalars()
    rows = ([u.username, u.name, u.org.name, "、".join(r.label for r in sorted(u.roles)),
             u.title or "", u.phone or "", "启用" if u.active else "停用", u.last_login_at]
            for u in users)
    return xlsx_response("用户名单", ["用户名", "姓名", "所属组织", "角色", "职务", "联系电话",
                                     "状态", "最近登录"], rows)


@bp.route("/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def create():
    form = UserForm(org_choices=_org_choices())
    if form.validate_on_submit():
        created = perform(
            lambda: services.create_user(
                current_user, username=form.username.data, name=form.name.data,
                org=_chosen_org(form), roles=form.roles.data, title=form.title.data,
                phone=form.phone.data, email=form.email.data),
            lambda result: _("已创建账号 %(username)s，初始密码：%(password)s（只显示这一次，请当面或电话告知本人，首次登录须修改）",
                             username=result[0].username, password=result[1]),
            form)
        if created:
            return redirect(url_for("users.show", user_id=created[0].id))
    return render_template("accounts/user_form.html", form=form, user=None)


def _chosen_org(form) -> Organisation:
    org = db.session.get(Organisation, form.org_id.data)
    if org is None:
        raise DomainError("请选择所属组织。", field="org_id")
    return org


def _get_user(user_id: int) -> User:
    return db.get_or_404(User, user_id)


@bp.route("/<int:user_id>")
@allow(Role.ADMIN, read_only=[Role.AUDITOR])
def show(user_id: int):
    return render_template("accounts/user.html", user=_get_user(user_id), form=ConfirmForm(),
                           now=now_utc())


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit(user_id: int):
    user = _get_user(user_id)
    form = UserForm(obj=user, org_choices=_org_choices())
    form.username.render_kw = {"readonly": True}
    if request.method == "GET":
        form.roles.data = [str(r) for r in user.roles]
    form.username.data = user.username  # the login name never changes
    if form.validate_on_submit() and perform(
            lambda: services.update_user(current_user, user, name=form.name.data,
                                         org=_chosen_org(form), roles=form.roles.data,
                                         title=form.title.data, phone=form.phone.data,
                                         email=form.email.data),
            _("已保存。"), form):
        return redirect(url_for("users.show", user_id=user.id))
    return render_template("accounts/user_form.html", form=form, user=user)


def _post_action(user_id: int, action, done):
    user = _get_user(user_id)
    if ConfirmForm().validate_on_submit():
        perform(lambda: action(user), done)
    return redirect(url_for("users.show", user_id=user.id))


@bp.route("/<int:user_id>/deactivate", methods=["POST"])
@allow(Role.ADMIN)
def deactivate(user_id: int):
    return _post_action(user_id, lambda u: services.set_user_active(current_user, u, False),
                        lambda u: _("已停用账号 %(username)s，该用户已被强制退出。", username=u.username))


@bp.route("/<int:user_id>/activate", methods=["POST"])
@allow(Role.ADMIN)
def activate(user_id: int):
    return _post_action(user_id, lambda u: services.set_user_active(current_user, u, True),
                        lambda u: _("已启用账号 %(username)s。", username=u.username))


@bp.route("/<int:user_id>/reset-password", methods=["POST"])
@allow(Role.ADMIN)
def reset_password(user_id: int):
    return _post_action(user_id, lambda u: services.reset_password(current_user, u),
                        lambda password: _("已重置密码并解除锁定。临时密码：%(password)s"
                                           "（只显示这一次，首次登录须修改）", password=password))
