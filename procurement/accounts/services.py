"""Account operations: check → change → audit → flush. The request commits."""
import re
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from procurement.accounts.models import User, UserRole, new_session_token
from procurement.accounts.passwords import (
    check_policy,
    dummy_verify,
    generate_initial_password,
    hash_password,
    verify_password,
)
from procurement.accounts.roles import ROLE_ORG_KINDS, Role
from procurement.audit import record, snapshot
from procurement.core.calendar import now_utc, to_local
from procurement.core.errors import DomainError
from procurement.extensions import db
from procurement.orgs.models import Organisation

USER_FIELDS = ("username", "name", "org_id", "title", "phone", "email", "active")
USERNAME_RE = re.compile(r"[a-z][a-z0-9_.-]{2,39}")


def _user_snapshot(user: User) -> dict:
    return {**snapshot(user, *USER_FIELDS), "roles": sorted(str(r) for r in user.roles)}


def normalise_username(username: str) -> str:
    username = (username or "").strip().lower()
    if not USERNAME_RE.fullmatch(username):
        raise DomainError("用户名须以字母开头，3 到 40 位，只能包含小写字母、数字、点、下划线和连字符。",
                          field="username")
    return username


def check_name(name: str) -> str:
    """A person's name as stored: required, at most the column's 40 characters."""
    name = (name or "").strip()
    if not name:
        raise DomainError("请填写姓名。", field="name")
    if len(name) > 40:
        raise DomainError("姓名不能超过 40 个字。", field="name")
    return name


def check_roles(org: Organisation, roles) -> set[Role]:
    try:
        roles = {Role(r) for r in roles}
    except ValueError:
        raise DomainError("包含未知的角色。", field="roles") from None
    if not roles:
        raise DomainError("请至少选择一个角色。", field="roles")
    wrong = sorted(r.label for r in roles if org.kind not in ROLE_ORG_KINDS[r])
    if wrong:
        raise DomainError(f"{org.kind.label}的用户不能担任：{'、'.join(wrong)}。", field="roles")
    return roles


def _set_roles(user: User, roles: set[Role]) -> None:
    keep = [row for row in user.role_rows if row.role in roles]
    have = {row.role for row in keep}
    user.role_rows = keep + [UserRole(role=r) for r in sorted(roles - have)]


def create_user(actor, *, username: str, name: str, org: Organisation, roles,
                title: str | None = None, phone: str | None = None, email: str | None = None,
                password: str | None = None, must_change_password: bool = True
                ) -> tuple[User, str]:
    """Create an account; returns it with its initial password (shown once, never stored)."""
    username = normalise_username(username)
    name = check_name(name)
    if db.session.execute(sa.select(User.id).where(User.username == username)).first():
        raise DomainError(f"用户名“{username}”已被使用。", field="username")
    if not org.active:
        raise DomainError("该组织已停用，不能新增用户。", field="org")
    roles = check_roles(org, roles)
    if password is None:
        password = generate_initial_password()
    else:
        check_policy(password, username)
    user = User(username=username, name=name.strip(), org=org, title=title or None,
                phone=phone or None, email=email or None,
                password_hash=hash_password(password), must_change_password=must_change_password)
    _set_roles(user, roles)
    db.session.add(user)
    record(actor, "user.create", user, None, _user_snapshot(user))
    return user, password


def update_user(actor, user: User, *, name: str, org: Organisation, roles,
                title: str | None = None, phone: str | None = None,
                email: str | None = None) -> User:
    name = check_name(name)
    roles = check_roles(org, roles)
    if actor is not None and actor.id == user.id and Role.ADMIN not in roles:
        raise DomainError("不能取消您自己的系统管理员角色。", field="roles")
    if org.id != user.org_id and not org.active:
        raise DomainError("不能把用户调入已停用的组织。", field="org")
    before = _user_snapshot(user)
    user.name, user.org = name.strip(), org
    user.title, user.phone, user.email = title or None, phone or None, email or None
    _set_roles(user, roles)
    db.session.flush()
    after = _user_snapshot(user)
    if after != before:
        if after["org_id"] != before["org_id"] or after["roles"] != before["roles"]:
            user.session_token = new_session_token()  # new rights start with a new login
        record(actor, "user.update", user, before, after)
    return user


def set_user_active(actor, user: User, active: bool) -> User:
    if user.active == active:
        raise DomainError("该账号已启用。" if active else "该账号已停用。")
    if actor is not None and actor.id == user.id:
        raise DomainError("不能停用您自己的账号。")
    before = snapshot(user, "active")
    user.active = active
    user.session_token = new_session_token()
    record(actor, "user.activate" if active else "user.deactivate", user, before,
           snapshot(user, "active"))
    return user


def reset_password(actor, user: User) -> str:
    """Give a new one-time password, unlock the account and sign it out everywhere."""
    password = generate_initial_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    user.session_token = new_session_token()
    record(actor, "user.password_reset", user, None, {"must_change_password": True})
    return password


def change_password(user: User, current: str, new: str) -> User:
    if not verify_password(user.password_hash, current):
        raise DomainError("当前密码不正确。", field="current_password")
    if current == new:
        raise DomainError("新密码不能与当前密码相同。", field="new_password")
    check_policy(new, user.username)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = now_utc()
    user.session_token = new_session_token()
    record(user, "user.password_change", user, None, {"must_change_password": False})
    return user


@dataclass
class LoginResult:
    user: User | None
    refused: str | None = None


def authenticate(username: str, password: str) -> LoginResult:
    """Check a login and count failures. Returns a result instead of raising, because a
    refused login still has to be committed (failure count, lock, audit)."""
    now = now_utc()
    generic = "用户名或密码错误。"
    username = (username or "").strip().lower()
    user = db.session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        dummy_verify(password)
        record(None, "user.login_failed", None, None, {"username": username[:40]},
               label=username[:40] or "-")
        return LoginResult(None, generic)
    if user.is_locked(now):
        until = to_local(user.locked_until).strftime("%H:%M")
        return LoginResult(None, f"连续登录失败次数过多，账号已锁定，请于 {until} 后再试或联系管理员。")
    if not verify_password(user.password_hash, password):
        cfg = current_app.config
        user.failed_logins += 1
        if user.failed_logins >= cfg["LOGIN_MAX_FAILURES"]:
            user.failed_logins = 0
            user.locked_until = now + timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
            record(None, "user.locked", user, None, snapshot(user, "locked_until"))
            return LoginResult(
                None, f"连续登录失败次数过多，账号已锁定 {cfg['LOGIN_LOCK_MINUTES']} 分钟。")
        record(None, "user.login_failed", user, None, snapshot(user, "failed_logins"))
        return LoginResult(None, generic)
    if not user.is_active:
        return LoginResult(None, "账号已停用，请联系系统管理员。")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record(user, "user.login", user)
    return LoginResult(user)
