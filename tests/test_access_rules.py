"""Deny by default: every endpoint declares who may use it, and the declarations are
checked against the live app for the anonymous visitor and for every role."""
import pytest
from flask import url_for

from procurement.accounts.roles import ROLE_ORG_KINDS, Role
from procurement.core.permissions import access_rules

A = Role.ADMIN
AUD = Role.AUDITOR
PUBLIC = "public"
ANY = "any signed-in user"
ALL_ROLES = set(Role)

# Who may GET each endpoint (POST-only endpoints list who may POST). Written out by hand,
# independently of the decorators, so a changed rule has to be changed here on purpose.
EXPECTED = {
    "static": PUBLIC,
    "bootstrap.static": PUBLIC,
    "accounts.login": PUBLIC,
    "home.set_language": PUBLIC,
    "home.healthz": PUBLIC,
    "home.index": ANY,
    "accounts.logout": ANY,
    "accounts.change_password": ANY,
    "accounts.profile": ANY,
    "accounts.create_token": ANY,
    "accounts.revoke_token": ANY,
    "users.index": {A, AUD},
    "users.export": {A, AUD},
    "users.show": {A, AUD},
    "users.create": {A},
    "users.edit": {A},
    "users.deactivate": {A},
    "users.activate": {A},
    "users.reset_password": {A},
    "orgs.index": {A, AUD},
    "orgs.export": {A, AUD},
    "orgs.directory_pdf": {A, AUD},
    "orgs.show": {A, AUD},
    "orgs.create": {A},
    "orgs.edit": {A},
    "orgs.deactivate": {A},
    "orgs.activate": {A},
    "orgs.create_community": {A},
    "orgs.edit_community": {A},
    "orgs.add_grid": {A},
    "audit.index": {AUD},
    "audit.show": {AUD},
    "audit.verify": {AUD},
    "audit.export": {AUD},
    # --- tenders (street office side) ---
    "tenders.index": {Role.TENDER_OFFICER, Role.LEADER, AUD, Role.CONTRACT_MANAGER},
    "tenders.export": {Role.TENDER_OFFICER, Role.LEADER, AUD, Role.CONTRACT_MANAGER},
    "tenders.show": {Role.TENDER_OFFICER, Role.LEADER, AUD, Role.CONTRACT_MANAGER},
    "tenders.report_pdf": {Role.TENDER_OFFICER, Role.LEADER, AUD},
    "tenders.download_document": {Role.TENDER_OFFICER, Role.LEADER, AUD, Role.CONTRACT_MANAGER,
                                  Role.AGENCY_STAFF, Role.JUDGE},
    "tenders.invitation_pdf":    {Role.TENDER_OFFICER, Role.LEADER, AUD, Role.CONTRACT_MANAGER,
                               Role.AGENCY_STAFF, Role.JUDGE},
    "tenders.create": {Role.TENDER_OFFICER},
    "tenders.edit": {Role.TENDER_OFFICER},
    "tenders.upload_document": {Role.TENDER_OFFICER},
    "tenders.invite": {Role.TENDER_OFFICER},
    "tenders.uninvite": {Role.TENDER_OFFICER},
    "tenders.draw": {Role.TENDER_OFFICER},
    "tenders.publish": {Role.TENDER_OFFICER},
    "tenders.clarify": {Role.TENDER_OFFICER},
    "tenders.open_bids": {Role.TENDER_OFFICER},
    "tenders.qualify": {Role.TENDER_OFFICER},
    "tenders.form_committee": {Role.TENDER_OFFICER},
    "tenders.replace_member": {Role.TENDER_OFFICER},
    "tenders.start_evaluation": {Role.TENDER_OFFICER},
    "tenders.award": {Role.TENDER_OFFICER},
    "tenders.answer_challenge": {Role.TENDER_OFFICER},
    "tenders.fail": {Role.TENDER_OFFICER},
    "tenders.cancel": {Role.TENDER_OFFICER},
    # --- bidding (agency side) ---
    "bidding.index": {Role.AGENCY_STAFF},
    "bidding.show": {Role.AGENCY_STAFF},
    "bidding.document": {Role.AGENCY_STAFF},
    "bidding.submit": {Role.AGENCY_STAFF},
    "bidding.withdraw": {Role.AGENCY_STAFF},
    "bidding.bid_file": {Role.AGENCY_STAFF},
    "bidding.explain": {Role.AGENCY_STAFF},
    "bidding.challenge": {Role.AGENCY_STAFF},
    # --- public notices ---
    "notices.index": PUBLIC,
    "notices.show": PUBLIC,
    # --- contracts (views) ---
    "contracts.index": {Role.CONTRACT_MANAGER, Role.LEADER, Role.FINANCE_OFFICER,
                        Role.TENDER_OFFICER, AUD, Role.AGENCY_STAFF, Role.COMMITTEE_STAFF,
                        Role.UNIVERSITY_EVALUATOR},
    "contracts.export": {Role.CONTRACT_MANAGER, Role.LEADER, Role.FINANCE_OFFICER,
                         Role.TENDER_OFFICER, AUD, Role.AGENCY_STAFF, Role.COMMITTEE_STAFF,
                         Role.UNIVERSITY_EVALUATOR},
    "contracts.show": {Role.CONTRACT_MANAGER, Role.LEADER, Role.FINANCE_OFFICER,
                       Role.TENDER_OFFICER, AUD, Role.AGENCY_STAFF, Role.COMMITTEE_STAFF,
                       Role.UNIVERSITY_EVALUATOR},
    "contracts.agreement": {Role.CONTRACT_MANAGER, Role.LEADER, Role.FINANCE_OFFICER,
                            Role.TENDER_OFFICER, AUD, Role.AGENCY_STAFF, Role.COMMITTEE_STAFF,
                            Role.UNIVERSITY_EVALUATOR},
    "contracts.agreement_pdf": {Role.CONTRACT_MANAGER, Role.LEADER, Role.FINANCE_OFFICER,
                                Role.TENDER_OFFICER, AUD, Role.AGENCY_STAFF,
                                Role.COMMITTEE_STAFF, Role.UNIVERSITY_EVALUATOR},
    "contracts.create": {Role.CONTRACT_MANAGER},
    "contracts.terminate": {Role.CONTRACT_MANAGER},
    "contracts.renew": {Role.CONTRACT_MANAGER},
    "contracts.edit_terms": {Role.CONTRACT_MANAGER},
    "contracts.edit_sub_contracts": {Role.CONTRACT_MANAGER},
    "contracts.edit_duties": {Role.CONTRACT_MANAGER},
    "contracts.edit_evaluation": {Role.CONTRACT_MANAGER},
    "contracts.sign": {Role.LEADER, Role.COMMITTEE_STAFF, Role.UNIVERSITY_EVALUATOR,
                       Role.AGENCY_STAFF},
    # --- contracts (amendments and special agreements) ---
    "contracts.new_amendment": {Role.CONTRACT_MANAGER},
    "contracts.amendment": {Role.CONTRACT_MANAGER, Role.LEADER, Role.FINANCE_OFFICER,
                            Role.TENDER_OFFICER, AUD, Role.AGENCY_STAFF, Role.COMMITTEE_STAFF,
                            Role.UNIVERSITY_EVALUATOR},
    "contracts.sign_amendment": {Role.LEADER, Role.AGENCY_STAFF, Role.COMMITTEE_STAFF,
                                 Role.UNIVERSITY_EVALUATOR},
    "contracts.cancel_amendment": {Role.CONTRACT_MANAGER},
    "contracts.new_special": {Role.CONTRACT_MANAGER},
    "contracts.special": {Role.CONTRACT_MANAGER, Role.LEADER, Role.FINANCE_OFFICER,
                          Role.TENDER_OFFICER, AUD, Role.AGENCY_STAFF, Role.COMMITTEE_STAFF,
                          Role.UNIVERSITY_EVALUATOR},
    "contracts.sign_special": {Role.LEADER, Role.AGENCY_STAFF, Role.COMMITTEE_STAFF,
                               Role.UNIVERSITY_EVALUATOR},
    "contracts.cancel_special": {Role.CONTRACT_MANAGER},
    # --- contracts (public notices and PDF) ---
    "notices.contracts": PUBLIC,
    "notices.contract": PUBLIC,
    # --- open data (OCDS) ---
    "opendata.releases": PUBLIC,
    "opendata.policy": PUBLIC,
    # --- judging (committee side) ---
    "judging.index": {Role.JUDGE},
    "judging.show": {Role.JUDGE},
    "judging.declare": {Role.JUDGE},
    "judging.sheet": {Role.JUDGE},
    "judging.correct": {Role.JUDGE},
    "judging.bid_file": {Role.JUDGE},
    "judging.chair": {Role.JUDGE},
    "judging.decide_low_price": {Role.JUDGE},
    "judging.close_round": {Role.JUDGE},
    "judging.submit_report": {Role.JUDGE},
    # --- grid cases ---
    "cases.index": {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
                    Role.FINANCE_OFFICER, AUD},
    "cases.export": {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
                     Role.FINANCE_OFFICER, AUD},
    "cases.show": {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
                   Role.FINANCE_OFFICER, AUD},
    "cases.new": {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF},
    "cases.verify": {Role.AGENCY_STAFF},
    "cases.cancel": {Role.AGENCY_STAFF},
    "cases.handle": {Role.AGENCY_STAFF},
    "cases.escalate": {Role.AGENCY_STAFF},
    "cases.department_result": {Role.CONTRACT_MANAGER, Role.LEADER},
    "cases.feed_back": {Role.AGENCY_STAFF},
    "cases.close": {Role.AGENCY_STAFF, Role.CONTRACT_MANAGER, Role.LEADER},
    "cases.rate": {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF},
    # --- task list and completion (work) ---
    **{endpoint: {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
                  Role.FINANCE_OFFICER, Role.UNIVERSITY_EVALUATOR, AUD}
       for endpoint in ("work.index", "work.agreement", "work.community", "work.quarter",
                        "work.export")},
    "work.draw_up": {Role.CONTRACT_MANAGER},
    "work.edit_task": {Role.CONTRACT_MANAGER},
    # --- progress records (records) ---
    "records.index": {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER,
                      Role.LEADER, Role.FINANCE_OFFICER, AUD},
    "records.export": {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER,
                       Role.LEADER, Role.FINANCE_OFFICER, AUD},
    "records.show": {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER,
                     Role.LEADER, Role.FINANCE_OFFICER, AUD},
    "records.new": {Role.AGENCY_STAFF},
    "records.batch": {Role.AGENCY_STAFF},
    "records.correct": {Role.AGENCY_STAFF},
    "records.withdraw": {Role.AGENCY_STAFF},
    # --- registers (registers) ---
    "registers.index": {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER,
                        Role.LEADER, Role.FINANCE_OFFICER, AUD},
    "registers.households": {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER,
                             Role.LEADER, Role.FINANCE_OFFICER, AUD},
    "registers.premises": {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER,
                           Role.LEADER, Role.FINANCE_OFFICER, AUD},
    "registers.template": {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER,
                           Role.LEADER, Role.FINANCE_OFFICER, AUD},
    "registers.export": {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER,
                         Role.LEADER, Role.FINANCE_OFFICER, AUD},
    "registers.import_file": {Role.AGENCY_STAFF, Role.CONTRACT_MANAGER},
    "registers.deactivate_household": {Role.AGENCY_STAFF, Role.CONTRACT_MANAGER},
    "registers.activate_household": {Role.AGENCY_STAFF, Role.CONTRACT_MANAGER},
    "registers.deactivate_premises": {Role.AGENCY_STAFF, Role.CONTRACT_MANAGER},
    "registers.activate_premises": {Role.AGENCY_STAFF, Role.CONTRACT_MANAGER},
    # --- team (team) ---
    # --- evaluation overview (evaluations) ---
    **{endpoint: {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
                  Role.FINANCE_OFFICER, Role.UNIVERSITY_EVALUATOR, AUD}
       for endpoint in ("evaluations.index", "evaluations.agreement", "evaluations.report_pdf",
                        "evaluations.export", "evaluations.export_indicators")},
    "evaluations.finalise": {Role.CONTRACT_MANAGER, Role.LEADER},
    # --- score sheets (sheets) ---
    **{endpoint: {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
                  Role.UNIVERSITY_EVALUATOR}
       for endpoint in ("sheets.index", "sheets.fill")},
    **{endpoint: {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
                  Role.UNIVERSITY_EVALUATOR, Role.FINANCE_OFFICER, AUD}
       for endpoint in ("sheets.show", "sheets.download", "sheets.indicators")},
    "sheets.accept": {Role.CONTRACT_MANAGER, Role.LEADER},
    "sheets.return_for_revision": {Role.CONTRACT_MANAGER, Role.LEADER},
    "sheets.edit_indicators": {Role.CONTRACT_MANAGER},
    "sheets.add_review": {Role.CONTRACT_MANAGER},
    # --- surveys (surveys) ---
    **{endpoint: {Role.CONTRACT_MANAGER, Role.LEADER, Role.FINANCE_OFFICER, Role.AGENCY_STAFF,
                  Role.COMMITTEE_STAFF, Role.UNIVERSITY_EVALUATOR, AUD}
       for endpoint in ("surveys.index", "surveys.show", "surveys.export")},
    "surveys.new": {Role.CONTRACT_MANAGER, Role.LEADER},
    "surveys.close": {Role.CONTRACT_MANAGER, Role.LEADER},
    "surveys.qr_pdf": {Role.CONTRACT_MANAGER, Role.LEADER},
    # the residents answer without an account
    "survey_public.answer": PUBLIC,
    "survey_public.thanks": PUBLIC,
    "team.index": {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
                   Role.FINANCE_OFFICER, AUD},
    "team.show": {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
                  Role.FINANCE_OFFICER, AUD},
    "team.export": {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
                    Role.FINANCE_OFFICER, AUD},
    "team.add": {Role.AGENCY_STAFF},
    "team.end": {Role.AGENCY_STAFF},
    # --- disbursements ---
    **{endpoint: {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
                  Role.FINANCE_OFFICER, AUD}
       for endpoint in ("disbursements.index", "disbursements.agreement",
                        "disbursements.export", "disbursements.instalment",
                        "disbursements.voucher", "disbursements.export_all")},
    "disbursements.set_rule": {Role.CONTRACT_MANAGER},
    "disbursements.report_spending": {Role.AGENCY_STAFF},
    "disbursements.request_payment": {Role.CONTRACT_MANAGER},
    "disbursements.approve": {Role.FINANCE_OFFICER, Role.LEADER},
    "disbursements.pay": {Role.FINANCE_OFFICER},
    "disbursements.release": {Role.FINANCE_OFFICER, Role.LEADER},
    "disbursements.reverse": {Role.FINANCE_OFFICER},
    # --- api --- (bearer token only: see the block at the end)
    "api.openapi": PUBLIC,
    "api.docs": PUBLIC,
    **{endpoint: {Role.TENDER_OFFICER, Role.LEADER, AUD, Role.CONTRACT_MANAGER,
                  Role.AGENCY_STAFF, Role.JUDGE}
       for endpoint in ("api.tenders", "api.tender", "api.bid")},
    **{endpoint: {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
                  Role.FINANCE_OFFICER, Role.UNIVERSITY_EVALUATOR, AUD}
       for endpoint in ("api.agreements", "api.agreement", "api.completion_of",
                        "api.agreement_evaluations")},
    **{endpoint: {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
                  Role.FINANCE_OFFICER, AUD}
       for endpoint in ("api.agreement_ledger", "api.instalments", "api.record_list",
                        "api.record_detail", "api.case_list", "api.case_detail")},
    "api.self_assessment": {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER,
                            Role.LEADER, Role.FINANCE_OFFICER, Role.UNIVERSITY_EVALUATOR, AUD},
    # API writes: who may POST (PUT for the self-assessment draft).
    **{endpoint: {Role.AGENCY_STAFF}
       for endpoint in ("api.record_create", "api.record_batch", "api.record_correct",
                        "api.record_withdraw", "api.case_verify", "api.case_cancel",
                        "api.case_handle", "api.case_escalate", "api.case_feed_back",
                        "api.save_self_assessment")},
    **{endpoint: {Role.AGENCY_STAFF, Role.COMMITTEE_STAFF}
       for endpoint in ("api.case_report", "api.case_rate")},
    "api.case_department_result": {Role.CONTRACT_MANAGER, Role.LEADER},
    "api.case_close": {Role.AGENCY_STAFF, Role.CONTRACT_MANAGER, Role.LEADER},
    "api.confirm_payment": {Role.FINANCE_OFFICER},
}
# Read-only roles may use these GET endpoints but never POST to them.
READ_ONLY = {"users.index", "users.export", "users.show", "orgs.index", "orgs.export",
             "orgs.directory_pdf", "orgs.show", "audit.index", "audit.show", "audit.verify",
             "audit.export"}
