"""Organisations, communities and grids: creation rules, bad input, audit."""
import pytest
import sqlalchemy as sa

from conftest import row_counts
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.core.errors import DomainError
from procurement.orgs.models import Community, Grid, OrgKind, Organisation
from procurement.orgs.services import credit_code_checksum, normalise_credit_code


def _counts(db):
    return row_counts(Organisation, Community, Grid, AuditEntry)


@pytest.fixture
def admin(factory, login):
    return login(factory.user(Role.ADMIN, org=factory.org("street_office")))


def test_community_comes_with_its_committee_and_numbered_grids(client, admin, factory, db):
    office = factory.org("street_office", name="灵源街道办事处测试")
    response = client.post("/admin/orgs/communities/new", data={
        "street_office_id": office.id, "name": "林口社区", "households": "２，１５０",
        "population": "8600", "grid_count": "5"})
    assert response.status_code == 302
    community = db.session.scalar(sa.select(Community).where(Community.name == "林口社区"))
    assert community.households == 2150  # full-width digits and comma accepted
    assert community.committee.name == "林口社区居民委员会"
    assert community.committee.kind is OrgKind.RESIDENTS_COMMITTEE
    assert [g.name for g in community.grids] == ["第一网格", "第二网格", "第三网格", "第四网格", "第五网格"]
    actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.seq.desc()).limit(2)).all()
    assert set(actions) == {"org.create", "community.create"}


@pytest.mark.parametrize("field, value, message", [
    ("households", "40万", "请填写整数"),
    ("households", "-5", "请填写整数"),
    ("households", "12.5", "请填写整数"),
    ("households", "", "请填写户数"),
    ("households", "9" * 40, "请填写整数"),
    ("grid_count", "0", "应为 1 到 50"),
    ("grid_count", "51", "应为 1 到 50"),
    ("name", "", "请填写社区名称"),
    ("name", "社" * 61, "不能超过 60"),
    ("street_office_id", "0", "请选择街道办事处"),
])
def test_bad_community_input_is_refused_and_nothing_is_written(client, admin, factory, db, field, value, message):
    office = factory.org("street_office")
    data = {"street_office_id": office.id, "name": "新社区", "households": "100",
            "population": "300", "grid_count": "5", field: value}
    before = _counts(db)
    response = client.post("/admin/orgs/communities/new", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _counts(db) == before


def test_an_unreadable_number_gets_one_message_not_two(client, admin, factory):
    office = factory.org("street_office")
    response = client.post("/admin/orgs/communities/new", data={
        "street_office_id": office.id, "name": "新社区", "households": "100",
        "population": "40万", "grid_count": "5"})
    text = response.get_data(as_text=True)
    assert "请填写整数" in text
    assert "应为 0 到" not in text


def test_community_names_are_unique_within_a_street_office(factory):
    office = factory.org("street_office")
    factory.community(street_office=office, name="灵水社区")
    with pytest.raises(DomainError, match="已有名为“灵水社区”的社区"):
        factory.community(street_office=office, name="灵水社区")


def test_a_community_belongs_to_a_street_office(factory):
    with pytest.raises(DomainError, match="必须隶属于街道办事处"):
        factory.community(street_office=factory.org("agency"))


def test_residents_committees_are_only_created_with_their_community(client, admin, db):
    before = _counts(db)
    response = client.post("/admin/orgs/new", data={"kind": "residents_committee", "name": "某居委会"})
    assert response.status_code == 200
    assert _counts(db) == before


def test_organisation_names_are_unique(client, admin, factory, db):
    factory.org("agency", name="深圳慈善公益网")
    before = _counts(db)
    response = client.post("/admin/orgs/new", data={"kind": "agency", "name": " 深圳慈善公益网 "})
    assert "已有名为“深圳慈善公益网”的组织" in response.get_data(as_text=True)
    assert _counts(db) == before


def test_credit_code_checksum_is_verified():
    # Published codes of real enterprises: the checksum must accept them all.
    for code in ("91350100M000100Y43", "91110108551385082Q", "91440300708461136T"):
        assert credit_code_checksum(code[:17]) == code[17]
    valid = "91440300708461136T"
    assert normalise_credit_code(" " + valid.lower()) == valid
    wrong_digit = valid[:17] + ("0" if valid[17] != "0" else "1")
    with pytest.raises(DomainError, match="校验位"):
        normalise_credit_code(wrong_digit)
    with pytest.raises(DomainError, match="18 位"):
        normalise_credit_code("12345")
    assert normalise_credit_code("  ") is None


def test_edit_records_before_and_after(client, admin, factory, db):
    agency = factory.org("agency", name="旧名称机构")
    response = client.post(f"/admin/orgs/{agency.id}/edit", data={
        "kind": "agency", "name": "新名称机构", "region": "厦门"})
    assert response.status_code == 302
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "org.update"))
    assert entry.before["name"] == "旧名称机构" and entry.after["name"] == "新名称机构"
    assert entry.after["region"] == "厦门"


