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


def perform(operation):
    """Run one service call as the command's unit of work: commit on success; a refusal
    rolls back and becomes the command's error message."""
    try:
        result = operation()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    return result


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

    def create():
        org = db.session.execute(sa.select(Organisation).where(Organisation.name == org_name)).scalar_one_or_none()
        if org is None:
            org = create_organisation(None, kind=OrgKind.GOVERNMENT, name=org_name)
        return services.create_user(None, username=username, name=name, org=org,
                                    roles=[Role.ADMIN])

    user, password = perform(create)
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


token_cli = AppGroup("token", help="API 令牌")
users_cli.add_command(token_cli)


def _user_named(username: str):
    from procurement.accounts.models import User

    user = db.session.execute(sa.select(User).where(User.username == username.lower())).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"没有用户 {username}")
    return user


@token_cli.command("create")
@click.argument("username")
@click.option("--name", required=True, help="令牌名称，例如“数据同步脚本”")
def token_create(username: str, name: str):
    """为用户创建 API 令牌。令牌只显示这一次。"""
    from procurement.api.tokens import create_token

    user = _user_named(username)
    token, plain = perform(lambda: create_token(None, user, name))
    click.echo(f"已为 {user.username} 创建令牌 {token.id}（{token.name}）：{plain}")
    click.echo("令牌只显示这一次，请妥善保存。")


@token_cli.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int):
    """撤销一个 API 令牌（编号见 list）。"""
    from procurement.api.tokens import ApiToken, revoke_token

    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"没有编号为 {token_id} 的令牌")
    perform(lambda: revoke_token(None, token))
    click.echo(f"已撤销令牌 {token.id}（{token.name}）。")


@token_cli.command("list")
@click.argument("username")
def token_list(username: str):
    """列出用户的 API 令牌（只显示前缀）。"""
    from procurement.api.tokens import tokens_of

    tokens = tokens_of(_user_named(username))
    if not tokens:
        click.echo("没有令牌。")
    for token in tokens:
        state = "有效" if token.active else f"已撤销 {token.revoked_at:%Y-%m-%d %H:%M}"
        click.echo(f"{token.id}\t{token.prefix}…\t{token.name}\t{token.created_at:%Y-%m-%d %H:%M}\t{state}")


@click.command("demo")
def demo_command():
    """载入灵源街道演示数据（已有数据时跳过）。"""
    from procurement.demo import load_demo

    created = load_demo()
    db.session.commit()
    click.echo("已载入灵源街道演示数据。" if created else "演示数据已存在，跳过。")


@click.command("bench-seed")
@click.option("--communities", default=2000, show_default=True, type=click.IntRange(min=1),
              help="社区数（每个街道 10 个社区）")
@click.option("--seed", default=1, show_default=True, type=int, help="随机种子：相同的种子生成相同的数据")
def bench_seed_command(communities: int, seed: int):
    """生成城市规模的基准测试数据（只在空数据库或先前的基准测试数据库上运行）。"""
    import time

    from procurement.bench_seed import seed as bench_seed

    start = time.perf_counter()
    counts = perform(lambda: bench_seed(communities, seed))
    click.echo(f"已生成 {communities} 个社区的基准测试数据（种子 {seed}），"
               f"共 {sum(counts.values())} 行，用时 {time.perf_counter() - start:.1f} 秒。")
    for table, count in counts.items():
        click.echo(f"{table}\t{count}")


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


@click.command("backup")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def backup_command(path: str | None):
    """备份数据库和上传文件（默认存到 instance/backups/）。"""
    from procurement.backup import create_backup

    try:
        result = create_backup(path)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"数据库备份：{result.path}")
    click.echo(f"sha256：{result.sha256}")
    click.echo(f"上传文件归档（{result.upload_count} 个文件）：{result.uploads_path}")
    click.echo(f"sha256：{result.uploads_sha256}")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="不再询问，直接覆盖当前数据库")
def restore_command(path: str, yes: bool):
    """用备份覆盖当前数据库，恢复上传文件，再核验审计链（不完整时退出码为 1）。"""
    from procurement.backup import check_backup, missing_uploads, restore_backup

    try:
        check_backup(path)
        if not yes:
            click.confirm(f"当前数据库的全部内容将被 {path} 覆盖，继续吗？", abort=True)
        info, uploads, report = restore_backup(path)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"已从 {path} 恢复数据库。")
    if uploads is None:
        click.echo("备份旁没有上传文件归档，只恢复了数据库。")
    else:
        click.echo(f"已恢复 {uploads} 个上传文件。")
    if not info.is_current:
        click.echo("备份的数据库版本较旧，请运行 flask db upgrade。")
    missing = missing_uploads()
    if missing:
        click.echo(f"注意：有 {missing} 个上传文件在上传目录中找不到。")
    click.echo(report.message)
    if not report.ok:
        raise SystemExit(1)


def register(app: Flask) -> None:
    app.cli.add_command(audit_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(contracts_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(bench_seed_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)

    from procurement.opendata.cli import ocds_cli

    app.cli.add_command(ocds_cli)
