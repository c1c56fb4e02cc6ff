"""Sealing: until the tender is opened nobody — bidders, officers, judges, auditors,
administrators, the public — can read a bid's price, proposal or files through any route.

Every GET route of the app is tried as every role (and anonymously) with every id the sealed
tender offers; each response (HTML, Excel, PDF, file download) is searched for the secrets."""
import io
import re
import zipfile
from datetime import datetime, timedelta

import pytest
from flask import url_for

from procurement.accounts.roles import Role
from procurement.core.calendar import SHANGHAI, now_utc
from procurement.extensions import limiter
from procurement.tenders import evaluation
from tender_builder import TenderBuilder, Upload

PRICES = (61_234_567, 62_345_678, 63_456_789)
SECRET_FILE = "SEALEDFILE"
SECRET_CONTENT = b"SEALEDCONTENT"
SECRET_PROPOSAL = "SEALEDPROPOSAL"


def secrets_in(text: str) -> list[str]:
    found = []
    for fen in PRICES:
        yuan, cents = divmod(fen, 100)
        for form in (f"{yuan:,}.{cents:02d}", f"{yuan}.{cents:02d}", str(fen), f"{yuan:,}",
                     str(yuan)):
            if form in text:
                found.append(form)
    for marker in (SECRET_FILE, SECRET_CONTENT.decode(), SECRET_PROPOSAL):
        if marker in text:
            found.append(marker)
    return found


def readable(response) -> str:
    """The response as text, unpacking Excel and PDF so nothing hides in a binary."""
    data = response.get_data()
    kind = response.mimetype or ""
    if "spreadsheet" in kind or data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return " ".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
        except zipfile.BadZipFile:
            pass
    if data[:5] == b"%PDF-":
        from pypdf import PdfReader
        reader = PdfReader(io.BytesIO(data))
        return data.decode("latin-1") + " ".join(page.extract_text() or "" for page in reader.pages)
    return data.decode("utf-8", "replace") + " " + str(response.headers)


def sealed_tender(factory, days_ago: int):
    """A tender with three bids. days_ago=0: bidding still open; 30: past the opening time
    but not yet opened."""
    start = (now_utc() - timedelta(days=days_ago)).astimezone(SHANGHAI)
    b = TenderBuilder(factory, start=datetime(start.year, start.month, start.day, 8,
                                              tzinfo=SHANGHAI))
    tender = b.published()
    bid_day = 0.01 if days_ago == 0 else 10
    for index, price in enumerate(PRICES):
        bid = b.bid(tender, index, price, days=bid_day,
                    uploads=[Upload(f"{SECRET_FILE}{index}.pdf", b"%PDF-1.4 " + SECRET_CONTENT)])
        bid.proposal = f"{SECRET_PROPOSAL} {index}"
    b.committee(tender)
    return b, tender


def users_by_role(b: TenderBuilder, factory) -> dict[str, object]:
    office = b.office
    return {
        "tender_officer": b.officer,
        "leader": factory.user(Role.LEADER, org=office),
        "contract_manager": b.witnesses[0],
        "finance_officer": factory.user(Role.FINANCE_OFFICER, org=office),
        "admin": factory.user(Role.ADMIN, org=office),
        "auditor": factory.user(Role.AUDITOR),
        "bidder": b.agency_users[0],
        "invited_non_bidder": b.agency_users[4],
        "committee_staff": factory.user(Role.COMMITTEE_STAFF, org=b.community.committee),
        "university_evaluator": factory.user(Role.UNIVERSITY_EVALUATOR),
        "judge_chair": b.experts[0],
        "judge_rep": b.rep,
        "judge_not_member": b.experts[5],
    }


def ids_of(tender) -> dict[str, list[int]]:
    bids = tender.bids
    files = [f for bid in bids for f in bid.files]
    members = evaluation.members(tender)
    return {
        "tender_id": [tender.id],
        "bid_id": [b.id for b in bids],
        "file_id": [f.id for f in files] + [f.file_id for f in files],
        "bid_file_id": [f.id for f in files],
        "member_id": [m.id for m in members],
        "document_id": [d.id for d in tender.documents] or [0],
    }


def candidate_urls(app, ids) -> list[str]:
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in ("static", "bootstrap.static"):
                continue
            args = list(rule.arguments)
            if any(a not in ids for a in args):
                unknown = [a for a in args if a not in ids]
                # Routes keyed by something else (users, organisations, audit entries, rounds)
                # cannot reach a bid before opening: no round or sheet exists yet.
                if any(a in ("tender_id", "bid_id", "file_id") for a in args):
                    raise AssertionError(f"{rule.endpoint}: unknown argument(s) {unknown}")
                continue
            combos = [{}]
            for a in args:
                combos = [dict(c, **{a: v}) for c in combos for v in ids[a]]
            for combo in combos:
                urls.append(url_for(rule.endpoint, **combo))
                if rule.endpoint.endswith("export") or "xlsx" in rule.rule:
                    urls.append(url_for(rule.endpoint, **combo, q=""))
    return urls


@pytest.mark.parametrize("days_ago", [0, 30], ids=["bidding-open", "past-opening-time"])
def test_no_route_reveals_a_bid_before_opening(app, factory, client, login, days_ago):
    b, tender = sealed_tender(factory, days_ago)
    assert tender.opened_at is None
    users = users_by_role(b, factory)
    urls = candidate_urls(app, ids_of(tender))
    assert any(f"/{tender.id}" in u for u in urls)
    leaks = []
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, url
        leaks += [("anonymous", url, s) for s in secrets_in(readable(response))]
    for role, user in users.items():
        client.post("/logout")
        limiter.reset()  # fourteen logins in a row are not an attack
        login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code < 500, (role, url)
            leaks += [(role, url, s) for s in secrets_in(readable(response))]
        # The JSON API takes a bearer token, never the session: try it as this role too.
        headers = api_headers(user)
        for url in api_urls(urls):
            response = client.get(url, headers=headers)
            assert response.status_code < 500, (role, url)
            leaks += [(f"{role} (token)", url, s) for s in secrets_in(readable(response))]
    assert not leaks, leaks[:10]


def api_headers(user) -> dict:
    from procurement.api.tokens import create_token

    return {"Authorization": f"Bearer {create_token(user, user, 'sealing probe')[1]}"}


def api_urls(urls) -> list[str]:
    api = [u for u in urls if u.startswith("/api/v1/") and not u.startswith("/api/v1/ocds")]
    assert any("/bids/" in u for u in api), "the API's bid route was not tried"
    return api


def test_the_sealing_test_would_see_a_leak(app, factory, client, login):
    """The search above is real: after the opening the officer's page shows the prices."""
    b, tender = sealed_tender(factory, 30)
    from procurement.core import clock
    from procurement.tenders import bidding
    with clock.frozen(tender.opening_time + timedelta(minutes=1)):
        bidding.open_tender(b.officer, tender)
    login(b.officer)
    texts = " ".join(readable(client.get(u)) for u in candidate_urls(app, ids_of(tender))
                     if re.search(rf"/{tender.id}(/|$)", u))
    assert secrets_in(texts)
    headers = api_headers(b.officer)
    api_texts = " ".join(readable(client.get(u, headers=headers))
                         for u in api_urls(candidate_urls(app, ids_of(tender))))
    assert secrets_in(api_texts)