def test_the_kind_of_an_organisation_never_changes(client, admin, factory, db):
    agency = factory.org("agency")
    client.post(f"/admin/orgs/{agency.id}/edit", data={"kind": "university", "name": agency.name})
    db.session.refresh(agency)
    assert agency.kind is OrgKind.AGENCY


def test_deactivating_an_organisation_blocks_its_users(app, client, admin, factory, db):
    from conftest import PASSWORD

    agency = factory.org("agency")
    user = factory.user(Role.AGENCY_STAFF, org=agency)
    theirs = app.test_client()
    theirs.post("/login", data={"username": user.username, "password": PASSWORD})
    client.post(f"/admin/orgs/{agency.id}/deactivate")
    db.session.refresh(agency)
    assert not agency.active
    assert theirs.get("/").status_code == 302


def test_admin_cannot_deactivate_own_organisation(client, admin, db):
    response = client.post(f"/admin/orgs/{admin.org_id}/deactivate", follow_redirects=True)
    assert "不能停用您自己所在的组织" in response.get_data(as_text=True)


def test_grids_are_added_with_the_next_number(client, admin, factory, db):
    community = factory.community(grids=5)
    client.post(f"/admin/orgs/communities/{community.id}/grids")
    db.session.refresh(community)
    assert [g.number for g in community.grids] == [1, 2, 3, 4, 5, 6]
    assert community.grids[-1].name == "第六网格"


def test_org_list_filters_by_kind_and_searches(client, admin, factory):
    factory.org("university", name="厦门大学公共事务学院")
    factory.org("agency", name="厦门市鹭岛社会工作服务中心")
    text = client.get("/admin/orgs/", query_string={"kind": "university"}).get_data(as_text=True)
    assert "厦门大学公共事务学院" in text and "鹭岛" not in text
    text = client.get("/admin/orgs/", query_string={"q": "鹭岛"}).get_data(as_text=True)
    assert "鹭岛" in text and "厦门大学公共事务学院" not in text
    text = client.get("/admin/orgs/", query_string={"kind": "bogus"}).get_data(as_text=True)
    assert "选项无效" in text


@pytest.mark.parametrize("overrides, message", [
    ({"name": ""}, "请填写名称"),
    ({"name": "   "}, "请填写名称"),
    ({"kind": "martian"}, "选项无效"),
    ({"credit_code": "91440300708461136X"}, "校验位不正确"),
    ({"credit_code": "ABC"}, "18 位"),
    ({"contact_phone": "1" * 31}, "不能超过 30 个字符"),
])
def test_bad_organisation_input_is_refused_and_nothing_is_written(client, admin, db, overrides, message):
    data = {"kind": "agency", "name": "某社工机构", "credit_code": "", **overrides}
    before = _counts(db)
    response = client.post("/admin/orgs/new", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _counts(db) == before


def test_editing_with_bad_input_changes_nothing(client, admin, factory, db):
    agency = factory.org("agency", name="原名机构")
    before = _counts(db)
    response = client.post(f"/admin/orgs/{agency.id}/edit", data={"kind": "agency", "name": "",
                                                                  "region": "厦门"})
    assert "请填写名称" in response.get_data(as_text=True)
    db.session.refresh(agency)
    assert agency.name == "原名机构" and agency.region is None
    assert _counts(db) == before
