"""Open contracting data (OCDS 1.1): the export validates against the official schema, it
publishes only what the public notices show (no sealed bid, no draft agreement), its amounts
are exact, payments appear as transactions, the API is public and refuses bad input with
JSON, the CLI writes the same package, and the notice pages link to it."""
import json
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from procurement.core import clock
from procurement.opendata import ocds

SCHEMA_DIR = Path(ocds.__file__).with_name("schema")
URL = "/api/v1/ocds/releases"
# Distinctive bid prices (fen) so "absent from the JSON" means something.
PRICES = (61_234_567, 64_765_432, 70_111_199, 75_222_288)


def _validator() -> Draft4Validator:
    """The official package schema, its reference to the release schema resolved to the
    vendored file (no network)."""
    package = json.loads((SCHEMA_DIR / "release-package-schema.json").read_text("utf-8"))
    release = json.loads((SCHEMA_DIR / "release-schema.json").read_text("utf-8"))
    resource = Resource(contents=release, specification=DRAFT4)
    registry = Registry().with_resources(
        [(package["properties"]["releases"]["items"]["$ref"], resource),
         (release["id"], resource)])
    Draft4Validator.check_schema(package)
    return Draft4Validator(package, registry=registry)


VALIDATOR = _validator()


def _errors(data) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in VALIDATOR.iter_errors(data)]


def _get(client, url=URL, **params):
    response = client.get(url, query_string=params)
    return response, response.get_data(as_text=True)


def _release(client, tender):
    response, _ = _get(client, ocid=f"ocds-lyjd16-{tender.number}")
    assert response.status_code == 200, response.get_data(as_text=True)
    [release] = response.get_json()["releases"]
    return release


def _all_strings(data, key):
    """Every value under `key` anywhere in the JSON."""
    if isinstance(data, dict):
        for k, v in data.items():
            if k == key:
                yield v
            yield from _all_strings(v, key)
    elif isinstance(data, list):
        for item in data:
            yield from _all_strings(item, key)


def _fen_forms(fen: int) -> list[str]:
    """How a price could show up in JSON text: as fen, as yuan with or without decimals."""
    yuan = Decimal(fen) / 100
    return [str(fen), f"{yuan:.2f}", str(yuan.normalize())]


def test_demo_like_data_validates_against_the_official_ocds_schema(contracts, builder, client):
    cooperation = contracts.in_force()
    opened = builder.opened(prices=PRICES)           # a second tender, opened, not awarded
    builder.published()                              # a third, still open for bids
    response, text = _get(client)
    data = response.get_json()

    assert response.status_code == 200 and response.mimetype == "application/json"
    assert _errors(data) == []
    assert data["version"] == "1.1" and data["publicationPolicy"].endswith("/api/v1/ocds/policy")
    assert len(data["releases"]) == 3
    for when in [data["publishedDate"], *_all_strings(data, "date"),
                 *_all_strings(data, "startDate"), *_all_strings(data, "endDate"),
                 *_all_strings(data, "dateSigned")]:
        assert datetime.fromisoformat(when).utcoffset() is not None, when

    awarded = _release(client, cooperation.tender)
    assert awarded["ocid"] == f"ocds-lyjd16-{cooperation.tender.number}"
    assert awarded["tag"] == ["tender", "award", "contract"]
    roles = {p["name"]: set(p["roles"]) for p in awarded["parties"]}
    assert {"buyer", "procuringEntity", "payer"} <= roles[cooperation.street_office.name]
    assert {"supplier", "tenderer", "payee"} <= roles[cooperation.agency.name]
    assert roles[cooperation.university.name] == {"interestedParty"}
    assert roles[builder.community.committee.name] == {"interestedParty"}
    [contract] = awarded["contracts"]
    assert contract["id"] == cooperation.agreements[0].number
    assert contract["awardID"] == awarded["awards"][0]["id"]
    assert {v["currency"] for v in _all_strings(data, "value")} == {"CNY"}
    assert _release(client, opened)["tender"]["numberOfTenderers"] == len(PRICES)


