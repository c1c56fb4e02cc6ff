"""Progress records (工作记录): what each kind needs, who may write them and for which day,
corrections that keep the old record, withdrawals that keep the row, and batches that are
written whole or not at all, in a bounded number of queries."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from conftest import row_counts
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.core import clock
from procurement.core.errors import DomainError, InvalidTransition
from procurement.extensions import db as _db
from procurement.orgs.models import OrgKind
from procurement.tasks import records
from procurement.tasks.models import Household, Premises, WorkRecord
from procurement.tasks.states import PremisesKind, RecordKind, RecordStatus

K = RecordKind


def household(community, grid, address="1栋101", active=True):
    row = Household(community_id=community.id, grid_id=grid.id, building=address[:2],
                    address=address, head_name="张三", active=active)
    _db.session.add(row)
    _db.session.flush()
    return row


def premises(community, grid, name="幸福超市", kind=PremisesKind.SHOP):
    row = Premises(community_id=community.id, grid_id=grid.id, kind=kind, name=name,
                   address="幸福路1号")
    _db.session.add(row)
    _db.session.flush()
    return row


@pytest.fixture
def s(serving):
    """The serving community with a household and a shop in its first grid."""
    community, grid = serving["community"], serving["grid"]
    return {**serving, "home": household(community, grid), "shop": premises(community, grid),
            "today": clock.today()}


def add(s, kind, by="worker", **fields):
    fields.setdefault("day", s["today"])
    return records.add(s[by], community=s["community"], kind=kind, **fields)


def refused(s, kind, field=None, **fields) -> str:
    before = row_counts(WorkRecord, AuditEntry)
    with pytest.raises(DomainError) as info:
        add(s, kind, **fields)
    assert row_counts(WorkRecord, AuditEntry) == before
    if field is not None:
        assert info.value.field == field
    return info.value.message


def audit_entries(action):
    return _db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)
                               .order_by(AuditEntry.seq)).all()


# --- what each kind needs ------------------------------------------------------------------


def test_a_visit_needs_a_household_and_takes_its_grid(s):
    assert "须选择住户" in refused(s, K.VISIT, "household", grid=s["grid"])
    row = add(s, K.VISIT, household=s["home"], notes="老人身体良好")
    assert (row.grid_id, row.household_id, row.status) == (
        s["grid"].id, s["home"].id, RecordStatus.CURRENT)
    assert row.agreement_id == s["agreement"].id and row.recorded_by_id == s["worker"].id


def test_a_household_elsewhere_or_struck_off_is_refused(s, factory):
    other = factory.community()
    stranger = household(other, other.grids[0], "9栋909")
    assert "不属于本社区" in refused(s, K.VISIT, "household", household=stranger)
    second_grid = s["community"].grids[1]
    assert "不在所选网格" in refused(s, K.INFO_UPDATE, "household", household=s["home"],
                                  grid=second_grid)
    gone = household(s["community"], s["grid"], "2栋202", active=False)
    assert "注销" in refused(s, K.VISIT, "household", household=gone)


def test_a_joint_meeting_needs_a_title_participants_and_minutes(s):
    base = {"title": "第一季度联席会议", "participants": 12, "minutes": "通报进度，研究问题。"}
    for missing, field in (("title", "title"), ("participants", "participants"),
                           ("minutes", "minutes")):
        assert refused(s, K.JOINT_MEETING, field, **{**base, missing: None})
    row = add(s, K.JOINT_MEETING, **base)
    assert row.grid_id is None and row.minutes == "通报进度，研究问题。"


def test_an_activity_needs_at_least_one_participant(s):
    assert "至少 1 人" in refused(s, K.ACTIVITY, "participants", title="重阳节活动",
                                 participants=0)
    assert "整数" in refused(s, K.ACTIVITY, "participants", title="重阳节活动",
                            participants="三十")
    assert add(s, K.ACTIVITY, title="重阳节活动", participants=35).participants == 35


def test_an_inspection_needs_its_premises_and_findings_when_hazards_were_found(s):
    assert "企业或店铺" in refused(s, K.INSPECTION, "premises", grid=s["grid"], hazards=0)
    assert "隐患情况" in refused(s, K.INSPECTION, "findings", premises=s["shop"], hazards=2)
    clean = add(s, K.INSPECTION, premises=s["shop"])
    assert (clean.hazards, clean.grid_id) == (0, s["grid"].id)
    factory_site = premises(s["community"], s["grid"], "恒达厂", PremisesKind.ENTERPRISE)
    found = add(s, K.INSPECTION, premises=factory_site, hazards=2,
                findings="灭火器过期；电线私拉。")
    assert found.hazards == 2 and "灭火器" in found.findings


def test_window_service_needs_resolved_and_may_serve_the_whole_community(s):
    assert "是否已办结" in refused(s, K.WINDOW_SERVICE, "resolved", title="准生证办理")
    row = add(s, K.WINDOW_SERVICE, title="准生证办理", resolved=False)
    assert row.resolved is False and row.grid_id is None


def test_a_grid_task_needs_a_grid_of_its_own_community(s, factory):
    assert "须选择网格" in refused(s, K.PATROL, "grid")
    other = factory.community()
    assert "网格不属于本社区" in refused(s, K.PATROL, "grid", grid=other.grids[0])
    assert add(s, K.PATROL, grid=s["grid"], findings="无两违").grid_id == s["grid"].id


def test_facts_a_kind_does_not_hold_are_not_stored(s):
    row = add(s, K.VISIT, household=s["home"], minutes="不该存", participants=3, hazards=1,
              resolved=True, title="不该存")
    assert (row.minutes, row.participants, row.hazards, row.resolved, row.title) == (
        None, None, None, None, None)


def test_the_same_visit_twice_on_one_day_is_refused_as_a_double_submit(s):
    add(s, K.VISIT, household=s["home"])
    assert "当天已有一条入户走访记录" in refused(s, K.VISIT, household=s["home"])
    assert add(s, K.INFO_UPDATE, household=s["home"]).kind is K.INFO_UPDATE


# --- who, and for which day ----------------------------------------------------------------


def test_a_future_date_is_refused(s):
    assert "不能晚于今天" in refused(s, K.VISIT, "day", household=s["home"],
                                 day=s["today"] + timedelta(days=1))


def test_a_date_outside_any_agreement_is_refused(s):
    before_start = s["agreement"].start_date - timedelta(days=1)
    message = refused(s, K.VISIT, "day", household=s["home"], day=before_start)
    assert message == "该日期没有生效的服务协议覆盖本社区。"


def test_only_the_serving_agency_may_write(s, factory):
    s["stranger"] = factory.user(Role.AGENCY_STAFF, org=factory.org(OrgKind.AGENCY))
    for who in ("stranger", "committee", "manager"):
        before = row_counts(WorkRecord)
        with pytest.raises(DomainError, match="承接本社区服务的机构人员"):
            add(s, K.VISIT, by=who, household=s["home"])
        assert row_counts(WorkRecord) == before
    assert add(s, K.VISIT, by="colleague", household=s["home"]).recorded_by_id == \
        s["colleague"].id


def test_adding_a_record_is_audited(s):
    row = add(s, K.VISIT, household=s["home"])
    (entry,) = audit_entries("record.add")
    assert (entry.object_type, entry.object_id) == ("work_records", str(row.id))
    assert entry.after["kind"] == "visit" and entry.after["household_id"] == s["home"].id


# --- corrections and withdrawals -----------------------------------------------------------


def test_a_correction_is_a_new_record_and_the_old_one_stays_corrected(s):
    old = add(s, K.ACTIVITY, title="重阳节活动", participants=30)
    new = records.correct(s["colleague"], old, reason="人数统计有误", participants=36)
    assert new.id != old.id and new.status is RecordStatus.CURRENT
    assert (new.replaces_id, new.change_reason, new.participants, new.title) == (
        old.id, "人数统计有误", 36, "重阳节活动")
    assert old.status is RecordStatus.CORRECTED and old.participants == 30
    (entry,) = audit_entries("record.correct")
    assert entry.object_id == str(new.id)
    assert entry.before["participants"] == 30 and entry.before["status"] == "current"
    assert entry.after["participants"] == 36 and entry.after["replaces_id"] == old.id
    assert records.history(old) == records.history(new) == [old, new]


def test_a_correction_needs_a_reason_and_a_change(s):
    old = add(s, K.VISIT, household=s["home"])
    before = row_counts(WorkRecord, AuditEntry)
    with pytest.raises(DomainError, match="更正原因") as info:
        records.correct(s["worker"], old, reason="  ", notes="补充")
    assert info.value.field == "reason"
    with pytest.raises(DomainError, match="与原记录相同"):
        records.correct(s["worker"], old, reason="重新提交", notes=None)
    assert row_counts(WorkRecord, AuditEntry) == before and old.status is RecordStatus.CURRENT


def test_a_correction_is_checked_like_a_new_record(s, factory):
    old = add(s, K.JOINT_MEETING, title="联席会议", participants=8, minutes="纪要")
    with pytest.raises(DomainError, match="会议纪要"):
        records.correct(s["worker"], old, reason="删去纪要", minutes="")
    with pytest.raises(DomainError, match="不能晚于今天"):
        records.correct(s["worker"], old, reason="改日期", day=s["today"] + timedelta(days=3))
    stranger = factory.user(Role.AGENCY_STAFF, org=factory.org(OrgKind.AGENCY))
    with pytest.raises(DomainError, match="服务机构人员"):
        records.correct(stranger, old, reason="越权", participants=9)
    assert old.status is RecordStatus.CURRENT


def test_a_corrected_visit_moves_to_the_grid_of_its_new_household(s):
    old = add(s, K.VISIT, household=s["home"])
    elsewhere = household(s["community"], s["community"].grids[2], "8栋801")
    new = records.correct(s["worker"], old, reason="走错户", household=elsewhere)
    assert (new.household_id, new.grid_id) == (elsewhere.id, s["community"].grids[2].id)


def test_a_correction_may_keep_a_household_that_has_left_the_register(s):
    old = add(s, K.VISIT, household=s["home"])
    s["home"].active = False
    new = records.correct(s["worker"], old, reason="补充情况", notes="已搬离")
    assert new.household_id == s["home"].id and new.notes == "已搬离"


def test_a_second_correction_of_the_same_record_is_refused(s):
    old = add(s, K.VISIT, household=s["home"])
    records.correct(s["worker"], old, reason="补充", notes="第一次")
    before = row_counts(WorkRecord, AuditEntry)
    with pytest.raises(InvalidTransition) as info:
        records.correct(s["colleague"], old, reason="再补充", notes="第二次")
    assert info.value.message == "工作记录当前状态为“已更正”，不能更正。"
    assert row_counts(WorkRecord, AuditEntry) == before


def test_withdrawing_keeps_the_row_with_who_when_and_why(s):
    row = add(s, K.VISIT, household=s["home"])
    with pytest.raises(DomainError, match="作废原因"):
        records.withdraw(s["worker"], row, reason="")
    count = row_counts(WorkRecord)
    records.withdraw(s["colleague"], row, reason="重复录入")
    assert row_counts(WorkRecord) == count
    _db.session.expire_all()
    kept = _db.session.get(WorkRecord, row.id)
    assert (kept.status, kept.withdraw_reason, kept.withdrawn_by_id) == (
        RecordStatus.WITHDRAWN, "重复录入", s["colleague"].id)
    assert kept.withdrawn_at is not None
    (entry,) = audit_entries("record.withdraw")
    assert (entry.before["status"], entry.after["status"]) == ("current", "withdrawn")
    with pytest.raises(InvalidTransition, match="已作废"):
        records.correct(s["worker"], kept, reason="改", notes="x")


# --- batches -------------------------------------------------------------------------------


def homes(s, n, grid=None, start=0):
    grid = grid or s["grid"]
    rows = [Household(community_id=s["community"].id, grid_id=grid.id, building="5栋",
                      address=f"5栋{start + i:04d}", head_name="李四") for i in range(n)]
    _db.session.add_all(rows)
    _db.session.flush()
    return rows


def batch(s, ids, kind=K.VISIT, **fields):
    fields.setdefault("day", s["today"])
    key = "premises_ids" if kind is K.INSPECTION else "household_ids"
    return records.add_batch(s["worker"], community=s["community"], grid=s["grid"], kind=kind,
                             **{key: ids}, **fields)


def test_a_batch_inserts_every_record_with_one_audit_entry(s):
    ids = [h.id for h in homes(s, 25)]
    rows = batch(s, ids, notes="例行走访")
    assert len(rows) == 25 and {r.household_id for r in rows} == set(ids)
    assert all(r.grid_id == s["grid"].id and r.notes == "例行走访" for r in rows)
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(WorkRecord)) == 25
    (entry,) = audit_entries("record.batch")
    assert entry.after["count"] == 25 and entry.after["kind"] == "visit"
    assert sorted(entry.after["ids"]) == sorted(r.id for r in rows)
    assert entry.after["grid"] == s["grid"].id and entry.after["day"] == s["today"].isoformat()
    assert audit_entries("record.add") == []


def test_a_batch_of_inspections_records_no_hazards(s):
    second = premises(s["community"], s["grid"], "恒达厂", PremisesKind.ENTERPRISE)
    rows = batch(s, [s["shop"].id, second.id], kind=K.INSPECTION)
    assert [r.hazards for r in rows] == [0, 0]
    assert {r.premises_id for r in rows} == {s["shop"].id, second.id}


def test_one_household_of_another_community_rejects_the_whole_batch(s, factory):
    other = factory.community()
    stranger = household(other, other.grids[0], "外社区1号")
    ids = [h.id for h in homes(s, 5)] + [stranger.id]
    before = row_counts(WorkRecord, AuditEntry)
    with pytest.raises(DomainError, match="外社区1号不属于本社区，整批未保存"):
        batch(s, ids)
    assert row_counts(WorkRecord, AuditEntry) == before


@pytest.mark.parametrize("problem, message", [
    ("other_grid", "不在"), ("inactive", "注销"), ("missing", "不存在"), ("none", "至少勾选"),
])
def test_a_batch_is_refused_whole_for_any_bad_household(s, problem, message):
    ids = [h.id for h in homes(s, 3)]
    if problem == "other_grid":
        ids += [homes(s, 1, grid=s["community"].grids[1], start=100)[0].id]
    elif problem == "inactive":
        ids += [household(s["community"], s["grid"], "旧楼1号", active=False).id]
    elif problem == "missing":
        ids += [10**6]
    else:
        ids = []
    before = row_counts(WorkRecord, AuditEntry)
    with pytest.raises(DomainError, match=message):
        batch(s, ids)
    assert row_counts(WorkRecord, AuditEntry) == before


def test_a_batch_repeating_a_record_of_the_day_is_refused_whole(s):
    ids = [h.id for h in homes(s, 4)]
    batch(s, ids[:2])
    before = row_counts(WorkRecord, AuditEntry)
    with pytest.raises(DomainError, match="5栋000[01]当天已有入户走访记录，整批未保存"):
        batch(s, ids)
    assert row_counts(WorkRecord, AuditEntry) == before


def test_a_batch_takes_only_visits_updates_and_inspections(s):
    with pytest.raises(DomainError, match="批量录入只适用于") as info:
        batch(s, [s["home"].id], kind=K.PATROL)
    assert info.value.field == "kind"


def test_a_batch_runs_as_many_queries_for_500_records_as_for_5(s):
    small, big = [h.id for h in homes(s, 5)], [h.id for h in homes(s, 500, start=10)]
    engine = _db.engine
    counted = []

    def count(*args):
        counted[-1] += 1

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        for ids in (small, big):
            counted.append(0)
            batch(s, ids)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert counted[0] == counted[1], counted


# --- typed addresses -----------------------------------------------------------------------


def test_a_typed_address_finds_the_household_of_the_community(s, factory):
    other = factory.community()
    household(other, other.grids[0], "1栋102")
    mine = household(s["community"], s["grid"], "1栋102")
    assert records.household_by_address(s["community"], "１栋 102") == mine
    with pytest.raises(DomainError, match="没有地址为“3栋999”的住户") as info:
        records.household_by_address(s["community"], "3栋999")
    assert info.value.field == "household"
    assert records.premises_by_name(s["community"], "幸福超市") == s["shop"]
