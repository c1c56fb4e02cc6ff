"""The progress-record pages: the two-step form with only the kind's fields, typed
addresses for big registers, the batch page, correcting and withdrawing from the record page,
who sees what (scoped in SQL), the export, and a list whose query count does not grow with
the number of records. Refused input shows the service's message and writes nothing.

Pages run on the real clock: the `serving` agreement is in force today."""
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from conftest import row_counts
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.core.calendar import local_today
from procurement.extensions import db as _db
from procurement.orgs.models import OrgKind
from procurement.tasks import record_views, records
from procurement.tasks.models import Household, Premises, WorkRecord
from procurement.tasks.states import PremisesKind, RecordKind, RecordStatus

K = RecordKind


def _text(response) -> str:
    return response.get_data(as_text=True)


def household(community, grid, address="1栋101", head="王五"):
    row = Household(community_id=community.id, grid_id=grid.id, building=address[:2],
                    address=address, head_name=head)
    _db.session.add(row)
    _db.session.flush()
    return row


@pytest.fixture
def s(serving):
    community, grid = serving["community"], serving["grid"]
    shop = Premises(community_id=community.id, grid_id=grid.id, kind=PremisesKind.SHOP,
                    name="幸福超市", address="幸福路1号")
    _db.session.add(shop)
    return {**serving, "home": household(community, grid), "shop": shop,
            "today": local_today()}


def new_url(s, kind):
    return f"/records/new?community={s['community'].id}&kind={kind.value}"


def visit(s, by="worker", **fields):
    return records.add(s[by], community=s["community"], kind=K.VISIT, day=s["today"],
                       household=s["home"], **fields)


# --- entering a record ---------------------------------------------------------------------


def test_a_worker_enters_a_visit_in_two_steps(s, sign_in):
    client = sign_in(s["worker"])
    first = _text(client.get("/records/new"))
    assert s["community"].name in first and "入户走访" in first
    form = _text(client.get(new_url(s, K.VISIT)))
    assert "1栋101 王五" in form and 'name="minutes"' not in form
    assert 'name="participants"' not in form and 'name="grid"' not in form
    response = client.post(new_url(s, K.VISIT), data={
        "day": s["today"].isoformat(), "household": str(s["home"].id), "notes": "老人身体良好"})
    assert response.status_code == 302
    row = _db.session.scalars(sa.select(WorkRecord)).one()
    assert response.headers["Location"].endswith(f"/records/{row.id}")
    assert (row.kind, row.household_id, row.grid_id, row.recorded_by_id) == (
        K.VISIT, s["home"].id, s["grid"].id, s["worker"].id)
    assert "老人身体良好" in _text(client.get(f"/records/{row.id}"))


def test_a_double_submit_writes_one_record(s, sign_in):
    client = sign_in(s["worker"])
    data = {"day": s["today"].isoformat(), "household": str(s["home"].id)}
    assert client.post(new_url(s, K.VISIT), data=data).status_code == 302
    again = client.post(new_url(s, K.VISIT), data=data)
    assert again.status_code == 200 and "当天已有一条入户走访记录" in _text(again)
    assert row_counts(WorkRecord) == (1,)


def test_a_meeting_form_asks_for_minutes_and_refuses_without_them(s, sign_in):
    client = sign_in(s["worker"])
    form = _text(client.get(new_url(s, K.JOINT_MEETING)))
    assert 'name="minutes"' in form and 'name="participants"' in form
    assert 'name="household"' not in form and 'name="premises"' not in form
    before = row_counts(WorkRecord, AuditEntry)
    page = _text(client.post(new_url(s, K.JOINT_MEETING), data={
        "day": s["today"].isoformat(), "title": "联席会议", "participants": "１２"}))
    assert "请填写联席会议的会议纪要。" in page
    assert row_counts(WorkRecord, AuditEntry) == before
    response = client.post(new_url(s, K.JOINT_MEETING), data={
        "day": s["today"].isoformat(), "title": "联席会议", "participants": "１２",
        "minutes": "通报第一季度进度。"})
    assert response.status_code == 302
    assert _db.session.scalar(sa.select(WorkRecord.participants)) == 12


@pytest.mark.parametrize("field, value, message", [
    ("participants", "十二", "请填写整数"),
    ("participants", "-3", "请填写整数"),
    ("day", "2026-02-30", "请按“年-月-日”填写日期"),
    ("day", "", "请填写日期"),
    ("title", "x" * 201, "不能超过 200 个字符"),
])
def test_bad_input_gets_a_clear_message_and_writes_nothing(s, sign_in, field, value, message):
    client = sign_in(s["worker"])
    data = {"day": s["today"].isoformat(), "title": "重阳节活动", "participants": "30",
            field: value}
    before = row_counts(WorkRecord, AuditEntry)
    response = client.post(new_url(s, K.ACTIVITY), data=data)
    assert response.status_code == 200 and message in _text(response)
    assert row_counts(WorkRecord, AuditEntry) == before


