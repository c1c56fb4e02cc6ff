"""The API's writes: progress records, grid cases, self-assessment drafts and payment
confirmations go through the services the pages call, so the same state and person rules
refuse the same things; a refusal is JSON naming the field when there is one, and leaves
nothing written."""
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from conftest import row_counts
from disbursements.test_disbursements import accept_quarter
from procurement.accounts.roles import Role
from procurement.api.tokens import create_token
from procurement.audit.models import AuditEntry
from procurement.contracts.states import EvaluationSource as Src
from procurement.core import clock
from procurement.disbursements import services
from procurement.disbursements.models import Account, Movement
from procurement.disbursements.states import InstalmentState
from procurement.evaluations import plan, sheets
from procurement.evaluations.models import EvaluationSheet
from procurement.extensions import db
from procurement.tasks.models import GridCase, WorkRecord
from procurement.tasks.states import CaseState, RecordStatus
from tasks.test_records import household


def bearer(user) -> dict:
    """One token per user and test (creating a token is itself audited)."""
    if not hasattr(user, "api_headers_for_test"):
        user.api_headers_for_test = {
            "Authorization": f"Bearer {create_token(user, user, '对接系统')[1]}"}
    return user.api_headers_for_test


def post(client, user, path, payload, method="POST"):
    return client.open(f"/api/v1{path}", method=method, json=payload, headers=bearer(user))


def refused(response, status, field=None) -> str:
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["field"] == field
    return error["message"]


# --- progress records ----------------------------------------------------------------------

def warm(*users):
    """Create the users' tokens now, so row counts taken after this see no token audit."""
    for user in users:
        bearer(user)


@pytest.fixture
def s(serving):
    warm(serving["worker"], serving["colleague"], serving["committee"], serving["manager"])
    return {**serving, "home": household(serving["community"], serving["grid"]),
            "today": clock.today().isoformat()}


def visit(s, **extra):
    return {"community_id": s["community"].id, "kind": "visit", "day": s["today"],
            "household_id": s["home"].id, "notes": "老人身体良好", **extra}


def test_an_agency_system_adds_a_record_through_the_service_and_it_is_audited(client, s):
    response = post(client, s["worker"], "/records", visit(s))
    assert response.status_code == 201
    data = response.get_json()["data"]
    assert (data["kind"], data["household"], data["grid_id"], data["status"]) == (
        "visit", "1栋101", s["grid"].id, "current")
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "record.add"))
    assert entry is not None and entry.object_id == str(data["id"])


def test_the_same_visit_sent_twice_is_refused_as_on_the_page(client, s):
    assert post(client, s["worker"], "/records", visit(s)).status_code == 201
    before = row_counts(WorkRecord, AuditEntry)
    message = refused(post(client, s["worker"], "/records", visit(s)), 409)
    assert "请勿重复填写" in message
    assert row_counts(WorkRecord, AuditEntry) == before


@pytest.mark.parametrize("change, status, field, words", [
    ({"day": "2026-02-30"}, 422, "day", "不是有效日期"),
    ({"day": "３０００-01-01"}, 422, "day", "不能晚于今天"),  # full-width digits are read
    ({"household_id": 2**40}, 422, "household_id", "有效的编号"),
    ({"participants": "３"}, 422, "participants", "应为整数"),
    ({"kind": "夜访"}, 422, "kind", "取值只能是"),
    ({"notes": "长" * 5001}, 422, "notes", "最多 5000 个字"),
    ({"community_id": None}, 422, "community_id", "请填写社区"),
    ({"secret": 1}, 400, "secret", "不认识的字段"),
    ({"household_id": None}, 422, "household", "须选择住户"),  # the service's own rule
])
def test_a_bad_record_is_refused_naming_the_field_and_nothing_is_written(
        client, s, change, status, field, words):
    before = row_counts(WorkRecord, AuditEntry)
    assert words in refused(post(client, s["worker"], "/records", visit(s, **change)), status,
                            field)
    assert row_counts(WorkRecord, AuditEntry) == before


