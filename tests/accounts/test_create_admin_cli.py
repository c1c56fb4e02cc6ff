"""`flask users create-admin`: the first account of a production install. It makes an
administrator with a one-time password shown once (the first login must change it), joins an
existing street office or government body or creates a government body, refuses bad input
with a message and writes nothing then, and is audited like `flask users reset-password`."""
import json
import re

import pytest
import sqlalchemy as sa

from conftest import row_counts
from procurement.accounts.models import User
from procurement.accounts.roles import Role
from procurement.audit import verify_chain
from procurement.audit.models import AuditEntry
from procurement.orgs.models import OrgKind, Organisation
from procurement.orgs.services import set_organisation_active

PASSWORD_SHOWN = re.compile(r"初始密码：(\S+?)（")


def flask(app, *args):
    """Run a command in its own application context, so it has its own session as in
    production: a refusal rolls back its own work, not the test's."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def create_admin(app, *args):
    return flask(app, "users", "create-admin", *args)


def _user(username: str) -> User | None:
    from procurement.extensions import db

    return db.session.scalar(sa.select(User).where(User.username == username))


def _entries(db, action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)))


def test_create_admin_makes_an_administrator_in_a_new_government_body(app, db):
    result = create_admin(app, "--username", "LinAdmin", "--name", "林志强",
                          "--org", "晋江市数据管理局")
    assert result.exit_code == 0, result.output
    user = _user("linadmin")  # usernames are kept in lower case
    assert user is not None and user.name == "林志强"
    assert user.role_values == {Role.ADMIN}
    assert (user.org.name, user.org.kind) == ("晋江市数据管理局", OrgKind.GOVERNMENT)
    assert user.must_change_password and user.is_active
    assert "linadmin" in result.output


def test_the_shown_password_signs_in_once_and_must_be_changed(app, db, client):
    result = create_admin(app, "--username", "firstadmin", "--name", "林志强",
                          "--org", "晋江市数据管理局")
    password = PASSWORD_SHOWN.search(result.output).group(1)
    assert password not in _user("firstadmin").password_hash
    response = client.post("/login", data={"username": "firstadmin", "password": password})
    assert response.status_code == 302
    assert client.get("/").headers["Location"].startswith("/account/password")


def test_create_admin_joins_an_existing_street_office(app, db, factory):
    office = factory.org(OrgKind.STREET_OFFICE, name="灵源街道办事处")
    before = row_counts(Organisation)
    result = create_admin(app, "--username", "lyadmin", "--name", "陈晓梅", "--org", office.name)
    assert result.exit_code == 0, result.output
    assert _user("lyadmin").org_id == office.id
    assert row_counts(Organisation) == before


def test_create_admin_is_audited_like_the_other_user_commands(app, db):
    result = create_admin(app, "--username", "auditme", "--name", "欧阳明",
                          "--org", "晋江市数据管理局")
    password = PASSWORD_SHOWN.search(result.output).group(1)
    user = _user("auditme")
    created = [e for e in _entries(db, "user.create") if e.object_id == str(user.id)]
    assert len(created) == 1 and created[0].actor_id is None
    assert [e.object_id for e in _entries(db, "org.create")] == [str(user.org_id)]

    reset = flask(app, "users", "reset-password", "auditme")
    assert reset.exit_code == 0, reset.output
    assert [e.object_id for e in _entries(db, "user.password_reset")] == [str(user.id)]
    # neither one-time password is written into the trail
    new_password = re.search(r"的密码：(\S+?)（", reset.output).group(1)
    trail = json.dumps([[e.before, e.after] for e in db.session.scalars(sa.select(AuditEntry))],
                       ensure_ascii=False, default=str)
    assert password not in trail and new_password not in trail
    assert verify_chain().ok


@pytest.fixture
def refused_orgs(factory):
    """An agency (cannot hold an administrator) and a deactivated government body."""
    factory.org(OrgKind.AGENCY, name="某社工机构")
    closed = factory.org(OrgKind.GOVERNMENT, name="已撤销的局")
    set_organisation_active(None, closed, False)
    factory.user(Role.ADMIN, org=factory.org(OrgKind.GOVERNMENT), username="taken")


@pytest.mark.parametrize("args, message", [
    (["--username", "taken", "--name", "张三", "--org", "晋江市数据管理局"], "已被使用"),
    (["--username", "TAKEN", "--name", "张三", "--org", "晋江市数据管理局"], "已被使用"),
    (["--username", "1admin", "--name", "张三", "--org", "晋江市数据管理局"], "用户名须以字母开头"),
    (["--username", "新管理员", "--name", "张三", "--org", "晋江市数据管理局"], "用户名须以字母开头"),
    (["--username", "newadmin", "--name", "   ", "--org", "晋江市数据管理局"], "请填写姓名"),
    (["--username", "newadmin", "--name", "张" * 41, "--org", "晋江市数据管理局"], "不能超过 40 个字"),
    (["--username", "newadmin", "--name", "张三", "--org", "  "], "请填写组织名称"),
    (["--username", "newadmin", "--name", "张三", "--org", "局" * 101], "不能超过 100 个字"),
    (["--username", "newadmin", "--name", "张三", "--org", "某社工机构"], "不能担任：系统管理员"),
    (["--username", "newadmin", "--name", "张三", "--org", "已撤销的局"], "该组织已停用"),
    (["--username", "newadmin", "--name", "张三"], "Missing option '--org'"),
], ids=["taken", "taken-in-capitals", "starts-with-digit", "not-latin", "blank-name",
        "long-name", "blank-org", "long-org", "agency", "inactive-org", "no-org"])
def test_create_admin_refuses_bad_input_with_a_message_and_writes_nothing(
        app, db, refused_orgs, args, message):
    before = row_counts(User, Organisation, AuditEntry)
    result = create_admin(app, *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "初始密码" not in result.output
    assert row_counts(User, Organisation, AuditEntry) == before