def test_a_future_day_is_refused_on_its_field(s, sign_in):
    client = sign_in(s["worker"])
    tomorrow = (s["today"] + timedelta(days=1)).isoformat()
    page = _text(client.post(new_url(s, K.VISIT), data={
        "day": tomorrow, "household": str(s["home"].id)}))
    assert "记录日期不能晚于今天。" in page and row_counts(WorkRecord) == (0,)


def test_a_community_the_agency_does_not_serve_cannot_be_chosen(s, sign_in, factory):
    other = factory.community()
    client = sign_in(s["worker"])
    page = _text(client.get(f"/records/new?community={other.id}&kind=visit"))
    assert "选项无效" in page and 'name="household"' not in page


def test_a_big_register_takes_a_typed_address(s, sign_in, monkeypatch):
    monkeypatch.setattr(record_views, "SELECT_LIMIT", 0)
    client = sign_in(s["worker"])
    form = _text(client.get(new_url(s, K.VISIT)))
    assert 'name="household" type="text"' in form and "1栋101 王五" not in form
    page = _text(client.post(new_url(s, K.VISIT), data={
        "day": s["today"].isoformat(), "household": "9栋999"}))
    assert "本社区台账中没有地址为“9栋999”的住户" in page and row_counts(WorkRecord) == (0,)
    response = client.post(new_url(s, K.VISIT), data={
        "day": s["today"].isoformat(), "household": "１栋101"})
    assert response.status_code == 302
    assert _db.session.scalar(sa.select(WorkRecord.household_id)) == s["home"].id


def test_the_batch_page_enters_the_ticked_households(s, sign_in):
    second = household(s["community"], s["grid"], "1栋102", "赵六")
    household(s["community"], s["community"].grids[1], "7栋701", "别的网格")
    client = sign_in(s["worker"])
    assert s["grid"].name in _text(client.get("/records/batch"))
    url = f"/records/batch?grid={s['grid'].id}&kind=visit"
    form = _text(client.get(url))
    assert "1栋101 王五" in form and "1栋102 赵六" in form and "7栋701" not in form
    response = client.post(url, data={"day": s["today"].isoformat(),
                                       "items": [str(s["home"].id), str(second.id)]})
    assert response.status_code == 302
    assert sorted(_db.session.scalars(sa.select(WorkRecord.household_id))) == sorted(
        [s["home"].id, second.id])
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "record.batch")) == 1


def test_a_batch_with_nothing_ticked_writes_nothing(s, sign_in):
    client = sign_in(s["worker"])
    page = _text(client.post(f"/records/batch?grid={s['grid'].id}&kind=visit",
                             data={"day": s["today"].isoformat()}))
    assert "请至少勾选一个住户。" in page and row_counts(WorkRecord) == (0,)


# --- the record page -----------------------------------------------------------------------


def test_correcting_from_the_record_page_keeps_the_old_record(s, sign_in):
    old = visit(s, notes="第一次")
    client = sign_in(s["colleague"])
    page = _text(client.get(f"/records/{old.id}"))
    assert "保存更正" in page and "作废记录" in page and "第一次" in page
    refused = _text(client.post(f"/records/{old.id}/correct", data={
        "day": s["today"].isoformat(), "household": str(s["home"].id), "notes": "补充"}))
    assert "请填写更正原因。" in refused
    response = client.post(f"/records/{old.id}/correct", data={
        "day": s["today"].isoformat(), "household": str(s["home"].id), "notes": "补充情况",
        "reason": "漏记情况"})
    assert response.status_code == 302
    new = _db.session.scalar(sa.select(WorkRecord).where(WorkRecord.replaces_id == old.id))
    assert response.headers["Location"].endswith(f"/records/{new.id}")
    assert _db.session.get(WorkRecord, old.id).status is RecordStatus.CORRECTED
    history = _text(client.get(f"/records/{new.id}"))
    assert "漏记情况" in history and "已更正" in history
    assert "保存更正" not in _text(client.get(f"/records/{old.id}"))
    again = _text(client.post(f"/records/{old.id}/correct", data={
        "day": s["today"].isoformat(), "household": str(s["home"].id), "notes": "再改",
        "reason": "再改"}))
    assert "工作记录当前状态为“已更正”，不能更正。" in again