def test_a_body_that_is_not_a_json_object_is_refused(client, s):
    headers = bearer(s["worker"])
    response = client.post("/api/v1/records", data="community_id=1", headers=headers,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    response = client.post("/api/v1/records", data="[1, 2]", headers=headers,
                           content_type="application/json")
    assert response.status_code == 400
    response = client.post("/api/v1/records", data="{not json", headers=headers,
                           content_type="application/json")
    assert response.status_code == 400


def test_only_the_serving_agency_writes_records(client, s, factory):
    stranger = factory.user(Role.AGENCY_STAFF)
    warm(stranger)
    before = row_counts(WorkRecord, AuditEntry)
    assert "只有当日承接本社区服务的机构人员" in refused(
        post(client, stranger, "/records", visit(s)), 409)
    assert post(client, s["committee"], "/records", visit(s)).status_code == 403
    assert row_counts(WorkRecord, AuditEntry) == before


def test_a_batch_is_written_whole_or_not_at_all(client, s, factory):
    second = household(s["community"], s["grid"], "1栋102")
    payload = {"grid_id": s["grid"].id, "kind": "visit", "day": s["today"],
               "household_ids": [s["home"].id, second.id]}
    response = post(client, s["worker"], "/records/batch", payload)
    assert response.status_code == 201 and len(response.get_json()["data"]) == 2
    other = factory.community()
    elsewhere = household(other, other.grids[0], "9栋909")
    third = household(s["community"], s["grid"], "1栋103")
    before = row_counts(WorkRecord, AuditEntry)
    payload["household_ids"] = [third.id, elsewhere.id]
    assert post(client, s["worker"], "/records/batch", payload).status_code in (409, 422)
    assert row_counts(WorkRecord, AuditEntry) == before
    payload["kind"] = "activity"  # not a batch kind: refused by the body's own schema
    assert refused(post(client, s["worker"], "/records/batch", payload), 422, "kind")


def test_a_correction_replaces_the_record_and_a_corrected_record_cannot_be_corrected_again(
        client, s):
    first = post(client, s["worker"], "/records", visit(s)).get_json()["data"]
    response = post(client, s["colleague"], f"/records/{first['id']}/correct",
                    {"reason": "备注写错", "notes": "老人需要送餐服务"})
    assert response.status_code == 201
    new = response.get_json()["data"]
    assert (new["replaces_id"], new["notes"], new["change_reason"]) == (
        first["id"], "老人需要送餐服务", "备注写错")
    assert db.session.get(WorkRecord, first["id"]).status is RecordStatus.CORRECTED
    before = row_counts(WorkRecord, AuditEntry)
    message = refused(post(client, s["worker"], f"/records/{first['id']}/correct",
                           {"reason": "再改", "notes": "另一个"}), 409)
    assert "已更正" in message
    assert refused(post(client, s["worker"], f"/records/{new['id']}/correct",
                        {"notes": "无原因"}), 422, "reason")
    assert row_counts(WorkRecord, AuditEntry) == before


def test_withdrawing_keeps_the_row_and_another_agency_cannot_see_the_record(
        client, s, factory):
    row = post(client, s["worker"], "/records", visit(s)).get_json()["data"]
    stranger = factory.user(Role.AGENCY_STAFF)
    assert post(client, stranger, f"/records/{row['id']}/withdraw",
                {"reason": "录错"}).status_code == 404
    assert refused(post(client, s["worker"], f"/records/{row['id']}/withdraw",
                        {"reason": "   "}), 422, "reason")
    response = post(client, s["worker"], f"/records/{row['id']}/withdraw", {"reason": "录错了"})
    assert response.status_code == 200
    assert response.get_json()["data"]["status"] == "withdrawn"
    assert refused(post(client, s["worker"], f"/records/{row['id']}/withdraw",
                        {"reason": "再作废"}), 409)
    listed = client.get("/api/v1/records?status=withdrawn", headers=bearer(s["committee"]))
    assert [r["id"] for r in listed.get_json()["data"]] == [row["id"]]
    assert client.get(f"/api/v1/records/{row['id']}", headers=bearer(stranger)).status_code == 404


# --- grid cases ----------------------------------------------------------------------------

REPORT = {"category": "safety", "urgency": "normal", "title": "楼道堆放杂物",
          "description": "3号楼楼道堆放纸箱，影响消防通道。", "location": "3号楼"}


def test_a_case_from_the_grid_platform_runs_its_whole_flow(client, s):
    response = post(client, s["committee"], "/cases", {"grid_id": s["grid"].id, **REPORT})
    assert response.status_code == 201
    case = response.get_json()["data"]
    assert (case["state"], case["overdue"]) == ("reported", False)
    path = f"/cases/{case['id']}"
    assert post(client, s["worker"], f"{path}/verify", None).status_code == 200
    assert post(client, s["worker"], f"{path}/handle", {"result": "已联系住户清理"}).status_code == 200
    assert post(client, s["worker"], f"{path}/feed-back", {"feedback": "已清理"}).status_code == 200
    # The handler may not check and close their own case: the service's rule, as on the page.
    assert "处置人不能核查办结" in refused(post(client, s["worker"], f"{path}/close", {}), 409)
    assert post(client, s["colleague"], f"{path}/close", {}).status_code == 200
    assert refused(post(client, s["committee"], f"{path}/rate", {"rating": 6}), 422, "rating")
    assert post(client, s["worker"], f"{path}/rate", {"rating": 5}).status_code == 409
    response = post(client, s["committee"], f"{path}/rate", {"rating": 5, "comment": "及时"})
    assert response.get_json()["data"]["state"] == "rated"
    listed = client.get("/api/v1/cases", query_string={"updated_since": case["reported_at"]},
                        headers=bearer(s["manager"]))
    assert [c["state"] for c in listed.get_json()["data"]] == ["rated"]
    later = (clock.now() + timedelta(minutes=5)).isoformat()
    assert client.get("/api/v1/cases", query_string={"updated_since": later},
                      headers=bearer(s["manager"])).get_json()["data"] == []
    actions = db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.object_type == "grid_cases").order_by(AuditEntry.seq)).all()
    assert actions == ["case.reported", "case.verified", "case.handled", "case.fed_back",
                       "case.closed", "case.rated"]