# tenders (street office side): leaders, auditors and contract managers only read.
READ_ONLY |= {"tenders.index", "tenders.export", "tenders.show", "tenders.report_pdf",
              "tenders.download_document", "tenders.invitation_pdf"}
# contracts (views): everyone but the contract manager only reads the list, the cooperation
# and the agreement (signing is its own POST endpoint).
READ_ONLY |= {"contracts.index", "contracts.export", "contracts.show", "contracts.agreement",
              "contracts.agreement_pdf"}
# contracts (amendments and special agreements): everyone but the contract manager only reads
# the pages (signing is its own endpoint).
READ_ONLY |= {"contracts.amendment", "contracts.special"}
# grid cases: the auditor only reads the list, its export and the case page.
READ_ONLY |= {"cases.index", "cases.export", "cases.show"}
# task list and completion (work): the auditor only reads.
READ_ONLY |= {"work.index", "work.agreement", "work.community", "work.quarter", "work.export"}
# progress records (records): the auditor only reads the list, its export and the record.
READ_ONLY |= {"records.index", "records.export", "records.show"}
# registers (registers):
READ_ONLY |= {"registers.index", "registers.households", "registers.premises",
              "registers.template", "registers.export"}
# team (team):
# evaluation overview (evaluations):
READ_ONLY |= {"evaluations.index", "evaluations.agreement", "evaluations.report_pdf",
              "evaluations.export", "evaluations.export_indicators"}
