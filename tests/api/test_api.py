"""The JSON API: bearer tokens only, the pages' scoping, sealed bids, JSON errors, paging,
ETags and the generated OpenAPI document."""
import json
import re

import pytest
import sqlalchemy as sa

from procurement.accounts.roles import Role
from procurement.api.spec import api_rules
from procurement.api.tokens import ApiToken, authenticate, create_token, revoke_token
from procurement.audit.models import AuditEntry
from procurement.extensions import db, limiter


def bearer(plain: str) -> dict:
    return {"Authorization": f"Bearer {plain}"}


@pytest.fixture
def token_for():
    def make(user, name="测试脚本"):
        _, plain = create_token(user, user, name)
        return plain
    return make


# --- tokens ------------------------------------------------------------------------------


def test_only_a_hash_of_the_token_is_stored_and_revoking_ends_it(factory):
    user = factory.user(Role.AUDITOR)
    token, plain = create_token(user, user, "同步")
    assert plain not in (token.token_hash, token.prefix) and plain.startswith(token.prefix)
    assert authenticate(f"Bearer {plain}").user == user
    revoke_token(user, token)
    assert authenticate(f"Bearer {plain}") is None
    actions = db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.object_type == "api_tokens", AuditEntry.object_id == str(token.id))).all()
    assert sorted(actions) == ["api.token_create", "api.token_revoke"]


def test_a_token_of_a_deactivated_user_stops_working(factory):
    user = factory.user(Role.AUDITOR)
    _, plain = create_token(user, user, "同步")
    user.active = False
    db.session.flush()
    assert authenticate(f"Bearer {plain}") is None


def test_profile_page_creates_a_token_shown_once_and_revokes_it(factory, sign_in):
    user = factory.user(Role.AUDITOR)
    client = sign_in(user)
    response = client.post("/account/tokens", data={"name": "数据同步"})
    assert response.status_code == 200
    plain = re.search(r'id="new-token">([^<]+)<', response.get_data(as_text=True)).group(1)
    assert client.get("/api/v1/tenders", headers=bearer(plain)).status_code == 200
    assert plain not in client.get("/account").get_data(as_text=True)  # shown once only
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    assert client.get("/api/v1/tenders", headers=bearer(plain)).status_code == 401


def test_profile_page_refuses_an_empty_name_and_another_users_token(factory, sign_in, token_for):
    user, other = factory.user(Role.AUDITOR), factory.user(Role.AUDITOR)
    client = sign_in(user)
    response = client.post("/account/tokens", data={"name": "  "})
    assert response.status_code == 422 and "new-token" not in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken).where(
        ApiToken.user_id == user.id)) == 0
    plain = token_for(other)
    theirs = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == other.id))
    assert client.post(f"/account/tokens/{theirs.id}/revoke").status_code == 404
    assert authenticate(f"Bearer {plain}") is not None


def test_cli_creates_lists_and_revokes_tokens(app, factory):
    user = factory.user(Role.AUDITOR)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "token", "create", user.username, "--name", "脚本"])
    assert result.exit_code == 0, result.output
    plain = re.search(r"(gps_\S+)", result.output).group(1)
    assert authenticate(f"Bearer {plain}").user_id == user.id
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    listed = runner.invoke(args=["users", "token", "list", user.username]).output
    assert token.prefix in listed and plain not in listed
    assert runner.invoke(args=["users", "token", "revoke", str(token.id)]).exit_code == 0
    assert authenticate(f"Bearer {plain}") is None
    assert runner.invoke(args=["users", "token", "revoke", str(token.id)]).exit_code != 0
    assert runner.invoke(args=["users", "token", "create", "nobody", "--name", "x"]).exit_code != 0


# --- authentication ----------------------------------------------------------------------


def test_without_a_token_or_with_a_bad_one_the_answer_is_401_json(client, factory, token_for):
    response = client.get("/api/v1/tenders")
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"
    response = client.get("/api/v1/tenders", headers=bearer("gps_forged"))
    assert response.status_code == 401 and response.json["error"]["code"] == "invalid_token"
    user = factory.user(Role.AUDITOR)
    plain = token_for(user)
    revoke_token(user, db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id)))
    response = client.get("/api/v1/tenders", headers=bearer(plain))
    assert response.status_code == 401 and response.json["error"]["code"] == "invalid_token"


def test_a_session_cookie_alone_does_not_authenticate_the_api(factory, sign_in):
    client = sign_in(factory.user(Role.AUDITOR))
    assert client.get("/account").status_code == 200  # the session works for pages
    response = client.get("/api/v1/tenders")
    assert response.status_code == 401 and "error" in response.json


