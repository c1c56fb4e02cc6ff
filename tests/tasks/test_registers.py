"""The registers' services: the template, the import that checks every row before writing
any, the export that re-imports as an update, taking a row out of the register, who may do
it, and the per-grid counts."""
import io
import zipfile
from datetime import datetime, time, timedelta

import pytest
from openpyxl import Workbook, load_workbook

from conftest import row_counts
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.core import clock
from procurement.core.calendar import SHANGHAI
from procurement.core.errors import DomainError
from procurement.extensions import db as _db
from procurement.tasks import register_sheets, registers
from procurement.tasks.models import Household, Premises
from procurement.tasks.permissions import visible_community_ids
from procurement.tasks.registers import HOUSEHOLDS, PREMISES, ImportRejected
from procurement.tasks.states import PremisesKind


def household(grid=1, building="3号楼", room="201", head="王秀兰", phone="13800000001",
              members=3, flags=("", "", "", "", ""), notes=None):
    return [grid, building, room, head, phone, members, *flags, notes]


def shop(grid=1, kind="店铺", name="灵源便利店", address="林口路12号", code=None,
         business="零售", contact="陈老板", phone="0595-88880001"):
    return [grid, kind, name, address, code, business, contact, phone]


def xlsx(reg, rows, community=None) -> bytes:
    return registers.build_workbook(reg, rows, community.grids if community else ())


def households_of(community):
    return {h.address: h for h in _db.session.scalars(
        _db.select(Household).where(Household.community_id == community.id))}


def _counts():
    return row_counts(Household, Premises, AuditEntry)


# --- the template -------------------------------------------------------------------------


@pytest.mark.parametrize("reg", [HOUSEHOLDS, PREMISES], ids=lambda r: r.key)
def test_the_template_has_the_headers_and_a_sheet_explaining_each_column(serving, reg):
    community = serving["community"]
    book = load_workbook(io.BytesIO(registers.template(reg, community)))
    assert book.sheetnames == [reg.title, "填写说明"]
    assert [c.value for c in book[reg.title][1]] == reg.headers
    assert book[reg.title].max_row == 1  # no example row that could be imported by mistake
    guide = [row for row in book["填写说明"].iter_rows(values_only=True)]
    explained = {row[0]: row[2] for row in guide if row and row[0] in reg.headers}
    assert set(explained) == set(reg.headers) and all(explained.values())
    assert (1, None, community.grids[0].name) in guide  # the community's grids are listed


def test_household_template_columns_are_those_of_the_brief():
    assert HOUSEHOLDS.headers == ["网格", "楼栋", "房号", "户主姓名", "联系电话", "家庭人口", "独居老人",
                                  "困难家庭", "流动人口", "社区矫正", "残疾人", "备注"]
    assert PREMISES.headers == ["网格", "类别", "名称", "地址", "统一社会信用代码", "行业", "联系人",
                                "联系电话"]


# --- importing households -----------------------------------------------------------------