# score sheets (sheets): the auditor only reads a sheet, its evidence and the indicators.
READ_ONLY |= {"sheets.show", "sheets.download", "sheets.indicators"}
# surveys (surveys): the auditor only reads the list, a survey and its export.
READ_ONLY |= {"surveys.index", "surveys.show", "surveys.export"}
READ_ONLY |= {"team.index", "team.show", "team.export"}
# --- disbursements ---: the auditor only reads the ledger, its export, an instalment and a
# voucher.
READ_ONLY |= {"disbursements.index", "disbursements.agreement", "disbursements.export",
              "disbursements.instalment", "disbursements.voucher", "disbursements.export_all"}


def test_every_endpoint_declares_an_access_rule(app):
    declared = access_rules(app)
    missing = sorted(set(app.view_functions) - set(declared))
    assert not missing, f"endpoints without an access rule: {missing}"


def test_every_endpoint_is_in_the_expected_table(app):
    unknown = sorted(set(app.view_functions) - set(EXPECTED))
    assert not unknown, f"add these endpoints to EXPECTED with who may use them: {unknown}"
    stale = sorted(set(EXPECTED) - set(app.view_functions))
    assert not stale, f"EXPECTED names endpoints that no longer exist: {stale}"


def test_an_endpoint_without_a_rule_is_refused():
    from config import TestConfig
    from procurement import create_app

    fresh = create_app(TestConfig)  # a separate app: the shared one is already serving
    fresh.add_url_rule("/undeclared", "undeclared_probe", lambda: "secret")
    response = fresh.test_client().get("/undeclared")
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)


