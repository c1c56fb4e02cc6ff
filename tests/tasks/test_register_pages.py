"""The register pages: the overview with per-grid counts, the lists with their filters and a
bounded number of queries, template and export downloads, the import form with its error
table, taking a row out, and who sees and changes which community's registers.

Pages run on the real clock: the `serving` agreement is in force today."""
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from conftest import row_counts
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.contracts.states import DocumentState
from procurement.extensions import db as _db
from procurement.tasks import registers
from procurement.tasks.models import Household, Premises
from procurement.tasks.registers import HOUSEHOLDS, PREMISES


def _text(response) -> str:
    return response.get_data(as_text=True)


def _household(room, grid=1, head="王秀兰", members=3, elderly=""):
    return [grid, "3号楼", room, head, "13800000001", members, elderly, "", "", "", "", None]


def _fill(serving, n=3, **kwargs):
    rows = [_household(str(100 + i), **kwargs) for i in range(n)]
    registers.import_households(serving["worker"], serving["community"],
                                registers.build_workbook(HOUSEHOLDS, rows), "seed.xlsx")


def _upload(client, serving, data: bytes, name="住户.xlsx", kind="households"):
    return client.post(f"/registers/{serving['community'].id}/{kind}/import",
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _counts():
    return row_counts(Household, Premises, AuditEntry)


@pytest.fixture
def outsiders(factory, serving):
    """Another agency's staff and another community's residents' committee."""
    other = factory.community()
    return [factory.user(Role.AGENCY_STAFF),
            factory.user(Role.COMMITTEE_STAFF, org=other.committee)]


# --- the overview -------------------------------------------------------------------------


def test_the_overview_shows_each_grids_counts_to_those_who_may_read(serving, sign_in, outsiders):
    _fill(serving, n=3, elderly="是")
    registers.import_premises(serving["worker"], serving["community"], registers.build_workbook(
        PREMISES, [[2, "企业", "灵源鞋业", "工业区1号", None, None, None, None]]), "p.xlsx")
    community = serving["community"]
    for who in ("worker", "committee", "manager"):
        page = _text(sign_in(serving[who]).get("/registers/"))
        assert community.name in page, who
        # 第一网格: 3 households, 3 vulnerable, 9 people, no enterprise, no shop.
        assert "<td>第一网格</td><td class=\"text-end\">3</td><td class=\"text-end\">3</td>" \
               "\n      <td class=\"text-end\">9</td>" in page, who
    for user in outsiders:
        assert community.name not in _text(sign_in(user).get("/registers/"))


def test_the_overview_runs_the_same_queries_for_one_community_or_three(serving, factory,
                                                                        sign_in):
    auditor = factory.user(Role.AUDITOR)
    client = sign_in(auditor)

    def statements():
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        sa.event.listen(_db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/registers/").status_code == 200
        finally:
            sa.event.remove(_db.engine, "before_cursor_execute", listener)
        return len(seen)

    _fill(serving, n=2)
    few = statements()
    factory.community()
    factory.community()
    assert statements() == few


# --- the lists ----------------------------------------------------------------------------


def test_the_households_list_filters_by_grid_vulnerability_and_search(serving, sign_in):
    community = serving["community"]
    rows = [_household("101", head="王秀兰", elderly="是"), _household("102", head="李建国"),
            _household("201", grid=2, head="陈美玲")]
    registers.import_households(serving["worker"], community,
                                registers.build_workbook(HOUSEHOLDS, rows), "a.xlsx")
    client = sign_in(serving["committee"])
    base = f"/registers/{community.id}/households"
    page = _text(client.get(base))
    assert all(name in page for name in ("王秀兰", "李建国", "陈美玲"))
    assert "移出台账" not in page  # the committee reads only
    only_vulnerable = _text(client.get(base, query_string={"vulnerable": "y"}))
    assert "王秀兰" in only_vulnerable and "李建国" not in only_vulnerable
    second_grid = _text(client.get(base, query_string={"grid": community.grids[1].id}))
    assert "陈美玲" in second_grid and "王秀兰" not in second_grid
    searched = _text(client.get(base, query_string={"q": "3号楼102"}))
    assert "李建国" in searched and "王秀兰" not in searched
    assert "李建国" in _text(client.get(base, query_string={"q": "建国"}))
    nonsense = client.get(base, query_string={"grid": "999999", "status": "x"})
    assert nonsense.status_code == 200 and "没有符合条件的住户" in _text(nonsense)


def test_the_households_list_is_paginated_with_a_bounded_number_of_queries(serving, sign_in):
    client = sign_in(serving["worker"])
    url = f"/registers/{serving['community'].id}/households"

    def statements():
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        sa.event.listen(_db.engine, "before_cursor_execute", listener)
        try:
            response = client.get(url)
        finally:
            sa.event.remove(_db.engine, "before_cursor_execute", listener)
        return response, len(seen)

    _fill(serving, n=2)
    _, few = statements()
    _fill(serving, n=30)  # more than a page (20)
    response, many = statements()
    assert many == few
    assert "共 30 条" in _text(response) and "下一页" in _text(response)


def test_the_premises_list_filters_by_kind(serving, sign_in):
    rows = [[1, "企业", "灵源鞋业", "工业区1号", None, "制鞋", None, None],
            [1, "店铺", "林口便利店", "林口路12号", None, "零售", None, None]]
    registers.import_premises(serving["worker"], serving["community"],
                              registers.build_workbook(PREMISES, rows), "p.xlsx")
    client = sign_in(serving["manager"])
    url = f"/registers/{serving['community'].id}/premises"
    assert "灵源鞋业" in _text(client.get(url)) and "林口便利店" in _text(client.get(url))
    shops = _text(client.get(url, query_string={"kind": "shop"}))
    assert "林口便利店" in shops and "灵源鞋业" not in shops


# --- workbooks ----------------------------------------------------------------------------


@pytest.mark.parametrize("reg", [HOUSEHOLDS, PREMISES], ids=lambda r: r.key)
def test_the_template_downloads_and_opens_with_the_right_headers(serving, sign_in, reg):
    response = sign_in(serving["worker"]).get(
        f"/registers/{serving['community'].id}/{reg.key}/template.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert [c.value for c in book.worksheets[0][1]] == reg.headers
    assert book.sheetnames[1] == "填写说明"


def test_an_unknown_register_kind_is_not_found(serving, sign_in):
    client = sign_in(serving["worker"])
    assert client.get(f"/registers/{serving['community'].id}/pets/template.xlsx").status_code == 404


def test_the_export_reimports_through_the_page_as_an_update(serving, sign_in):
    _fill(serving, n=4)
    client = sign_in(serving["worker"])
    exported = client.get(f"/registers/{serving['community'].id}/households/export.xlsx")
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.data)).worksheets[0]
    assert sheet.max_row == 5 and [c.value for c in sheet[1]] == HOUSEHOLDS.headers
    before = _counts()
    response = _upload(client, serving, exported.data)
    assert response.status_code == 302
    assert row_counts(Household, Premises) == before[:2]  # nothing duplicated
    assert "新增 0 条，更新 0 条，4 条无变化" in _text(client.get(response.headers["Location"]))


# --- the import form ----------------------------------------------------------------------


def test_importing_through_the_page_adds_the_rows_and_says_so(serving, sign_in):
    client = sign_in(serving["colleague"])
    data = registers.build_workbook(HOUSEHOLDS, [_household("101"), _household("102")])
    page = _text(client.get(f"/registers/{serving['community'].id}/households/import"))
    assert "下载模板" in page and 'enctype="multipart/form-data"' in page
    response = _upload(client, serving, data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/registers/{serving['community'].id}/households")
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Household)) == 2
    entry = _db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry.action == "register.import_households" and entry.after["file"] == "住户.xlsx"
    assert "新增 2 条" in _text(client.get(response.headers["Location"]))