def test_a_tender_before_its_opening_shows_no_bid_at_all(builder, client):
    tender = builder.with_bids(prices=PRICES)
    release = _release(client, tender)
    _, text = _get(client)

    for price in PRICES:
        assert not any(form in text for form in _fen_forms(price)), price
    assert "服务方案0" not in text                      # a proposal
    assert "tenderers" not in release["tender"] and "awards" not in release
    assert [p["roles"] for p in release["parties"]] == [["buyer", "procuringEntity"]]
    assert _errors(client.get(URL).get_json()) == []


def test_after_the_opening_bidders_are_named_but_prices_stay_sealed(builder, client):
    tender = builder.opened(prices=PRICES)
    release = _release(client, tender)
    _, text = _get(client)

    assert {t["name"] for t in release["tender"]["tenderers"]} == \
        {a.name for a in builder.agencies[:len(PRICES)]}
    for price in PRICES:
        assert not any(form in text for form in _fen_forms(price)), price


def test_after_the_award_only_the_winning_price_is_published(builder, client):
    tender = builder.awarded(prices=PRICES)
    release = _release(client, tender)
    _, text = _get(client)
    winner = tender.awarded_bid

    [award] = release["awards"]
    assert Decimal(str(award["value"]["amount"])) == Decimal(winner.price_fen) / 100
    assert award["suppliers"][0]["name"] == winner.agency.name
    for price in PRICES:
        if price != winner.price_fen:
            assert not any(form in text for form in _fen_forms(price)), price


def test_an_unpublished_tender_is_not_exported(app, builder, client):
    draft = builder.draft()
    # Nothing published: no package at all (a release package holds at least one release).
    response = client.get(URL)
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "目前还没有公开的采购项目。"
    assert client.get(URL, query_string={"ocid": f"ocds-lyjd16-{draft.number}"}).status_code == 404
    result = app.test_cli_runner().invoke(args=["ocds", "export"])
    assert result.exit_code != 0 and "还没有公开的采购项目" in result.output


def test_a_draft_agreement_does_not_appear_until_every_party_signed(contracts, client):
    cooperation = contracts.cooperation()
    agreement = cooperation.agreements[0]
    _, text = _get(client)
    release = _release(client, cooperation.tender)
    assert "contracts" not in release and agreement.number not in text
    assert "interestedParty" not in text    # committee and university sign the contract

    contracts.sign_all(agreement)
    release = _release(client, cooperation.tender)
    assert [c["id"] for c in release["contracts"]] == [agreement.number]
    assert release["contracts"][0]["status"] in ("active", "terminated")


def test_amounts_are_exact_yuan_from_integer_fen(contracts, client):
    cooperation = contracts.in_force(amount_fen=40_000_001)
    agreement = cooperation.agreements[0]
    response, text = _get(client, ocid=f"ocds-lyjd16-{cooperation.tender.number}")
    data = json.loads(text, parse_float=Decimal)
    [contract] = data["releases"][0]["contracts"]

    expected = Decimal(agreement.amount_fen) / 100
    assert agreement.amount_fen % 100 == 1      # not a whole yuan: a float would show it
    assert contract["value"] == {"amount": expected, "currency": "CNY"}
    assert re.search(rf'"amount":\s*{expected:.2f}[,}}]', text)   # 400000.01, not …0000001
    assert data["releases"][0]["tender"]["value"]["amount"] == Decimal("800000")
    assert ocds.value(1)["amount"] == Decimal("0.01")
    assert ocds.dumps(ocds.value(123_456_789_01)) == '{"amount": 123456789.01, "currency": "CNY"}'


