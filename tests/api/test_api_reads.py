"""The API's remaining reads: a community's task completion, an agreement's evaluations and
the instalments across agreements. Each is scoped like its page, carries the numbers the
services compute, refuses bad parameters with a 400 naming the field and is documented."""
import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from procurement.accounts.roles import Role
from procurement.api.tokens import create_token
from procurement.contracts.models import AgreementCommunity
from procurement.contracts.states import EvaluationSource as Src
from procurement.core import clock
from procurement.core.calendar import SHANGHAI
from procurement.disbursements.models import Account, Instalment
from procurement.evaluations import plan, scoring, sheets
from procurement.evaluations.models import Survey, SurveyResponse
from procurement.evaluations.states import SurveyState
from procurement.extensions import db
from procurement.tasks import completion


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {create_token(user, user, '测试')[1]}"}


@pytest.fixture
def two(appraised, factory):
    """The appraised agreement serving a second community, with its own committee."""
    a = appraised
    agreement = a["agreement"]
    other = factory.community(street_office=agreement.cooperation.street_office,
                              name="林口社区")
    agreement.communities.append(AgreementCommunity(community_id=other.id, community=other,
                                                    amount_fen=40_000_000))
    db.session.flush()
    return {**a, "second": other,
            "second_committee": factory.user(Role.COMMITTEE_STAFF, org=other.committee)}


def _completion_url(agreement, community, query=""):
    return f"/api/v1/agreements/{agreement.id}/communities/{community.id}/completion{query}"


# --- completion ---------------------------------------------------------------------------


def test_completion_equals_what_the_completion_service_computes(client, appraised):
    a = appraised
    agreement, community = a["agreement"], a["community"]
    data = client.get(_completion_url(agreement, community),
                      headers=bearer(a["manager"])).json["data"]
    rows = completion.table(completion.ledger(agreement, community), with_grids=False)
    assert rows and [t["id"] for t in data["tasks"]] == [r.task.id for r in rows]
    for got, row in zip(data["tasks"], rows):
        assert got["target"] == row.target and got["grids"] == []
        assert [(q["done"], q["target"], q["percent"], q["status"]) for q in got["quarters"]] == [
            (p.done, p.target, None if p.percent is None else str(p.percent), p.status.value)
            for p in row.quarters]
        assert got["year"]["percent"] == (None if row.year.percent is None
                                          else str(row.year.percent))
    assert [q["number"] for q in data["quarters"]] == [1, 2, 3, 4]


def test_completion_with_grids_adds_per_grid_rows(client, appraised):
    a = appraised
    data = client.get(_completion_url(a["agreement"], a["community"], "?grids=1"),
                      headers=bearer(a["agency"])).json["data"]
    grid_ids = {g.id for g in a["community"].grids}
    with_grids = [t for t in data["tasks"] if t["grids"]]
    assert with_grids and all({g["id"] for g in t["grids"]} == grid_ids for t in with_grids)


def test_completion_is_hidden_from_outsiders_and_other_communities_committees(client, two):
    a = two
    agreement, community = a["agreement"], a["community"]
    for outsider in (a["other_agency"], a["other_committee"]):
        response = client.get(_completion_url(agreement, community), headers=bearer(outsider))
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert client.get(_completion_url(agreement, community),
                      headers=bearer(a["committee"])).status_code == 200
    assert client.get(_completion_url(agreement, a["second"]),
                      headers=bearer(a["committee"])).status_code == 404
    assert client.get(_completion_url(agreement, a["second"]),
                      headers=bearer(a["second_committee"])).status_code == 200


def test_completion_refuses_a_bad_grids_flag(client, appraised):
    a = appraised
    response = client.get(_completion_url(a["agreement"], a["community"], "?grids=yes"),
                          headers=bearer(a["manager"]))
    assert response.status_code == 400 and response.json["error"]["field"] == "grids"


# --- evaluations --------------------------------------------------------------------------

RATERS = {Src.SELF: "agency", Src.COMMITTEE: "committee", Src.STREET_OFFICE: "manager",
          Src.UNIVERSITY: "professor"}


def _after(period, days=1):
    day = period.end_date + timedelta(days=days)
    return clock.frozen(datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI))


def _rate(a, source, share):
    period, community, rater = a["quarter"], a["community"], a[RATERS[source]]
    indicators = plan.indicator_set(period.agreement, source).indicators
    scores = {i.id: str((i.max_score * Decimal(share)).quantize(Decimal("0.1")))
              for i in indicators}
    with _after(period):
        sheet = sheets.save(rater, period, community, source, scores=scores,
                            narrative="意见", opinions="无")
        return sheets.submit(rater, sheet)


def _finalised(a):
    _rate(a, Src.STREET_OFFICE, "0.9")
    _rate(a, Src.COMMITTEE, "0.8")
    _rate(a, Src.UNIVERSITY, "0.7")
    survey = Survey(period_id=a["quarter"].id, community_id=a["community"].id, size=60,
                    closes_at=clock.now(), state=SurveyState.CLOSED,
                    created_by_id=a["manager"].id)
    db.session.add(survey)
    db.session.flush()
    db.session.add_all(SurveyResponse(survey_id=survey.id, answers={"q1": 4}, score=Decimal(s))
                       for s in ("90", "80", "85.5"))
    own = _rate(a, Src.SELF, "0.85")
    with _after(a["quarter"], 3):
        sheets.accept(a["manager"], own, "同意。")
    with _after(a["quarter"], 20):
        return scoring.finalise(a["manager"], a["quarter"], a["community"])