def test_a_step_the_cases_state_does_not_allow_is_refused_and_changes_nothing(client, s):
    case = post(client, s["worker"], "/cases", {"grid_id": s["grid"].id, **REPORT}
                ).get_json()["data"]
    path = f"/cases/{case['id']}"
    before = row_counts(GridCase, AuditEntry)
    message = refused(post(client, s["worker"], f"{path}/feed-back", {"feedback": "提前反馈"}), 409)
    assert "不能" in message
    assert refused(post(client, s["worker"], f"{path}/cancel", {}), 422, "reason")
    # Verify is the agency's; the committee's token is refused at the door (403).
    assert post(client, s["committee"], f"{path}/verify", None).status_code == 403
    assert row_counts(GridCase, AuditEntry) == before
    assert db.session.get(GridCase, case["id"]).state is CaseState.REPORTED


def test_a_case_is_reported_only_for_a_community_the_caller_serves(client, s, factory):
    other = factory.community()
    before = row_counts(GridCase, AuditEntry)
    response = post(client, s["worker"], "/cases", {"grid_id": other.grids[0].id, **REPORT})
    assert response.status_code == 409
    assert row_counts(GridCase, AuditEntry) == before


# --- self-assessment drafts ----------------------------------------------------------------

def test_an_agency_saves_a_self_assessment_draft_the_way_the_page_does(client, appraised):
    a = appraised
    warm(a["agency"], a["committee"], a["other_agency"])
    path = f"/evaluation-periods/{a['quarter'].id}/communities/{a['community'].id}/self-assessment"
    sheet = client.get(f"/api/v1{path}", headers=bearer(a["agency"])).get_json()["data"]
    assert sheet["state"] is None and sheet["indicators"]
    first, second = sheet["indicators"][:2]
    response = post(client, a["agency"], path, {
        "scores": [{"indicator_id": first["id"], "score": "１.５"},
                   {"indicator_id": second["id"], "score": None}],
        "narrative": "本季度完成走访。"}, method="PUT")
    assert response.status_code == 200, response.get_json()
    data = response.get_json()["data"]
    assert (data["state"], data["narrative"]) == ("draft", "本季度完成走访。")
    assert [i["score"] for i in data["indicators"][:2]] == ["1.5", None]
    # Over the maximum: the service's message, on the field, nothing changed.
    before = row_counts(EvaluationSheet, AuditEntry)
    over = str(Decimal(first["max_score"]) + 1)
    message = refused(post(client, a["agency"], path, {
        "scores": [{"indicator_id": first["id"], "score": over}]}, method="PUT"), 422, "scores")
    assert "得分应在" in message
    assert row_counts(EvaluationSheet, AuditEntry) == before
    # A draft is the agency's own: the committee cannot read or write it.
    assert client.get(f"/api/v1{path}", headers=bearer(a["committee"])).status_code == 404
    assert post(client, a["committee"], path, {"narrative": "x"}, method="PUT").status_code == 403
    assert post(client, a["other_agency"], path, {"narrative": "x"},
                method="PUT").status_code == 404


