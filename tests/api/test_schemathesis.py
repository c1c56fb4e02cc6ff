"""Schemathesis over the app's own OpenAPI document: every operation, a bounded number of
generated requests each (seeded), with a real token of a user who reads data; no request
may give a server error, an undeclared status code or a body that breaks its schema."""
import contextvars

import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (response_schema_conformance,
                                               status_code_conformance)

from procurement.api.tokens import create_token

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
EXAMPLES = 15


def isolated(app):
    """The app as a WSGI callable whose every request runs in its own context (its own
    app context, `g` and session on the test's connection), as the test client does; the
    rows the fixture built inside the test's transaction are visible to it."""
    def wsgi(environ, start_response):
        return contextvars.Context().run(app.wsgi_app, environ, start_response)
    return wsgi


def run_operation(operation, headers, path_parameters=None,
                  mode=GenerationMode.POSITIVE) -> tuple[list[str], set[int]]:
    """EXAMPLES generated requests against one operation; returns the failures seen and
    the status codes answered."""
    failures, statuses = [], set()

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
    def run(case):
        try:
            statuses.add(case.call_and_validate(headers=headers, checks=CHECKS).status_code)
        except Exception as exc:  # noqa: BLE001 - a check failure, or the app raised (TESTING)
            failures.append(f"{operation.label} {case.formatted_path} {case.query or ''}: "
                            f"{type(exc).__name__}: {exc}"[:2000])

    run()
    return failures, statuses


def bearer(user) -> dict:
    _, plain = create_token(user, user, "schemathesis")
    return {"Authorization": f"Bearer {plain}"}


def _world(appraised, factory):
    """Rows for the path ids, and the user whose token each kind of operation uses: the
    manager reads; an agency reads its bid and pushes records, cases and self-assessments;
    finance confirms payments; the street office records a department's result."""
    from procurement.accounts.roles import Role
    from procurement.tasks import cases, records
    from procurement.tasks.states import CaseCategory, RecordKind, Urgency
    from procurement.core import clock
    from procurement.disbursements.models import Account, Instalment
    from procurement.extensions import db

    a = appraised
    agreement, community, agency = a["agreement"], a["community"], a["agency"]
    tender = agreement.cooperation.tender
    record = records.add(agency, community=community, kind=RecordKind.PATROL,
                         day=clock.today(), grid=community.grids[0], notes="巡查")
    case = cases.report(agency, grid=community.grids[0], category=CaseCategory.SAFETY,
                        urgency=Urgency.NORMAL, title="楼道堆物", description="堆放纸箱")
    instalment = db.session.scalar(sa.select(Instalment).join(Account).where(
        Account.agreement_id == agreement.id).limit(1))
    finance = factory.user(Role.FINANCE_OFFICER, org=agreement.cooperation.street_office)
    ids = {"agreement_id": agreement.id, "community_id": community.id, "tender_id": tender.id,
           "bid_id": tender.awarded_bid.id, "record_id": record.id, "case_id": case.id,
           "period_id": a["quarter"].id, "instalment_id": instalment.id}
    return ids, {"reader": bearer(a["manager"]), "agency": bearer(agency),
                 "finance": bearer(finance)}


def _token_for(operation, tokens) -> dict:
    method, path = operation.method.upper(), operation.path
    if "{bid_id}" in path or path.endswith("/self-assessment"):
        return tokens["agency"]  # its own bid; its own draft
    if method == "GET":
        return tokens["reader"]
    if path.endswith("/payments"):
        return tokens["finance"]
    if path.endswith("/department-result"):
        return tokens["reader"]
    return tokens["agency"]


def test_generated_requests_to_every_operation_get_no_server_error_and_match_the_schema(
        app, appraised, factory):
    real_ids, tokens = _world(appraised, factory)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", isolated(app))
    failures, answered, writes = [], {}, set()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET":
            writes.add(operation.label)
        names = {p.name for p in operation.path_parameters}
        token = _token_for(operation, tokens)
        found, answered[operation.label] = run_operation(operation, token)
        failures += found
        # Random ids mostly give 404: run the same operation again on the fixture's rows.
        if names:
            found, statuses = run_operation(operation, token,
                                            {n: real_ids[n] for n in names if n in real_ids})
            failures += found
            answered[operation.label] |= statuses
        # Invalid parameters and bodies (wrong types, out of range): a declared 4xx, never a 500.
        if operation.query or names or operation.body:
            found, _ = run_operation(operation, token, mode=GenerationMode.NEGATIVE)
            failures += found
    assert not failures, "\n\n".join(failures)
    # The tokens reach real data: every read answered 200 at least once, and every write
    # reached its service (done, or refused by a rule: 409/422) at least once.
    assert len(answered) >= 25 and len(writes) >= 14
    reads = {label: st for label, st in answered.items() if label not in writes}
    assert not {label: st for label, st in reads.items() if 200 not in st}
    reached = {label: answered[label] for label in writes}
    assert all(statuses & {200, 201, 409, 422} for statuses in reached.values()), reached


def test_an_id_too_large_for_any_column_is_a_json_404_not_a_server_error(client, appraised):
    headers = bearer(appraised["manager"])
    for path in (f"/api/v1/agreements/{2**63}", f"/api/v1/tenders/{2**31}/bids/1"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found"
