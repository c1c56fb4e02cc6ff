"""The home page tells each user what to do next."""
from datetime import timedelta

from procurement.accounts.roles import Role
from procurement.core.calendar import now_utc


def test_home_says_so_when_there_is_nothing_to_do(client, login_as):
    login_as(Role.JUDGE)
    html = client.get("/").get_data(as_text=True)
    assert "目前没有需要您处理的事项" in html
    assert "独立为投标文件评分" in html  # the role's duties


def test_admin_sees_locked_accounts_first(client, factory, login, db):
    admin = login(factory.user(Role.ADMIN, org=factory.org("street_office")))
    locked = factory.user(Role.TENDER_OFFICER, org=admin.org)
    locked.locked_until = now_utc() + timedelta(minutes=5)
    factory.user(Role.TENDER_OFFICER, org=admin.org, must_change=True)
    db.session.flush()
    html = client.get("/").get_data(as_text=True)
    assert "1 个账号因连续登录失败被锁定" in html
    assert html.index("被锁定") < html.index("尚未修改初始密码")  # urgent items first


def test_admin_is_told_about_initial_passwords_and_unstaffed_organisations(client, factory, login):
    admin = login(factory.user(Role.ADMIN, org=factory.org("street_office")))
    factory.user(Role.TENDER_OFFICER, org=admin.org, must_change=True)
    factory.org("agency", name="无人机构")
    html = client.get("/").get_data(as_text=True)
    assert "1 个账号尚未修改初始密码" in html
    assert "无人机构还没有可用账号" in html


def test_auditor_is_asked_to_verify_the_chain(client, login_as):
    login_as(Role.AUDITOR)
    html = client.get("/").get_data(as_text=True)
    assert "核验审计链" in html


def test_menu_shows_only_what_the_role_may_open(client, login_as):
    login_as(Role.AGENCY_STAFF)
    html = client.get("/").get_data(as_text=True)
    assert "/admin/users/" not in html and "/audit/" not in html


def test_admin_menu_links_to_administration(client, login_as):
    login_as(Role.ADMIN)
    html = client.get("/").get_data(as_text=True)
    assert "/admin/users/" in html and "/admin/orgs/" in html and "/audit/" not in html