def test_a_submitted_self_assessment_cannot_be_changed_through_the_api(client, appraised):
    a = appraised
    period, community = a["quarter"], a["community"]
    indicators = plan.indicator_set(period.agreement, Src.SELF).indicators
    with clock.frozen(clock.now() - timedelta(days=1)):
        sheet = sheets.save(a["agency"], period, community, Src.SELF, narrative="自评",
                            scores={i.id: str(i.max_score) for i in indicators})
        sheets.submit(a["agency"], sheet)
    path = f"/evaluation-periods/{period.id}/communities/{community.id}/self-assessment"
    message = refused(post(client, a["agency"], path, {"narrative": "改一下"}, method="PUT"), 409)
    assert "已提交" in message
    assert client.get(f"/api/v1{path}", headers=bearer(a["committee"])).get_json()[
        "data"]["state"] == "submitted"


# --- payment confirmations -----------------------------------------------------------------

@pytest.fixture
def approved(appraised, factory):
    a = appraised
    accept_quarter(a)
    account = db.session.scalar(sa.select(Account).where(
        Account.agreement_id == a["agreement"].id, Account.community_id == a["community"].id))
    instalment = next(i for i in account.instalments if i.number == 1)
    services.request(a["manager"], instalment)
    services.approve(a["leader"], instalment)
    finance = factory.user(Role.FINANCE_OFFICER, org=a["agreement"].cooperation.street_office)
    warm(finance, a["agency"])
    return {**a, "instalment": instalment, "finance": finance}


def test_the_finance_system_confirms_a_payment_once(client, approved):
    a, instalment = approved, approved["instalment"]
    path = f"/instalments/{instalment.id}/payments"
    today = clock.today().isoformat()
    response = post(client, a["finance"], path, {"paid_on": today, "voucher_no": "LY-0001"})
    assert response.status_code == 200, response.get_json()
    data = response.get_json()["data"]
    assert (data["state"], data["paid"]) == ("paid", data["payable"])
    before = row_counts(Movement, AuditEntry)
    # A retried confirmation is refused by the instalment's state: never paid twice.
    assert refused(post(client, a["finance"], path, {"paid_on": today, "voucher_no": "LY-0001"}),
                   409)
    assert row_counts(Movement, AuditEntry) == before


@pytest.mark.parametrize("payload, field, words", [
    ({"amount": "40万"}, "amount", "拨付金额应在"),
    ({"amount": 100.5}, "amount", "字符串形式的金额"),
    ({"amount": "1.00"}, "reason", "暂扣原因"),
    ({"paid_on": "2999-01-01"}, "paid_on", "不能晚于今天"),
    ({"voucher_no": ""}, "voucher_no", "凭证号"),
])
def test_a_bad_payment_confirmation_names_the_field_and_pays_nothing(
        client, approved, payload, field, words):
    a, instalment = approved, approved["instalment"]
    body = {"paid_on": clock.today().isoformat(), "voucher_no": "LY-0002", **payload}
    before = row_counts(Movement, AuditEntry)
    message = refused(post(client, a["finance"], f"/instalments/{instalment.id}/payments", body),
                      422, field)
    assert words in message
    assert row_counts(Movement, AuditEntry) == before
    assert instalment.state is InstalmentState.APPROVED


def test_only_the_street_offices_finance_confirms_payments(client, approved, factory):
    a, instalment = approved, approved["instalment"]
    body = {"paid_on": clock.today().isoformat(), "voucher_no": "LY-0003"}
    path = f"/instalments/{instalment.id}/payments"
    assert post(client, a["agency"], path, body).status_code == 403
    elsewhere = factory.user(Role.FINANCE_OFFICER, org=factory.community().street_office)
    assert post(client, elsewhere, path, body).status_code == 404
    assert instalment.state is InstalmentState.APPROVED