def test_a_token_answers_as_its_user_even_beside_another_users_session(factory, sign_in,
                                                                       token_for, past):
    tender = past.published()
    agency_user = past.agency_users[0]
    client = sign_in(factory.user(Role.AUDITOR))  # the auditor would see the tender
    outsider = factory.user(Role.AGENCY_STAFF)
    response = client.get(f"/api/v1/tenders/{tender.id}", headers=bearer(token_for(outsider)))
    assert response.status_code == 404
    response = client.get(f"/api/v1/tenders/{tender.id}", headers=bearer(token_for(agency_user)))
    assert response.status_code == 200 and response.json["data"]["id"] == tender.id


def test_rate_limit_applies_per_token(app, client, factory, token_for, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    limiter.reset()
    first, second = token_for(factory.user(Role.AUDITOR)), token_for(factory.user(Role.AUDITOR))
    codes = [client.get("/api/v1/agreements", headers=bearer(first)).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/api/v1/agreements", headers=bearer(first))
    assert refused.json["error"]["code"] == "rate_limited"
    assert client.get("/api/v1/agreements", headers=bearer(second)).status_code == 200
    limiter.reset()


# --- sealing and bids --------------------------------------------------------------------


def test_an_agency_token_cannot_read_any_bid_before_opening(client, past, token_for):
    tender = past.with_bids((60_000_000, 64_000_000))
    own = tender.bids[0]
    plain = token_for(past.agency_users[0])
    for bid in tender.bids:
        response = client.get(f"/api/v1/tenders/{tender.id}/bids/{bid.id}", headers=bearer(plain))
        assert response.status_code == 403 and response.json["error"]["code"] == "bid_sealed"
    detail = client.get(f"/api/v1/tenders/{tender.id}", headers=bearer(plain)).json["data"]
    assert detail["bids"] == [] and detail["opened"] is False
    body = client.get(f"/api/v1/tenders/{tender.id}", headers=bearer(plain)).get_data(as_text=True)
    assert "600000" not in body and own.proposal not in body


def test_after_opening_an_agency_token_reads_its_own_bid_but_not_anothers(client, past,
                                                                         token_for):
    tender = past.opened((60_000_000, 64_000_000, 70_000_000))
    own, other, third = tender.bids
    plain = token_for(past.agency_users[0])
    response = client.get(f"/api/v1/tenders/{tender.id}/bids/{own.id}", headers=bearer(plain))
    assert response.status_code == 200 and response.json["data"]["price"] == "600000.00"
    response = client.get(f"/api/v1/tenders/{tender.id}/bids/{other.id}", headers=bearer(plain))
    assert response.status_code == 403
    detail = client.get(f"/api/v1/tenders/{tender.id}", headers=bearer(plain)).json["data"]
    assert [b["id"] for b in detail["bids"]] == [own.id]
    officer = client.get(f"/api/v1/tenders/{tender.id}",
                         headers=bearer(token_for(past.officer))).json["data"]
    assert sorted(b["id"] for b in officer["bids"]) == sorted([own.id, other.id, third.id])


def test_a_bid_under_the_wrong_tender_is_not_found(client, past, token_for):
    tender = past.opened((60_000_000, 64_000_000, 70_000_000))
    other = past.published()
    response = client.get(f"/api/v1/tenders/{other.id}/bids/{tender.bids[0].id}",
                          headers=bearer(token_for(past.officer)))
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


# --- scoping -----------------------------------------------------------------------------


def test_tender_list_is_scoped_like_the_pages(client, factory, past, token_for):
    tender = past.published()
    other_office = factory.user(Role.TENDER_OFFICER, org=factory.org("street_office"))
    ids = lambda user: [t["id"] for t in client.get(  # noqa: E731
        "/api/v1/tenders", headers=bearer(token_for(user))).json["data"]]
    assert tender.id in ids(past.officer)
    assert tender.id in ids(past.agency_users[0])  # invited
    assert tender.id not in ids(other_office)
    assert tender.id not in ids(factory.user(Role.AGENCY_STAFF))  # not invited
    assert client.get(f"/api/v1/tenders/{tender.id}",
                      headers=bearer(token_for(other_office))).status_code == 404


def test_agreements_and_ledger_are_scoped_to_the_callers_organisation(client, factory, serving,
                                                                      token_for):
    agreement = serving["agreement"]
    worker = bearer(token_for(serving["worker"]))
    listed = client.get("/api/v1/agreements", headers=worker).json["data"]
    assert [a["id"] for a in listed] == [agreement.id]
    assert client.get(f"/api/v1/agreements/{agreement.id}", headers=worker).status_code == 200
    assert client.get(f"/api/v1/agreements/{agreement.id}/ledger", headers=worker).status_code == 200
    stranger = bearer(token_for(factory.user(Role.AGENCY_STAFF)))
    assert client.get("/api/v1/agreements", headers=stranger).json["data"] == []
    assert client.get(f"/api/v1/agreements/{agreement.id}", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/agreements/{agreement.id}/ledger",
                      headers=stranger).status_code == 404
    other_committee = bearer(token_for(factory.user(Role.COMMITTEE_STAFF,
                                                    org=factory.community().committee)))
    assert client.get(f"/api/v1/agreements/{agreement.id}",
                      headers=other_committee).status_code == 404


def test_a_committee_reads_only_its_own_communitys_account(client, serving, token_for):
    agreement = serving["agreement"]
    from procurement.disbursements.models import Account
    accounts = db.session.scalars(sa.select(Account).where(
        Account.agreement_id == agreement.id)).all()
    data = client.get(f"/api/v1/agreements/{agreement.id}/ledger",
                      headers=bearer(token_for(serving["committee"]))).json["data"]
    own = {a.id for a in accounts if a.community_id == serving["community"].id}
    assert {a["id"] for a in data["accounts"]} == own


def test_a_role_the_endpoint_does_not_allow_gets_403_json(client, factory, token_for):
    judge = bearer(token_for(factory.user(Role.JUDGE)))
    response = client.get("/api/v1/agreements", headers=judge)
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"


# --- bad input, paging, sync -------------------------------------------------------------


@pytest.mark.parametrize("query, field", [
    ("page=abc", "page"), ("page=0", "page"), ("page=99999999999999999999", "page"),
    ("per_page=101", "per_page"), ("per_page=-1", "per_page"), ("per_page=1.5", "per_page"),
    ("updated_since=garbage", "updated_since"), ("updated_since=2026-13-45", "updated_since"),
    ("community_id=x", "community_id"), ("community_id=99999999999999", "community_id"),
    ("year=1", "year"),
])
def test_bad_query_parameters_are_400_naming_the_field(client, factory, token_for, query, field):
    headers = bearer(token_for(factory.user(Role.AUDITOR)))
    for path in ("/api/v1/tenders", "/api/v1/agreements"):
        response = client.get(f"{path}?{query}", headers=headers)
        assert response.status_code == 400, (path, query)
        error = response.json["error"]
        assert error["field"] == field and error["code"] == "invalid_parameter"
        assert re.search(r"[\u4e00-\u9fff]", error["message"])


def test_a_bad_state_filter_names_the_field(client, factory, token_for):
    response = client.get("/api/v1/tenders?state=nonsense",
                          headers=bearer(token_for(factory.user(Role.AUDITOR))))
    assert response.status_code == 400 and response.json["error"]["field"] == "state"


def test_unknown_paths_and_ids_are_json_404(client, factory, token_for):
    headers = bearer(token_for(factory.user(Role.AUDITOR)))
    for path in ("/api/v1/nothing-here", "/api/v1/tenders/999999", "/api/v1/agreements/999999"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found", path
    response = client.post("/api/v1/tenders", headers=headers)
    assert response.status_code == 405 and response.json["error"]["code"] == "method_not_allowed"


def test_lists_paginate_with_a_next_link(client, builder, factory, token_for):
    for _ in range(3):
        builder.published()
    headers = bearer(token_for(builder.officer))
    first = client.get("/api/v1/tenders?per_page=2", headers=headers).json
    assert first["meta"]["total"] == 3 and len(first["data"]) == 2
    second = client.get(first["links"]["next"], headers=headers).json
    assert len(second["data"]) == 1 and second["links"]["next"] is None
    ids = [t["id"] for t in first["data"] + second["data"]]
    assert len(set(ids)) == 3


def test_updated_since_returns_only_later_changes(client, builder, token_for):
    tender = builder.published()
    headers = bearer(token_for(builder.officer))
    updated = tender.updated_at
    after = client.get("/api/v1/tenders", query_string={"updated_since": updated.isoformat()},
                       headers=headers).json["data"]
    assert tender.id not in [t["id"] for t in after]
    before = client.get("/api/v1/tenders", query_string={"updated_since": "2000-01-01"},
                        headers=headers).json["data"]
    assert tender.id in [t["id"] for t in before]


def test_detail_responses_carry_an_etag_and_honour_if_none_match(client, builder, token_for):
    tender = builder.published()
    headers = bearer(token_for(builder.officer))
    response = client.get(f"/api/v1/tenders/{tender.id}", headers=headers)
    etag = response.headers["ETag"]
    again = client.get(f"/api/v1/tenders/{tender.id}", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    tender.title = "改过的标题"
    db.session.flush()
    changed = client.get(f"/api/v1/tenders/{tender.id}", headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


# --- the document ------------------------------------------------------------------------


def test_the_openapi_document_lists_every_api_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = json.loads(response.get_data(as_text=True))
    assert doc["openapi"].startswith("3.")
    for rule in api_rules(app):
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in doc["paths"], rule.rule
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in doc["paths"][path], (rule.rule, method)
    assert not [p for p in doc["paths"] if p.startswith("/api/v1/ocds")]


def test_the_browsable_page_loads_nothing_from_elsewhere(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "/api/v1/tenders/{tender_id}" in html
    for src in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not re.match(r"^(https?:)?//", src), src
