"""Home-page to-dos of the foundation: account administration and the audit trail."""
from datetime import timedelta

import sqlalchemy as sa
from flask import url_for

from procurement.accounts.models import User, UserRole
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.core.calendar import now_utc
from procurement.extensions import db
from procurement.home.todos import Todo, provides
from procurement.orgs.models import OrgKind, Organisation


@provides(Role.ADMIN)
def admin_todos(user) -> list[Todo]:
    items = []
    locked = db.session.scalar(sa.select(sa.func.count()).select_from(User)
                               .where(User.locked_until > now_utc()))
    if locked:
        items.append(Todo(f"{locked} 个账号因连续登录失败被锁定", url_for("users.index", status="locked"),
                          "核实是否本人操作；如需立即解锁，请重置密码。", urgent=True))
    pending = db.session.scalar(sa.select(sa.func.count()).select_from(User)
                                .where(User.must_change_password, User.active))
    if pending:
        items.append(Todo(f"{pending} 个账号尚未修改初始密码", url_for("users.index"),
                          "提醒这些用户登录并设置自己的密码。"))
    # Organisations nobody can act for yet (no active user).
    staffed = sa.select(User.org_id).where(User.active)
    empty = db.session.execute(
        sa.select(Organisation).where(Organisation.active, Organisation.id.not_in(staffed))
        .order_by(Organisation.kind, Organisation.name).limit(5)
    ).scalars().all()
    for org in empty:
        items.append(Todo(f"{org.name}还没有可用账号", url_for("users.create"),
                          f"{org.kind.label}需要至少一名用户才能参与业务。"))
    no_office_staff = db.session.execute(
        sa.select(Organisation.name).where(
            Organisation.kind == OrgKind.STREET_OFFICE, Organisation.active,
            Organisation.id.not_in(sa.select(User.org_id).join(UserRole)
                                   .where(UserRole.role == Role.TENDER_OFFICER)))
    ).scalars().all()
    for name in no_office_staff:
        items.append(Todo(f"{name}尚无招标专员", url_for("users.create"),
                          "招标需要至少一名招标专员。"))
    return items


@provides(Role.AUDITOR)
def auditor_todos(user) -> list[Todo]:
    since = now_utc() - timedelta(days=7)
    recent = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                               .where(AuditEntry.occurred_at >= since))
    items = [Todo("核验审计链", url_for("audit.verify"), "确认所有记录未被篡改。")]
    if recent:
        items.append(Todo(f"最近 7 天有 {recent} 条审计记录", url_for("audit.index"),
                          "查阅最近的变更。"))
    return items