@pytest.fixture
def url_args(factory, db):
    from procurement.audit import record

    community = factory.community()
    user = factory.user(Role.AGENCY_STAFF)
    entry = record(None, "test.probe", user)
    return {"user_id": user.id, "org_id": community.street_office_id,
            "community_id": community.id, "entry_id": entry.id, "code": "en",
            "filename": "app.css"}


MISSING_ID = 10**6


def _url(app, endpoint, args):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        # An id no fixture provides points at nothing: the rule is checked before the lookup,
        # so an allowed role gets 404 and a refused one 403.
        return url_for(endpoint, **{name: args.get(name, MISSING_ID) for name in rule.arguments}
                       ), rule.methods


def _is_allowed(response) -> bool:
    if response.status_code in (401, 403):
        return False
    return not (response.status_code == 302 and "/login" in response.headers["Location"])


def _expected(endpoint, role, method):
    who = EXPECTED[endpoint]
    if who == PUBLIC:
        return True
    if role is None:
        return False
    if who == ANY:
        return True
    if role is AUD and endpoint in READ_ONLY and method != "GET":
        return False
    return role in who


def _endpoints(app):
    return sorted(set(app.view_functions) - {"static", "bootstrap.static"})


ROLES_AND_ANONYMOUS = [None, *Role]


