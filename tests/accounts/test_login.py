"""Signing in: hashed passwords, failure counting, lockout, throttling, forced change."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from conftest import PASSWORD
from procurement.accounts.models import User
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.core.calendar import now_utc


def _post_login(client, username, password, **kwargs):
    return client.post("/login", data={"username": username, "password": password}, **kwargs)


def test_passwords_are_stored_hashed(factory):
    user = factory.user(Role.ADMIN, org=factory.org("street_office"))
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith("pbkdf2:")


def test_production_hashing_is_scrypt():
    from config import Config
    assert Config.PASSWORD_HASH_METHOD == "scrypt"


def test_login_succeeds_and_lands_on_home(client, factory):
    user = factory.user(Role.TENDER_OFFICER)
    response = _post_login(client, user.username.upper(), PASSWORD)  # usernames are case-blind
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "待办事项" in client.get("/").get_data(as_text=True)


def test_wrong_password_and_unknown_user_get_the_same_message(client, factory):
    user = factory.user(Role.TENDER_OFFICER)
    wrong = _post_login(client, user.username, "Wrong-password-1").get_data(as_text=True)
    unknown = _post_login(client, "nobody", "Wrong-password-1").get_data(as_text=True)
    assert "用户名或密码错误" in wrong and "用户名或密码错误" in unknown


def test_failed_logins_are_audited(client, factory, db):
    user = factory.user(Role.TENDER_OFFICER)
    _post_login(client, user.username, "Wrong-password-1")
    actions = db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.object_type == "users", AuditEntry.object_id == str(user.id))).all()
    assert "user.login_failed" in actions


def test_repeated_failures_lock_the_account_even_for_the_right_password(app, client, factory, db):
    user = factory.user(Role.TENDER_OFFICER)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _post_login(client, user.username, "Wrong-password-1")
    db.session.refresh(user)
    assert user.locked_until is not None and user.locked_until > now_utc()
    response = _post_login(client, user.username, PASSWORD)
    assert response.status_code == 200
    assert "已锁定" in response.get_data(as_text=True)


def test_lock_expires_after_its_time(app, client, factory, db):
    user = factory.user(Role.TENDER_OFFICER)
    user.locked_until = now_utc() - timedelta(seconds=1)
    db.session.flush()
    assert _post_login(client, user.username, PASSWORD).status_code == 302


def test_login_posts_are_throttled_per_address(app, client, factory):
    user = factory.user(Role.TENDER_OFFICER)
    statuses = [_post_login(client, user.username, f"Wrong-{i}-password").status_code
                for i in range(12)]
    assert 429 in statuses, statuses
    assert statuses.index(429) == 10  # "10 per minute": the eleventh is refused


def test_deactivated_user_cannot_log_in(client, factory, db):
    user = factory.user(Role.TENDER_OFFICER)
    user.active = False
    db.session.flush()
    response = _post_login(client, user.username, PASSWORD)
    assert response.status_code == 200
    assert "已停用" in response.get_data(as_text=True)


def test_user_of_a_deactivated_organisation_cannot_log_in(client, factory, db):
    user = factory.user(Role.TENDER_OFFICER)
    user.org.active = False
    db.session.flush()
    assert _post_login(client, user.username, PASSWORD).status_code == 200


def test_initial_password_must_be_changed_before_anything_else(client, factory):
    user = factory.user(Role.TENDER_OFFICER, must_change=True)
    response = _post_login(client, user.username, PASSWORD)
    assert response.headers["Location"] == "/account/password"
    # Every other page sends the user back to the password form.
    assert client.get("/").headers["Location"] == "/account/password"
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "Brand-new-2026", "confirm": "Brand-new-2026"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("new, message", [
    ("short1", "至少需要"),
    ("onlyletterslong", "字母和数字"),
    ("1234567890123", "字母和数字"),
    ("a123456789", "过于简单"),
])
def test_password_policy_is_enforced_with_a_clear_message(client, factory, login, db, new, message):
    user = login(factory.user(Role.TENDER_OFFICER))
    before = user.password_hash
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": new, "confirm": new})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == before


def test_password_may_not_contain_the_username(client, factory, login):
    login(factory.user(Role.TENDER_OFFICER, username="chenxm"))
    new = "chenxm-2026-ok"
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": new, "confirm": new})
    assert "不能包含用户名" in response.get_data(as_text=True)


def test_changing_password_needs_the_current_one(client, factory, login):
    login(factory.user(Role.TENDER_OFFICER))
    response = client.post("/account/password", data={
        "current_password": "not-it-123", "new_password": "Brand-new-2026", "confirm": "Brand-new-2026"})
    assert "当前密码不正确" in response.get_data(as_text=True)


def test_password_change_signs_out_other_sessions(app, factory, login, client):
    user = factory.user(Role.TENDER_OFFICER)
    other = app.test_client()
    other.post("/login", data={"username": user.username, "password": PASSWORD})
    assert other.get("/").status_code == 200
    login(user)
    client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "Brand-new-2026", "confirm": "Brand-new-2026"})
    assert client.get("/").status_code == 200  # this session continues
    assert other.get("/").status_code == 302  # the other one is signed out


def test_logout_ends_the_session(client, factory, login):
    login(factory.user(Role.TENDER_OFFICER))
    assert client.post("/logout").status_code == 302
    assert client.get("/").headers["Location"].startswith("/login")


def test_login_never_redirects_to_another_site(client, factory):
    user = factory.user(Role.TENDER_OFFICER)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post("/login", query_string={"next": target},
                               data={"username": user.username, "password": PASSWORD})
        assert response.headers["Location"] == "/", target
        client.post("/logout")


def test_login_keeps_a_local_next_page(client, factory):
    user = factory.user(Role.ADMIN, org=factory.org("street_office"))
    response = client.post("/login", query_string={"next": "/admin/users/"},
                           data={"username": user.username, "password": PASSWORD})
    assert response.headers["Location"] == "/admin/users/"


@pytest.mark.parametrize("data", [
    {"username": "", "password": ""},
    {"username": "x" * 500, "password": "y"},
    {"username": "<script>alert(1)</script>", "password": "１２３"},
])
def test_bad_login_input_gets_a_message_not_an_error(client, data, db):
    users_before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    response = client.post("/login", data=data)
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == users_before