def test_a_rejected_import_shows_the_error_table_and_writes_nothing(serving, sign_in):
    client = sign_in(serving["worker"])
    data = registers.build_workbook(HOUSEHOLDS, [
        _household("101"), _household("102", grid=9), _household("103", members="四口")])
    before = _counts()
    response = _upload(client, serving, data)
    assert response.status_code == 200
    assert _counts() == before
    page = _text(response)
    assert "未导入任何数据" in page and 'id="import-errors"' in page
    assert "<td>第 3 行</td><td>网格</td>" in page and "本社区没有网格“9”" in page
    assert "<td>第 4 行</td><td>家庭人口</td>" in page


@pytest.mark.parametrize("data, name, message", [
    (b"name,address\n", "households.csv", "只接受 XLSX"),
    (b"PK\x03\x04 broken", "broken.xlsx", "文件已损坏或不是 Excel 工作簿"),
])
def test_a_file_that_is_not_a_workbook_is_refused_on_the_form(serving, sign_in, data, name,
                                                               message):
    client = sign_in(serving["worker"])
    before = _counts()
    response = _upload(client, serving, data, name)
    assert response.status_code == 200 and message in _text(response)
    assert 'id="import-errors"' not in _text(response)
    assert _counts() == before


def test_posting_without_a_file_asks_for_one(serving, sign_in):
    response = sign_in(serving["worker"]).post(
        f"/registers/{serving['community'].id}/households/import", data={})
    assert response.status_code == 200 and "请选择要导入的 Excel 文件" in _text(response)