@pytest.mark.parametrize("role", ROLES_AND_ANONYMOUS, ids=lambda r: r.value if r else "anonymous")
def test_each_role_reaches_exactly_the_endpoints_it_is_allowed(app, client, factory, login, url_args, role):
    if role is not None:
        org = factory.org(sorted(ROLE_ORG_KINDS[role])[0])
        login(factory.user(role, org=org))
    wrong = []
    for endpoint in _endpoints(app):
        if endpoint == "accounts.logout":
            continue  # would end the session under test; covered in tests/accounts
        url, methods = _url(app, endpoint, url_args)
        for method in ("GET", "POST"):
            if method not in methods:
                continue
            response = client.open(url, method=method, data={})
            expected = _expected(endpoint, role, method)
            if _bearer_only(endpoint):
                expected = EXPECTED[endpoint] == PUBLIC  # a session never authenticates it
            if _is_allowed(response) != expected:
                wrong.append(f"{method} {endpoint} -> {response.status_code}")
    assert not wrong, f"{role or 'anonymous'}: {wrong}"


def test_auditor_can_read_but_never_change(client, factory, login, url_args):
    org = factory.org("government")
    login(factory.user(Role.AUDITOR, org=org))
    for endpoint in ("users.deactivate", "users.reset_password", "orgs.deactivate", "orgs.add_grid"):
        url, _ = _url(client.application, endpoint, url_args)
        assert client.post(url).status_code == 403, endpoint