def _evaluations(client, a, user, query=""):
    return client.get(f"/api/v1/agreements/{a['agreement'].id}/evaluations{query}",
                      headers=bearer(user))


def test_evaluations_carry_the_finalised_composite_grade_and_source_scores(client, appraised):
    a = appraised
    result = _finalised(a)
    data = _evaluations(client, a, a["leader"], "?period=quarter-1").json["data"]
    mine = next(c for c in data["communities"] if c["id"] == a["community"].id)
    [period] = mine["periods"]
    assert period["period_id"] == a["quarter"].id and period["final"] is True
    assert period["composite"] == str(result.composite)
    assert period["grade"] == result.grade.value
    by_source = {s["source"]: s for s in period["sources"]}
    assert set(by_source) == {s.value for s in Src}
    assert by_source[Src.RESIDENTS.value]["score"] == str(
        scoring.round_score(Decimal("255.5") / 3))
    assert by_source[Src.STREET_OFFICE.value]["state"] == "submitted"


def test_a_committee_reads_only_its_own_communitys_evaluations(client, two):
    a = two
    data = _evaluations(client, a, a["committee"]).json["data"]
    assert [c["id"] for c in data["communities"]] == [a["community"].id]
    second = _evaluations(client, a, a["second_committee"]).json["data"]["communities"]
    assert [c["id"] for c in second] == [a["second"].id]
    everyone = _evaluations(client, a, a["manager"]).json["data"]["communities"]
    assert {c["id"] for c in everyone} == {a["community"].id, a["second"].id}
    assert _evaluations(client, a, a["manager"], f"?community_id={a['second'].id}"
                        ).json["data"]["communities"][0]["id"] == a["second"].id
    for outsider in (a["other_agency"], a["other_committee"]):
        assert _evaluations(client, a, outsider).status_code == 404


@pytest.mark.parametrize("query, field", [
    ("period=quarter", "period"), ("period=q-1", "period"), ("period=quarter-0", "period"),
    ("community_id=abc", "community_id"),
])
def test_evaluations_refuse_bad_parameters_naming_the_field(client, appraised, query, field):
    response = _evaluations(client, appraised, appraised["manager"], f"?{query}")
    assert response.status_code == 400 and response.json["error"]["field"] == field


# --- instalments --------------------------------------------------------------------------


def _instalment_ids(client, user, query=""):
    response = client.get(f"/api/v1/instalments{query}", headers=bearer(user))
    assert response.status_code == 200, response.json
    return [i["id"] for i in response.json["data"]]


def _all_instalments(agreement, community_id=None):
    query = sa.select(Instalment).join(Account).where(Account.agreement_id == agreement.id)
    if community_id is not None:
        query = query.where(Account.community_id == community_id)
    return db.session.scalars(query.order_by(Instalment.due_date, Instalment.id)).all()


def test_instalments_are_scoped_like_the_ledger(client, factory, serving):
    agreement = serving["agreement"]
    every = _all_instalments(agreement)
    assert every, "the agreement in force has a payment schedule"
    ids = _instalment_ids(client, serving["worker"], "?per_page=100")
    assert ids == [i.id for i in every]
    own = [i.id for i in _all_instalments(agreement, serving["community"].id)]
    assert _instalment_ids(client, serving["committee"], "?per_page=100") == own
    assert _instalment_ids(client, factory.user(Role.AGENCY_STAFF)) == []
    other_committee = factory.user(Role.COMMITTEE_STAFF, org=factory.community().committee)
    assert _instalment_ids(client, other_committee) == []


def test_instalments_filter_and_show_the_ledger_figures(client, serving):
    agreement, worker = serving["agreement"], serving["worker"]
    first = _all_instalments(agreement, serving["community"].id)[0]
    query = (f"?community_id={serving['community'].id}&agreement_id={agreement.id}"
             f"&state=scheduled&due_from={first.due_date}&due_to={first.due_date}")
    response = client.get(f"/api/v1/instalments{query}", headers=bearer(worker))
    [row] = [r for r in response.json["data"] if r["id"] == first.id]
    assert row["due_date"] == first.due_date.isoformat() and row["paid"] == "0.00"
    assert row["scheduled"] == f"{Decimal(first.amount_fen) / 100:.2f}"
    assert row["outstanding"] == row["scheduled"]
    assert all(r["due_date"] == first.due_date.isoformat() for r in response.json["data"])
    assert _instalment_ids(client, worker, "?state=paid") == []


@pytest.mark.parametrize("query, field", [
    ("state=nonsense", "state"), ("due_from=2026-02-30", "due_from"), ("due_to=tomorrow", "due_to"),
    ("agreement_id=-1", "agreement_id"), ("community_id=x", "community_id"),
    ("per_page=101", "per_page"),
])
def test_instalments_refuse_bad_parameters_naming_the_field(client, factory, query, field):
    response = client.get(f"/api/v1/instalments?{query}",
                          headers=bearer(factory.user(Role.AUDITOR)))
    assert response.status_code == 400
    assert response.json["error"] == {**response.json["error"], "field": field,
                                      "code": "invalid_parameter"}


# --- the document -------------------------------------------------------------------------


def test_the_new_reads_are_in_the_openapi_document(client):
    doc = json.loads(client.get("/api/v1/openapi.json").get_data(as_text=True))
    for path in ("/api/v1/agreements/{agreement_id}/communities/{community_id}/completion",
                 "/api/v1/agreements/{agreement_id}/evaluations", "/api/v1/instalments"):
        assert "get" in doc["paths"][path], path
