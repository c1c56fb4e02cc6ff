"""The audit trail: written with the change, chained by hash, append-only, verifiable."""
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from procurement.accounts.roles import Role
from procurement.audit import record, verify_chain
from procurement.audit.models import AuditEntry
from procurement.audit.services import GENESIS, compute_hash


def _entries(db):
    return db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq)).all()


def _drop_append_only_triggers(db):
    """What an attacker with database access would do first; rolled back with the test."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
    else:
        db.session.execute(sa.text("DROP TRIGGER audit_entries_no_update"))
        db.session.execute(sa.text("DROP TRIGGER audit_entries_no_delete"))


def test_entries_link_to_the_previous_hash(factory, db):
    factory.org("agency")
    factory.org("university")
    entries = _entries(db)
    assert entries[0].prev_hash == GENESIS
    for previous, entry in zip(entries, entries[1:]):
        assert entry.seq == previous.seq + 1
        assert entry.prev_hash == previous.hash
        assert entry.hash == compute_hash(entry)
    assert verify_chain().ok


def test_record_keeps_actor_object_and_before_after(factory, db):
    admin = factory.user(Role.ADMIN, org=factory.org("street_office"))
    agency = factory.org("agency", name="记录测试机构")
    entry = record(admin, "org.update", agency, {"name": "旧"}, {"name": "新"})
    assert entry.actor_id == admin.id and admin.name in entry.actor_name
    assert entry.actor_org == admin.org.name
    assert (entry.object_type, entry.object_id, entry.object_label) == ("organisations", str(agency.id), "记录测试机构")
    assert entry.before == {"name": "旧"} and entry.after == {"name": "新"}


def test_a_change_by_sql_is_caught_at_the_changed_entry(factory, db):
    for i in range(3):
        factory.org("agency", name=f"篡改测试{i}")
    entries = _entries(db)
    target = entries[1]
    _drop_append_only_triggers(db)
    db.session.execute(sa.text("UPDATE audit_entries SET object_label = '改过了' WHERE id = :id"),
                       {"id": target.id})
    report = verify_chain()
    assert not report.ok
    assert report.broken_seq == target.seq and report.broken_id == target.id
    assert "被改动" in report.message


def test_a_deleted_entry_is_caught(factory, db):
    for i in range(3):
        factory.org("agency", name=f"删除测试{i}")
    entries = _entries(db)
    _drop_append_only_triggers(db)
    db.session.execute(sa.text("DELETE FROM audit_entries WHERE id = :id"), {"id": entries[1].id})
    report = verify_chain()
    assert not report.ok and report.broken_seq == entries[2].seq


def test_a_rehashed_forgery_still_breaks_the_next_link(factory, db):
    """Recomputing the edited entry's own hash is not enough: the next entry points at the old one."""
    for i in range(3):
        factory.org("agency", name=f"伪造测试{i}")
    first, second = _entries(db)[:2]
    _drop_append_only_triggers(db)
    forged = {c.name: getattr(first, c.name) for c in AuditEntry.__table__.c}
    forged["object_label"] = "伪造"
    new_hash = compute_hash(type("Row", (), forged))
    db.session.execute(sa.text("UPDATE audit_entries SET object_label = '伪造', hash = :h WHERE id = :id"),
                       {"h": new_hash, "id": first.id})
    report = verify_chain()
    assert not report.ok and report.broken_seq == second.seq


def test_the_orm_refuses_to_update_or_delete_entries(factory, db):
    factory.org("agency")
    entry = _entries(db)[0]
    entry.object_label = "x"
    with pytest.raises(RuntimeError, match="只能追加"):
        db.session.flush()
    db.session.rollback()


def test_the_database_refuses_to_update_entries(factory, db):
    factory.org("agency")
    entry = _entries(db)[0]
    with pytest.raises(DBAPIError):
        with db.session.begin_nested():
            db.session.execute(sa.text("UPDATE audit_entries SET action = 'x' WHERE id = :id"),
                               {"id": entry.id})


def test_cli_verify_reports_the_first_broken_link(app, factory, db):
    for i in range(2):
        factory.org("agency", name=f"命令行测试{i}")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "审计链完整" in result.output
    target = _entries(db)[0]
    _drop_append_only_triggers(db)
    db.session.execute(sa.text("UPDATE audit_entries SET actor_name = 'x' WHERE id = :id"), {"id": target.id})
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"第 {target.seq} 条记录" in result.output


def test_a_failed_operation_leaves_no_entry(client, factory, login, db):
    login(factory.user(Role.ADMIN, org=factory.org("street_office")))
    count = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    client.post("/admin/orgs/new", data={"kind": "agency", "name": ""})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == count


def test_auditor_filters_entries_and_reads_before_and_after(client, factory, login, db):
    admin = factory.user(Role.ADMIN, org=factory.org("street_office"))
    agency = factory.org("agency", name="过滤测试机构")
    record(admin, "org.update", agency, {"region": "深圳"}, {"region": "厦门"})
    login(factory.user(Role.AUDITOR, org=factory.org("government")))
    text = client.get("/audit/", query_string={"action": "org.update"}).get_data(as_text=True)
    assert "过滤测试机构" in text and "修改组织" in text
    assert "新建组织" not in text
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "org.update"))
    detail = client.get(f"/audit/{entry.id}").get_data(as_text=True)
    assert "深圳" in detail and "厦门" in detail
    bad = client.get("/audit/", query_string={"date_from": "2026-13-45"})
    assert bad.status_code == 200
    reversed_range = client.get("/audit/", query_string={"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert "截止日期不能早于起始日期" in reversed_range.get_data(as_text=True)


def test_auditor_page_shows_a_broken_chain(client, factory, login, db):
    factory.org("agency")
    login(factory.user(Role.AUDITOR, org=factory.org("government")))
    assert "审计链完整" in client.get("/audit/verify").get_data(as_text=True)
    _drop_append_only_triggers(db)
    db.session.execute(sa.text("UPDATE audit_entries SET ip = '1.2.3.4' WHERE seq = 1"))
    assert "断裂" in client.get("/audit/verify").get_data(as_text=True)