# --- api ---: the JSON API accepts only bearer tokens. The walk above proves a session cookie
# reaches none of its non-public endpoints; this one walks them with a token for every role.
def _bearer_only(endpoint: str) -> bool:
    return endpoint.startswith("api.")


@pytest.mark.parametrize("role", ROLES_AND_ANONYMOUS, ids=lambda r: r.value if r else "anonymous")
def test_each_role_reaches_exactly_the_api_endpoints_it_is_allowed_with_a_token(
        app, client, factory, url_args, role):
    from procurement.api.tokens import create_token

    headers = {}
    if role is not None:
        user = factory.user(role, org=factory.org(sorted(ROLE_ORG_KINDS[role])[0]))
        headers = {"Authorization": f"Bearer {create_token(user, user, 'probe')[1]}"}
    wrong = []
    for endpoint in [e for e in _endpoints(app) if _bearer_only(e)]:
        url, methods = _url(app, endpoint, url_args)
        for method in ("GET", "POST", "PUT"):
            if method not in methods:
                continue
            response = client.open(url, method=method, headers=headers)
            assert response.status_code < 500, (endpoint, response.status_code)
            if _is_allowed(response) != _expected(endpoint, role, method):
                wrong.append(f"{method} {endpoint} -> {response.status_code}")
    assert not wrong, f"{role or 'anonymous'}: {wrong}"