def test_withdrawing_from_the_record_page_keeps_the_row(s, sign_in):
    row = visit(s)
    client = sign_in(s["worker"])
    assert "请填写作废原因。" in _text(client.post(f"/records/{row.id}/withdraw", data={}))
    response = client.post(f"/records/{row.id}/withdraw", data={"withdraw-reason": "重复录入"})
    assert response.status_code == 302
    kept = _db.session.get(WorkRecord, row.id)
    assert kept.status is RecordStatus.WITHDRAWN and kept.withdraw_reason == "重复录入"
    assert "重复录入" in _text(client.get(f"/records/{row.id}"))


def test_another_agency_may_neither_read_nor_change_a_record(s, sign_in, factory):
    row = visit(s)
    stranger = factory.user(Role.AGENCY_STAFF, org=factory.org(OrgKind.AGENCY))
    client = sign_in(stranger)
    assert client.get(f"/records/{row.id}").status_code == 403
    assert client.post(f"/records/{row.id}/withdraw", data={"withdraw-reason": "x"}).status_code == 403
    assert client.post(f"/records/{row.id}/correct", data={"reason": "x"}).status_code == 403
    assert "1栋101" not in _text(client.get("/records/"))
    assert _db.session.get(WorkRecord, row.id).status is RecordStatus.CURRENT


def test_the_committee_reads_its_own_community_only(s, sign_in, factory):
    row = visit(s)
    own = sign_in(s["committee"])
    assert "1栋101" in _text(own.get("/records/"))
    page = _text(own.get(f"/records/{row.id}"))
    assert "1栋101" in page and "保存更正" not in page and "作废记录" not in page
    other = factory.community()
    outsider = sign_in(factory.user(Role.COMMITTEE_STAFF, org=other.committee))
    assert "1栋101" not in _text(outsider.get("/records/"))
    assert outsider.get(f"/records/{row.id}").status_code == 403


def test_the_street_office_and_the_auditor_read(s, sign_in, factory):
    row = visit(s)
    assert "1栋101" in _text(sign_in(s["manager"]).get(f"/records/{row.id}"))
    auditor = sign_in(factory.user(Role.AUDITOR, org=factory.org(OrgKind.GOVERNMENT)))
    assert "1栋101" in _text(auditor.get("/records/"))
    assert auditor.post(f"/records/{row.id}/withdraw", data={"withdraw-reason": "x"}).status_code == 403


# --- the list and its export ---------------------------------------------------------------


def test_the_list_filters_and_hides_replaced_records_unless_asked(s, sign_in):
    kept = visit(s, notes="保留")
    gone = records.add(s["worker"], community=s["community"], kind=K.ACTIVITY, day=s["today"],
                       title="重阳节活动", participants=30)
    records.withdraw(s["worker"], gone, reason="重复")
    client = sign_in(s["worker"])
    listed = _text(client.get("/records/"))
    assert "1栋101" in listed and "重阳节活动" not in listed
    assert "重阳节活动" in _text(client.get("/records/?everything=1"))
    assert "1栋101" not in _text(client.get("/records/?kind=activity&everything=1"))
    assert "1栋101" in _text(client.get("/records/?q=1栋"))
    assert "1栋101" not in _text(client.get("/records/?q=%25%25"))  # wildcards are literal
    yesterday = (s["today"] - timedelta(days=1)).isoformat()
    assert "1栋101" not in _text(client.get(f"/records/?end={yesterday}"))
    assert "没有符合条件" in _text(client.get("/records/?start=not-a-date"))
    assert kept.id


def test_the_export_holds_the_filtered_records(s, sign_in):
    visit(s, notes="导出备注")
    records.add(s["worker"], community=s["community"], kind=K.WINDOW_SERVICE, day=s["today"],
                title="准生证办理", resolved=True)
    response = sign_in(s["committee"]).get("/records/export.xlsx?kind=visit")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("日期", "类型") and len(rows) == 2
    assert rows[1][1] == "入户走访" and rows[1][4] == "1栋101" and "导出备注" in rows[1]


def test_the_list_runs_as_many_queries_for_1000_records_as_for_10(s, sign_in):
    homes = [Household(community_id=s["community"].id, grid_id=s["grid"].id, building="5栋",
                       address=f"5栋{i:04d}", head_name="李四") for i in range(1000)]
    _db.session.add_all(homes)
    _db.session.flush()
    ids = [h.id for h in homes]
    records.add_batch(s["worker"], community=s["community"], grid=s["grid"], kind=K.VISIT,
                      day=s["today"], household_ids=ids[:10])
    client = sign_in(s["worker"])
    engine = _db.engine
    counted = []

    def count(*args):
        counted[-1] += 1

    def list_page():
        counted.append(0)
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            page = _text(client.get("/records/"))
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return page

    assert "共 10 条" in list_page()
    records.add_batch(s["worker"], community=s["community"], grid=s["grid"], kind=K.VISIT,
                      day=s["today"], household_ids=ids[10:])
    assert "共 1000 条" in list_page()
    assert counted[0] == counted[1], counted