def test_payments_are_transactions_and_a_reversed_payment_drops_out(appraised, factory, client):
    from disbursements.test_disbursements import _day, _instalment, accept_quarter

    from procurement.accounts.roles import Role
    from procurement.disbursements import services

    a = appraised
    finance = factory.user(Role.FINANCE_OFFICER, org=a["agreement"].cooperation.street_office)
    accept_quarter(a)
    instalment = _instalment(a)
    with _day(a["quarter"], 12):
        services.request(a["manager"], instalment)
        services.approve(a["leader"], instalment)
        services.pay(finance, instalment, paid_on=clock.today(), voucher_no="WRONG-1")
        wrong = instalment.movements[0]
        services.reverse(finance, wrong, reason="凭证号录错")
        services.pay(finance, instalment, paid_on=clock.today(), voucher_no="LY-0001")
    paid = instalment.payable_fen

    tender = a["agreement"].cooperation.tender
    response, text = _get(client, ocid=f"ocds-lyjd16-{tender.number}")
    data = json.loads(text, parse_float=Decimal)
    assert _errors(response.get_json()) == []
    release = data["releases"][0]
    assert "implementation" in release["tag"]
    [contract] = release["contracts"]
    transactions = contract["implementation"]["transactions"]
    assert [t["value"]["amount"] for t in transactions] == [Decimal(paid) / 100]
    assert f"payment-{wrong.id}" not in text and "WRONG-1" not in text
    assert transactions[0]["payee"]["name"] == a["agreement"].cooperation.agency.name
    assert datetime.fromisoformat(transactions[0]["date"]).utcoffset() is not None


def test_the_open_data_is_public_and_paginated_with_a_next_link(app, builder, client,
                                                                 monkeypatch):
    first, second = builder.published(), builder.published(title="第二个项目")
    monkeypatch.setitem(app.config, "OCDS_PAGE_SIZE", 1)

    page1 = client.get(URL).get_json()
    assert [r["ocid"] for r in page1["releases"]] == [f"ocds-lyjd16-{first.number}"]
    assert page1["links"]["next"].endswith(f"{URL}?page=2")
    page2 = client.get(URL, query_string={"page": "２"}).get_json()   # full-width digit
    assert [r["ocid"] for r in page2["releases"]] == [f"ocds-lyjd16-{second.number}"]
    assert "links" not in page2
    assert _errors(page1) == [] and _errors(page2) == []


@pytest.mark.parametrize("page,status", [("abc", 400), ("0", 400), ("-1", 400), ("", 400),
                                         ("1.5", 400), ("9" * 30, 400), ("99", 404)])
def test_a_bad_page_is_a_json_error_never_a_500(builder, client, page, status):
    builder.published()
    response = client.get(URL, query_string={"page": page})
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == status


def test_an_unknown_ocid_is_a_json_404(builder, client):
    builder.published()
    for ocid in ("ocds-lyjd16-NOPE", "other-prefix-1", "<script>"):
        response = client.get(URL, query_string={"ocid": ocid})
        assert response.status_code == 404 and response.get_json()["error"]["code"] == 404


def test_flask_ocds_export_writes_the_same_package(app, contracts, client, tmp_path):
    contracts.in_force()
    target = tmp_path / "ocds.json"
    result = app.test_cli_runner().invoke(args=["ocds", "export", "--output", str(target)])
    assert result.exit_code == 0, result.output
    exported = json.loads(target.read_text("utf-8"))
    served = client.get(URL).get_json()
    assert _errors(exported) == []
    assert exported["releases"] == served["releases"]

    to_stdout = app.test_cli_runner().invoke(args=["ocds", "export"])
    assert json.loads(to_stdout.output)["releases"] == served["releases"]


def test_the_notice_pages_link_to_the_open_data(contracts, client):
    cooperation = contracts.in_force()
    tender, agreement = cooperation.tender, cooperation.agreements[0]
    link = f'href="{URL}?ocid=ocds-lyjd16-{tender.number}"'

    assert link in client.get(f"/notices/{tender.id}").get_data(as_text=True)
    assert link in client.get(f"/notices/contracts/{agreement.id}").get_data(as_text=True)
    for page in ("/notices/", "/notices/contracts"):
        assert f'href="{URL}"' in client.get(page).get_data(as_text=True)
    # and the link leads somewhere public
    assert client.get(f"{URL}?ocid=ocds-lyjd16-{tender.number}").status_code == 200


def test_the_publication_policy_is_public_json(client):
    response = client.get("/api/v1/ocds/policy")
    assert response.status_code == 200
    policy = response.get_json()["policy"]
    assert policy["ocid_prefix"] == "ocds-lyjd16" and len(policy["statements"]) == 5
