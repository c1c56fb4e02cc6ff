"""Cross-cutting security: headers, cookies, CSRF on every form, nothing from the internet."""
import re

import pytest

from procurement.accounts.roles import Role


def test_security_headers_are_sent(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_http_only_and_same_site(client, factory):
    from conftest import PASSWORD

    user = factory.user(Role.TENDER_OFFICER)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("procurement_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure_and_need_a_secret_key(monkeypatch):
    import config

    assert config.ProductionConfig.SESSION_COOKIE_SECURE is True
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.ProductionConfig.check()


def test_signed_in_pages_are_not_cached(client, login_as):
    login_as(Role.TENDER_OFFICER)
    assert client.get("/").headers["Cache-Control"] == "no-store"


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def test_every_post_endpoint_refuses_a_post_without_csrf_token(app, client, factory, login, csrf_on):
    admin = factory.user(Role.ADMIN, org=factory.org("street_office"))
    community = factory.community()
    # Sign in with a token, as a browser would.
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    from conftest import PASSWORD
    assert client.post("/login", data={"username": admin.username, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    args = {"user_id": admin.id, "org_id": admin.org_id, "community_id": community.id}
    from flask import url_for
    checked = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint == "accounts.logout":
            continue
        with app.test_request_context():
            # CSRF is checked before any lookup, so ids of nothing are as good as real ones.
            url = url_for(rule.endpoint, **{a: args.get(a, 10**6) for a in rule.arguments})
        response = client.post(url, data={})
        if rule.endpoint.startswith("api."):
            # The API ignores the session cookie (bearer tokens only), so a forged
            # cross-site post carries no credentials at all: no CSRF token is needed.
            assert response.status_code == 401, f"{rule.endpoint} took the session cookie"
            continue
        assert response.status_code == 400, f"{rule.endpoint} accepted a post without CSRF token"
        assert "表单已过期" in response.get_data(as_text=True)
        checked.append(rule.endpoint)
    assert len(checked) >= 10
    # Logout too: without a token the session stays.
    client.post("/logout", data={})
    assert client.get("/").status_code == 200


def test_pages_load_nothing_from_the_internet(client, login_as):
    login_as(Role.ADMIN)
    for url in ("/login", "/", "/admin/users/", "/admin/orgs/"):
        html = client.get(url).get_data(as_text=True)
        external = re.findall(r'(?:src|href)="((?:https?:)?//[^"]+)"', html)
        assert not external, f"{url} loads {external}"


def test_bootstrap_is_served_from_the_package(client):
    html = client.get("/login").get_data(as_text=True)
    css = re.search(r'href="(/bootstrap/static/[^"]+\.css)"', html).group(1)
    js = re.search(r'src="(/bootstrap/static/[^"]+\.js)"', html).group(1)
    assert client.get(css).status_code == 200
    assert client.get(js).status_code == 200


def test_unknown_pages_get_a_chinese_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_healthz_answers_without_login(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
