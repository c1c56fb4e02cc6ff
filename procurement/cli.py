"""Command-line tools: `flask --app procurement <command>`. They call the same services as
the pages, so every rule holds here too."""
import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from procurement.core.errors import DomainError
from procurement.extensions import db

audit_cli = AppGroup("audit", help="审计日志")
users_cli = AppGroup("users", help="用户账号")
contracts_cli = AppGroup("contracts", help="合同")


@audit_cli.command("verify")
def audit_verify():
    """核验审计链，报告第一处断裂。"""
    from procurement.audit import verify_chain

    report = verify_chain()
    click.echo(report.message)
    if not report.ok:
        raise SystemExit(1)


@users_cli.command("create-admin")
@click.option("--username", required=True)
@click.option("--name", required=True)
@click.option("--org", "org_name", required=True, help="所属组织名称（街道办事处或政府部门），不存在时新建为政府部门")
def create_admin(username: str, name: str, org_name: str):
    """新建系统管理员（生产环境的第一个账号）。初始密码只显示一次。"""
    from procurement.accounts import services
    from procurement.accounts.roles import Role
    from procurement.orgs.models import OrgKind, Organisation
    from procurement.orgs.services import create_organisation

    try:
        org = db.session.execute(sa.select(Organisation).where(Organisation.name == org_name)).scalar_one_or_none()
        if org is None:
            org = create_organisation(None, kind=OrgKind.GOVERNMENT, name=org_name)
        user, password = services.create_user(None, username=username, name=name, org=org,
                                              roles=[Role.ADMIN])
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"已创建管理员 {user.username}，初始密码：{password}（首次登录须修改）")


@users_cli.command("reset-password")
@click.argument("username")
def reset_password_cmd(username: str):
    """重置某个用户的密码并解除锁定。"""
    from procurement.accounts import services
    from procurement.accounts.models import User

    user = db.session.execute(sa.select(User).where(User.username == username.lower())).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"没有用户 {username}")
    password = services.reset_password(None, user)
    db.session.commit()
    click.echo(f"已重置 {user.username} 的密码：{password}（首次登录须修改）")


@click.command("demo")
def demo_command():
    """载入灵源街道演示数据（已有数据时跳过）。"""
    from procurement.demo import load_demo

    created = load_demo()
    db.session.commit()
    click.echo("已载入灵源街道演示数据。" if created else "演示数据已存在，跳过。")


@contracts_cli.command("close-expired")
def close_expired():
    """把最后一天已过的合作标记为期满（可每日定时运行）。"""
    from procurement.contracts.models import Cooperation
    from procurement.contracts.services import end_if_expired
    from procurement.contracts.states import CooperationState

    ended = [c.number for c in db.session.scalars(
        sa.select(Cooperation).where(Cooperation.state == CooperationState.ACTIVE))
        if end_if_expired(None, c)]
    db.session.commit()
    click.echo(f"期满的合作：{'、'.join(ended)}" if ended else "没有到期的合作。")


def register(app: Flask) -> None:
    app.cli.add_command(audit_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(contracts_cli)
    app.cli.add_command(demo_command)

    from procurement.opendata.cli import ocds_cli

    app.cli.add_command(ocds_cli)