# --- taking a row out ---------------------------------------------------------------------


def test_the_serving_agency_takes_a_household_out_and_back_through_the_page(serving, sign_in):
    _fill(serving, n=1)
    row = _db.session.scalars(sa.select(Household)).one()
    client = sign_in(serving["worker"])
    list_url = f"/registers/{serving['community'].id}/households"
    assert "移出台账" in _text(client.get(list_url))
    response = client.post(f"/registers/households/{row.id}/deactivate",
                           query_string={"next": list_url + "?status=all"})
    assert response.status_code == 302 and response.headers["Location"].endswith("?status=all")
    assert not _db.session.get(Household, row.id).active
    assert "3号楼100" not in _text(client.get(list_url))
    assert "3号楼100" in _text(client.get(list_url, query_string={"status": "inactive"}))
    assert client.post(f"/registers/households/{row.id}/activate").status_code == 302
    assert _db.session.get(Household, row.id).active
    actions = _db.session.scalars(sa.select(AuditEntry.action)
                                  .where(AuditEntry.object_type == "households")
                                  .order_by(AuditEntry.seq)).all()
    assert actions == ["household.deactivate", "household.activate"]


def test_premises_are_taken_out_by_the_office_contract_manager(serving, sign_in):
    registers.import_premises(serving["worker"], serving["community"], registers.build_workbook(
        PREMISES, [[1, "店铺", "林口便利店", "林口路12号", None, None, None, None]]), "p.xlsx")
    place = _db.session.scalars(sa.select(Premises)).one()
    client = sign_in(serving["manager"])
    assert client.post(f"/registers/premises/{place.id}/deactivate").status_code == 302
    assert not _db.session.get(Premises, place.id).active


# --- who sees and changes what ------------------------------------------------------------


def test_another_agency_and_another_communitys_committee_are_refused(serving, sign_in,
                                                                     outsiders):
    _fill(serving, n=1)
    row = _db.session.scalars(sa.select(Household)).one()
    cid = serving["community"].id
    data = registers.build_workbook(HOUSEHOLDS, [_household("999")])
    clients = [sign_in(user) for user in outsiders]  # signing in is audited too
    before = _counts()
    for client in clients:
        for url in (f"/registers/{cid}/households", f"/registers/{cid}/premises",
                    f"/registers/{cid}/households/export.xlsx",
                    f"/registers/{cid}/premises/template.xlsx"):
            assert client.get(url).status_code == 403, url
        assert _upload(client, serving, data).status_code == 403
        assert client.post(f"/registers/households/{row.id}/deactivate").status_code == 403
    assert _counts() == before


def test_the_committee_and_the_auditor_read_but_may_not_import(serving, sign_in, factory):
    _fill(serving, n=1)
    row = _db.session.scalars(sa.select(Household)).one()
    cid = serving["community"].id
    data = registers.build_workbook(HOUSEHOLDS, [_household("999")])
    for user in (serving["committee"], factory.user(Role.AUDITOR)):
        client = sign_in(user)
        page = _text(client.get(f"/registers/{cid}/households"))
        assert "3号楼100" in page and "导入 Excel" not in page
        assert client.get(f"/registers/{cid}/households/export.xlsx").status_code == 200
        assert client.get(f"/registers/{cid}/households/import").status_code == 403
        assert _upload(client, serving, data).status_code == 403
        assert client.post(f"/registers/households/{row.id}/deactivate").status_code == 403
    assert _db.session.get(Household, row.id).active


def test_an_agency_not_serving_today_reads_but_may_not_import(serving, sign_in):
    """Agency staff see the communities of their agreements; only the one in force today
    lets them change the registers."""
    # The agreement is back to being signed: the agency sees the community, but no agreement
    # of its own is in force today.
    serving["agreement"].state = DocumentState.SIGNING
    _db.session.commit()
    client = sign_in(serving["worker"])
    cid = serving["community"].id
    response = client.get(f"/registers/{cid}/households")
    assert response.status_code == 200 and "导入 Excel" not in _text(response)
    assert client.get(f"/registers/{cid}/households/import").status_code == 403