def test_importing_households_adds_them_to_their_grids_with_an_audit_entry(serving):
    community, worker = serving["community"], serving["worker"]
    second = community.grids[1]
    rows = [household(flags=("是", "", "否", "", "")),
            household(grid=second.name, building="灵水村27号", room=None, head="李建国",
                      phone=None, members=1, notes="独居，子女在外地")]
    result = registers.import_households(worker, community, xlsx(HOUSEHOLDS, rows), "住户.xlsx")
    assert (result.added, result.updated, result.unchanged) == (2, 0, 0)
    found = households_of(community)
    assert set(found) == {"3号楼201", "灵水村27号"}
    flat = found["3号楼201"]
    assert (flat.grid_id, flat.building, flat.head_name, flat.phone, flat.members) == (
        community.grids[0].id, "3号楼", "王秀兰", "13800000001", 3)
    assert flat.elderly_alone and not flat.migrant and flat.vulnerable and flat.active
    house = found["灵水村27号"]
    assert (house.grid_id, house.phone, house.notes, house.vulnerable) == (
        second.id, None, "独居，子女在外地", False)
    entry = _db.session.scalars(_db.select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert (entry.action, entry.object_type, entry.object_id, entry.actor_id) == (
        "register.import_households", "communities", str(community.id), worker.id)
    assert entry.after == {"added": 2, "updated": 0, "file": "住户.xlsx"}


def test_full_width_digits_are_read_as_numbers(serving):
    community = serving["community"]
    rows = [household(grid="２", members="４", phone="１３８０００００００２")]
    registers.import_households(serving["worker"], community, xlsx(HOUSEHOLDS, rows), "a.xlsx")
    row = households_of(community)["3号楼201"]
    assert (row.grid_id, row.members, row.phone) == (community.grids[1].id, 4, "13800000002")


def test_one_bad_row_imports_nothing_and_the_report_names_its_row_and_column(serving):
    community = serving["community"]
    rows = [household(room="101"), household(room="102", members="4人"), household(room="103")]
    before = _counts()
    with pytest.raises(ImportRejected) as refused:
        registers.import_households(serving["worker"], community, xlsx(HOUSEHOLDS, rows), "a.xlsx")
    assert _counts() == before
    assert [(e.row, e.column) for e in refused.value.errors] == [(3, "家庭人口")]
    assert "“4人”" in refused.value.errors[0].message
    assert refused.value.field == "file" and "未导入任何数据" in refused.value.message


@pytest.mark.parametrize("row, column, message", [
    (household(grid=9), "网格", "本社区没有网格“9”"),
    (household(grid="第九网格"), "网格", "本社区没有网格“第九网格”"),
    (household(grid=None), "网格", "必填"),
    (household(building=" "), "楼栋", "必填"),
    (household(head=None), "户主姓名", "必填"),
    (household(head="王" * 41), "户主姓名", "不能超过 40 个字符"),
    (household(members=None), "家庭人口", "必填"),
    (household(members="三"), "家庭人口", "应为整数"),
    (household(members=2.5), "家庭人口", "不能有小数"),
    (household(members=-1), "家庭人口", "应为整数"),
    (household(members=120), "家庭人口", "应在 0 到 99 之间"),
    (household(flags=("是的", "", "", "", "")), "独居老人", "应填“是”或“否”"),
    (household(flags=("", "", "", "", "Y")), "残疾人", "应填“是”或“否”"),
    (household(phone="无"), "联系电话", "不是电话号码"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_each_kind_of_bad_cell_is_reported_with_its_column(serving, row, column, message):
    with pytest.raises(ImportRejected) as refused:
        registers.import_households(serving["worker"], serving["community"],
                                    xlsx(HOUSEHOLDS, [household(room="1"), row]), "a.xlsx")
    assert [(e.row, e.column) for e in refused.value.errors] == [(3, column)]
    assert message in refused.value.errors[0].message


def test_every_row_is_checked_and_a_duplicate_address_names_the_first_row(serving):
    rows = [household(room="201"), household(grid=0, room="202", head=None), household(room=None),
            household(building="3号楼2", room="01")]  # the same address as row 2
    with pytest.raises(ImportRejected) as refused:
        registers.import_households(serving["worker"], serving["community"],
                                    xlsx(HOUSEHOLDS, rows), "a.xlsx")
    errors = [(e.row, e.column) for e in refused.value.errors]
    assert errors == [(3, "网格"), (3, "户主姓名"), (5, "房号")]
    assert "与第 2 行重复" in refused.value.errors[-1].message
    assert refused.value.message.startswith("有 2 行存在 3 处错误")


def test_reimporting_the_export_updates_instead_of_duplicating(serving):
    community, worker = serving["community"], serving["worker"]
    formula = '=HYPERLINK("x")'
    rows = [household(room=str(100 + n), members=n % 5, notes=formula if n == 1 else None)
            for n in range(1, 6)]
    registers.import_households(worker, community, xlsx(HOUSEHOLDS, rows), "a.xlsx")
    exported = registers.export(HOUSEHOLDS, community)
    again = registers.import_households(worker, community, exported, "导出.xlsx")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)
    assert len(households_of(community)) == 5
    # The formula-looking note went out escaped and came back as it was.
    assert households_of(community)["3号楼101"].notes == formula
    # Changed in Excel: the row is updated in place.
    book = load_workbook(io.BytesIO(exported))
    book[HOUSEHOLDS.title]["F2"] = 7
    changed = io.BytesIO()
    book.save(changed)
    third = registers.import_households(worker, community, changed.getvalue(), "改.xlsx")
    assert (third.added, third.updated, third.unchanged) == (0, 1, 4)
    assert households_of(community)["3号楼101"].members == 7


def test_a_removed_household_is_not_exported_and_comes_back_when_imported_again(serving):
    community, worker = serving["community"], serving["worker"]
    both = xlsx(HOUSEHOLDS, [household(room="1"), household(room="2")])
    registers.import_households(worker, community, both, "a.xlsx")
    gone = households_of(community)["3号楼2"]
    registers.set_household_active(worker, gone, False)
    assert [r[2] for r in registers.household_rows(community)] == ["1"]
    result = registers.import_households(worker, community,
                                         xlsx(HOUSEHOLDS, [household(room="2")]), "b.xlsx")
    assert (result.added, result.updated) == (0, 1)
    assert households_of(community)["3号楼2"].active


# --- importing enterprises and shops ------------------------------------------------------


def test_importing_premises_keys_on_kind_name_and_address(serving):
    community, worker = serving["community"], serving["worker"]
    rows = [shop(), shop(kind="企业", name="灵源鞋业有限公司", address="工业区1号",
                         code="91350582mA2XXXXX1Y", business="制鞋"),
            shop(kind="企业", address="林口路12号")]  # same name and address, other kind
    result = registers.import_premises(worker, community, xlsx(PREMISES, rows), "p.xlsx")
    assert result.added == 3
    found = _db.session.scalars(_db.select(Premises).order_by(Premises.id)).all()
    assert [(p.kind, p.name) for p in found] == [
        (PremisesKind.SHOP, "灵源便利店"), (PremisesKind.ENTERPRISE, "灵源鞋业有限公司"),
        (PremisesKind.ENTERPRISE, "灵源便利店")]
    assert found[1].credit_code == "91350582MA2XXXXX1Y"  # upper-cased
    again = registers.import_premises(worker, community, registers.export(PREMISES, community),
                                      "e.xlsx")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    entry = _db.session.scalars(_db.select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry.action == "register.import_premises" and entry.after["file"] == "e.xlsx"


@pytest.mark.parametrize("row, column, message", [
    (shop(kind="工厂"), "类别", "应填“企业”或“店铺”"),
    (shop(kind=None), "类别", "必填"),
    (shop(name="二店", code="9135058212345"), "统一社会信用代码", "应为 18 位"),
    (shop(name="二店", code="91350582MA2XXXXXIO"), "统一社会信用代码", "不允许的字符"),
    (shop(name=None), "名称", "必填"),
    (shop(address=None), "地址", "必填"),
    (shop(), "名称", "与第 2 行是同一店铺"),
])
def test_bad_premises_rows_are_reported(serving, row, column, message):
    with pytest.raises(ImportRejected) as refused:
        registers.import_premises(serving["worker"], serving["community"],
                                  xlsx(PREMISES, [shop(), row]), "p.xlsx")
    assert [(e.row, e.column) for e in refused.value.errors] == [(3, column)]
    assert message in refused.value.errors[0].message


# --- refusing the whole file --------------------------------------------------------------


def _zip_without_a_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return buffer.getvalue()


def _sheet(*rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("data, name, message", [
    (b"grid,building\n1,3", "households.csv", "只接受 XLSX"),
    (b"", "empty.xlsx", "是空文件"),
    (b"%PDF-1.4 not a sheet", "fake.xlsx", "内容与扩展名 .xlsx 不符"),
    (_zip_without_a_workbook(), "zip.xlsx", "文件已损坏或不是 Excel 工作簿"),
    (_sheet(["姓名", "地址"], ["王", "1号"]), "own.xlsx", "第 1 列应为“网格”"),
    (_sheet(HOUSEHOLDS.headers), "blank.xlsx", "没有数据"),
    (_sheet(), "nothing.xlsx", "第 1 列应为“网格”"),
], ids=["csv", "empty", "pdf-as-xlsx", "zip-not-workbook", "wrong-headers", "headers-only",
        "empty-sheet"])
def test_a_file_that_is_not_a_register_is_refused_with_a_message(serving, data, name, message):
    before = _counts()
    with pytest.raises(DomainError) as refused:
        registers.import_households(serving["worker"], serving["community"], data, name)
    assert message in refused.value.message and refused.value.field == "file"
    assert not isinstance(refused.value, ImportRejected)
    assert _counts() == before


def test_more_rows_than_the_limit_are_refused(serving, monkeypatch):
    monkeypatch.setattr(register_sheets, "MAX_ROWS", 3)
    rows = [household(room=str(n)) for n in range(4)]
    with pytest.raises(DomainError, match="一次最多导入 3 行"):
        registers.import_households(serving["worker"], serving["community"],
                                    xlsx(HOUSEHOLDS, rows), "big.xlsx")
    assert not households_of(serving["community"])


def test_blank_rows_are_skipped_and_row_numbers_stay_those_of_excel(serving):
    data = _sheet(HOUSEHOLDS.headers, household(room="1"), [None] * 12, household(members="x"))
    with pytest.raises(ImportRejected) as refused:
        registers.import_households(serving["worker"], serving["community"], data, "a.xlsx")
    assert [(e.row, e.column) for e in refused.value.errors] == [(4, "家庭人口")]


def test_a_file_like_upload_is_read_too(serving):
    result = registers.import_households(serving["worker"], serving["community"],
                                         io.BytesIO(xlsx(HOUSEHOLDS, [household()])), "a.xlsx")
    assert result.added == 1


# --- who may change the registers ---------------------------------------------------------


def test_the_serving_agency_and_the_street_offices_contract_manager_may_import(serving, factory):
    community = serving["community"]
    for n, who in enumerate(("worker", "colleague", "manager")):
        result = registers.import_households(serving[who], community,
                                             xlsx(HOUSEHOLDS, [household(room=str(n))]), "a.xlsx")
        assert result.added == 1, who
    outsiders = [factory.user(Role.AGENCY_STAFF), serving["committee"],
                 factory.user(Role.CONTRACT_MANAGER),  # another street office's
                 factory.user(Role.AUDITOR)]
    before = _counts()
    for user in outsiders:
        with pytest.raises(DomainError, match="可以维护台账"):
            registers.import_households(user, community, xlsx(HOUSEHOLDS, [household()]), "a.xlsx")
    assert _counts() == before


def test_an_agency_whose_agreement_has_ended_may_no_longer_import(serving):
    after = serving["agreement"].end_date + timedelta(days=1)
    with clock.frozen(datetime.combine(after, time(10), tzinfo=SHANGHAI)):
        with pytest.raises(DomainError, match="可以维护台账"):
            registers.import_households(serving["worker"], serving["community"],
                                        xlsx(HOUSEHOLDS, [household()]), "a.xlsx")
        # The street office's contract manager still may.
        assert registers.import_households(serving["manager"], serving["community"],
                                           xlsx(HOUSEHOLDS, [household()]), "a.xlsx").added == 1


# --- taking rows out of the register ------------------------------------------------------


def test_taking_a_row_out_and_back_is_audited_and_refused_twice(serving, factory):
    community, worker = serving["community"], serving["worker"]
    registers.import_premises(worker, community, xlsx(PREMISES, [shop()]), "p.xlsx")
    place = _db.session.scalars(_db.select(Premises)).one()
    registers.set_premises_active(worker, place, False)
    assert not place.active
    with pytest.raises(DomainError, match="该店铺已移出台账"):
        registers.set_premises_active(worker, place, False)
    with pytest.raises(DomainError, match="可以维护台账"):
        registers.set_premises_active(factory.user(Role.AGENCY_STAFF), place, True)
    registers.set_premises_active(serving["manager"], place, True)
    actions = _db.session.scalars(
        _db.select(AuditEntry.action).where(AuditEntry.object_type == "premises")
        .order_by(AuditEntry.seq)).all()
    assert actions == ["premises.deactivate", "premises.activate"]
    assert _db.session.get(Premises, place.id).active


# --- counts per grid ----------------------------------------------------------------------


def test_grid_counts_count_only_rows_in_the_register(serving):
    community, worker = serving["community"], serving["worker"]
    first, second = community.grids[0], community.grids[1]
    registers.import_households(worker, community, xlsx(HOUSEHOLDS, [
        household(room="1", members=3, flags=("是", "", "", "", "")),
        household(room="2", members=2),
        household(room="3", members=5, flags=("", "是", "是", "", "")),
        household(grid=2, room="4", members=4)]), "h.xlsx")
    registers.import_premises(worker, community, xlsx(PREMISES, [
        shop(), shop(name="二店"), shop(grid=2, kind="企业", name="鞋厂")]), "p.xlsx")
    registers.set_household_active(worker, households_of(community)["3号楼2"], False)
    counts = registers.grid_counts(visible_community_ids(worker))
    assert counts[first.id] == {"households": 2, "vulnerable": 2, "members": 8,
                                "enterprises": 0, "shops": 2}
    assert counts[second.id] == {"households": 1, "vulnerable": 0, "members": 4,
                                 "enterprises": 1, "shops": 0}
