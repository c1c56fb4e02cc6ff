"""The team pages (服务团队): the team per community with its gap warnings and the integration
period, adding and ending members through the page by the agency only, refused input that
writes nothing, the scoped list, the export, the box on the agreement page and the home to-do.

Pages run on the real clock: the `serving` agreement started on the first of this month, so
it is in force and inside its integration period today."""
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from conftest import row_counts
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.contracts import rules
from procurement.core.calendar import local_today
from procurement.extensions import db as _db
from procurement.tasks import team
from procurement.tasks.models import TeamMember
from procurement.tasks.states import TeamRole


def _text(response) -> str:
    return response.get_data(as_text=True)


def _counts():
    return row_counts(TeamMember, AuditEntry)


def _url(agreement, suffix=""):
    return f"/team/agreements/{agreement.id}{suffix}"


def _add(serving, role=TeamRole.PROJECT_LEAD, grid=None, name="陈社工", **fields):
    agreement = serving["agreement"]
    return team.add_member(serving["worker"], agreement, community_id=serving["community"].id,
                           role=role, grid_id=grid.id if grid else None, name=name,
                           start_date=agreement.start_date, **fields)


def _form(serving, **overrides):
    data = {"community": str(serving["community"].id), "role": TeamRole.GRID_WORKER.value,
            "grid": str(serving["grid"].id), "name": "王网格", "phone": "0595-8888 1234",
            "qualification": "助理社会工作师",
            "start_date": serving["agreement"].start_date.isoformat()}
    data.update(overrides)
    return data


def _full_team(serving):
    community = serving["community"]
    agreement = serving["agreement"]
    for row in agreement.communities:
        c = row.community
        for role in (TeamRole.CHIEF_SUPERVISOR, TeamRole.PROJECT_LEAD):
            team.add_member(serving["worker"], agreement, community_id=c.id, role=role,
                            name=f"{c.name}{role.value}"[:40], start_date=agreement.start_date)
        for grid in c.grids:
            for role in (TeamRole.SUPERVISOR, TeamRole.GRID_WORKER):
                team.add_member(serving["worker"], agreement, community_id=c.id, role=role,
                                grid_id=grid.id, name=f"{grid.name}{role.value}"[:40],
                                start_date=agreement.start_date)
    assert team.gaps(agreement) == [] and community


@pytest.fixture
def settled(contracts):
    """An agreement in force that started at least a month ago, so someone can have left
    before today."""
    contracts.tenders.started(130)
    start = (local_today() - timedelta(days=40)).replace(day=1)
    coop = contracts.in_force(start_date=start, end_date=rules.year_end(start, 3))
    agreement = coop.agreements[0]
    return {"agreement": agreement, "community": agreement.communities[0].community,
            "worker": contracts.agency_user(coop), "committee": contracts.committee_user}


# --- the team page -------------------------------------------------------------------------


def test_the_team_page_shows_members_with_their_details_and_the_gap_warnings(serving, sign_in):
    _add(serving, role=TeamRole.CHIEF_SUPERVISOR, name="林督导长", phone="13800000001",
         qualification="高级社会工作师")
    _add(serving, role=TeamRole.GRID_WORKER, grid=serving["grid"], name="王网格")
    page = _text(sign_in(serving["committee"]).get(_url(serving["agreement"])))
    community, grid = serving["community"], serving["grid"]
    for shown in ("林督导长", "13800000001", "高级社会工作师", "王网格",
                  serving["agreement"].start_date.isoformat()):
        assert shown in page
    warnings = team.gaps(serving["agreement"])
    assert f"{community.name}没有专业社工（项目负责人）。" in warnings
    assert f"服务团队有 {len(warnings)} 项缺员" in page
    for warning in warnings:
        assert warning in page
    # The grid with its worker is not warned about for a worker, only for its supervisor.
    assert f"{community.name}{grid.name}没有网格社工" not in page
    assert f"{community.name}{grid.name}没有网格督导。" in page


def test_a_full_team_shows_no_warning(serving, sign_in):
    _full_team(serving)
    page = _text(sign_in(serving["manager"]).get(_url(serving["agreement"])))
    assert "团队配置齐全" in page and "项缺员" not in page


def test_the_integration_period_runs_in_the_first_three_months(serving, sign_in):
    agreement = serving["agreement"]
    first, last = team.integration_period(agreement)
    assert (first, last + timedelta(days=1)) == (agreement.cooperation.start_date,
                                                 team.integration_until(agreement))
    page = _text(sign_in(serving["worker"]).get(_url(agreement)))
    assert f"{first.isoformat()} 至 {last.isoformat()}" in page
    assert "融合期进行中" in page
    assert team.in_integration(agreement, last) and not team.in_integration(
        agreement, last + timedelta(days=1))


def test_members_who_left_are_listed_apart_with_date_and_reason(settled, sign_in):
    agreement, community = settled["agreement"], settled["community"]
    member = team.add_member(settled["worker"], agreement, community_id=community.id,
                             role=TeamRole.PROJECT_LEAD, name="离岗的陈社工",
                             start_date=agreement.start_date)
    team.end_member(settled["worker"], member, end_date=agreement.start_date + timedelta(days=5),
                    reason="考取公务员，离职")
    page = _text(sign_in(settled["committee"]).get(_url(agreement)))
    left = page[page.index("已离岗人员"):]
    assert "离岗的陈社工" in left and "考取公务员，离职" in left
    assert (agreement.start_date + timedelta(days=5)).isoformat() in left
    # And the role is warned about again: nobody holds it today.
    assert f"{community.name}没有专业社工（项目负责人）。" in page[:page.index("已离岗人员")]


def test_the_team_page_runs_a_bounded_number_of_queries(serving, sign_in):
    client = sign_in(serving["worker"])
    url = _url(serving["agreement"])
    client.get(url)  # warm up: caches and the session's first loads

    def queries() -> int:
        statements = []

        def count(*args):
            statements.append(args[2])

        engine = _db.engine
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    empty = queries()
    _full_team(serving)
    assert queries() == empty


def test_the_export_lists_every_member(serving, sign_in):
    _add(serving, role=TeamRole.GRID_WORKER, grid=serving["grid"], name="王网格",
         phone="+86 13800000002")
    response = sign_in(serving["manager"]).get(_url(serving["agreement"], "/export.xlsx"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("社区", "岗位", "负责网格", "姓名")
    assert rows[1][:5] == (serving["community"].name, "网格社工", serving["grid"].name, "王网格",
                           "'+86 13800000002")  # never read as a formula


# --- adding and ending through the page ----------------------------------------------------


def test_the_agency_adds_a_member_through_the_page(serving, sign_in):
    client = sign_in(serving["worker"])
    page = _text(client.get(_url(serving["agreement"])))
    assert f'action="{_url(serving["agreement"], "/members")}"' in page
    before = len(team.gaps(serving["agreement"]))
    response = client.post(_url(serving["agreement"], "/members"),
                           data=_form(serving, phone="１３８ ００００ ０００３"))
    assert response.status_code == 302
    member = _db.session.scalars(sa.select(TeamMember)).one()
    assert (member.name, member.role, member.grid_id, member.phone, member.qualification) == (
        "王网格", TeamRole.GRID_WORKER, serving["grid"].id, "138 0000 0003", "助理社会工作师")
    assert _db.session.scalar(sa.select(AuditEntry.action).where(
        AuditEntry.object_type == "team_members")) == "team.add"
    assert len(team.gaps(serving["agreement"])) == before - 1
    assert "王网格" in _text(client.get(_url(serving["agreement"])))


@pytest.mark.parametrize("who", ["other_agency", "committee"])
def test_another_agency_and_the_committee_may_not_add(serving, contracts, sign_in, who):
    user = serving["committee"] if who == "committee" else next(
        u for u in contracts.tenders.agency_users if u.org_id != serving["coop"].agency_id)
    client = sign_in(user)
    before = _counts()
    assert client.post(_url(serving["agreement"], "/members"),
                       data=_form(serving)).status_code == 403
    member = _add(serving)
    assert client.post(_url(serving["agreement"], "/end"),
                       data={"member": str(member.id), "end_date": local_today().isoformat(),
                             "reason": "调岗"}).status_code == 403
    assert _counts() == (before[0] + 1, before[1] + 1)  # only the service call above wrote
    assert member.end_date is None


def test_readers_see_no_forms(serving, sign_in):
    page = _text(sign_in(serving["committee"]).get(_url(serving["agreement"])))
    assert "/members" not in page and 'action="/team' not in page


def test_a_grid_role_without_a_grid_shows_the_service_message_and_writes_nothing(serving,
                                                                               sign_in):
    client = sign_in(serving["worker"])
    before = _counts()
    response = client.post(_url(serving["agreement"], "/members"), data=_form(serving, grid="0"))
    assert response.status_code == 200
    assert "网格社工须指定所负责的网格。" in _text(response)
    assert _counts() == before


@pytest.mark.parametrize("field, value, message", [
    ("start_date", "2026-13-01", "请按“年-月-日”填写日期"),
    ("start_date", "", "请填写到岗日期。"),
    ("name", "  ", "请填写姓名。"),
    ("phone", "电话号码", "联系电话只能包含数字"),
    ("role", "boss", "选项无效"),
    ("grid", "", "网格社工须指定所负责的网格。"),
    ("grid", "abc", "选项无效"),
])
def test_bad_input_is_refused_with_a_message(serving, sign_in, field, value, message):
    client = sign_in(serving["worker"])
    before = _counts()
    response = client.post(_url(serving["agreement"], "/members"),
                           data=_form(serving, **{field: value}))
    assert response.status_code == 200 and message in _text(response)
    assert _counts() == before


def test_a_start_date_outside_the_agreement_shows_the_service_message(serving, sign_in):
    client = sign_in(serving["worker"])
    before = _counts()
    late = serving["agreement"].end_date + timedelta(days=1)
    response = client.post(_url(serving["agreement"], "/members"),
                           data=_form(serving, start_date=late.isoformat()))
    assert "到岗日期应在协议期限之内。" in _text(response)
    assert _counts() == before


def test_ending_a_member_needs_a_reason(serving, sign_in):
    member = _add(serving)
    client = sign_in(serving["worker"])
    page = _text(client.get(_url(serving["agreement"], f"?end={member.id}")))
    assert f'<option selected value="{member.id}">' in page
    before = _counts()
    data = {"member": str(member.id), "end_date": local_today().isoformat(), "reason": "  "}
    response = client.post(_url(serving["agreement"], "/end"), data=data)
    assert response.status_code == 200 and "请填写离岗原因。" in _text(response)
    assert _counts() == before and _db.session.get(TeamMember, member.id).end_date is None
    response = client.post(_url(serving["agreement"], "/end"), data={**data, "reason": "调岗"})
    assert response.status_code == 302
    member = _db.session.get(TeamMember, member.id)
    assert (member.end_date, member.end_reason) == (local_today(), "调岗")
    # Recorded once: the member is no longer offered, so a second post is refused.
    response = client.post(_url(serving["agreement"], "/end"), data={**data, "reason": "再次"})
    assert "选项无效" in _text(response) and member.end_reason == "调岗"


def test_a_member_of_another_agreement_cannot_be_ended_here(serving, settled, sign_in):
    other = team.add_member(settled["worker"], settled["agreement"],
                            community_id=settled["community"].id, role=TeamRole.PROJECT_LEAD,
                            name="别家", start_date=settled["agreement"].start_date)
    response = sign_in(serving["worker"]).post(
        _url(serving["agreement"], "/end"),
        data={"member": str(other.id), "end_date": local_today().isoformat(), "reason": "调岗"})
    assert "选项无效" in _text(response)
    assert _db.session.get(TeamMember, other.id).end_date is None


# --- the list ------------------------------------------------------------------------------


def test_the_list_shows_each_agreement_the_user_may_see_with_size_and_gaps(serving, contracts,
                                                                        factory, sign_in):
    agreement = serving["agreement"]
    _add(serving)
    gaps = len(team.gaps(agreement))
    outsiders = [
        next(u for u in contracts.tenders.agency_users if u.org_id != serving["coop"].agency_id),
        factory.user(Role.COMMITTEE_STAFF, org=factory.community().committee),
        factory.user(Role.CONTRACT_MANAGER),
    ]
    insiders = [serving["worker"], serving["committee"], serving["manager"],
                factory.user(Role.AUDITOR)]
    for user in insiders:
        page = _text(sign_in(user).get("/team/"))
        assert agreement.number in page, user.roles
        row = page[page.index(agreement.number):]
        assert f'<span class="badge text-bg-danger">{gaps}</span>' in row
    for user in outsiders:
        page = _text(sign_in(user).get("/team/"))
        assert agreement.number not in page and "没有可查看的服务团队" in page
        assert sign_in(user).get(_url(agreement)).status_code == 403


# --- the agreement page and the home to-do -------------------------------------------------


def test_the_agreement_page_shows_the_integration_period_and_links_the_team(serving, sign_in):
    agreement = serving["agreement"]
    first, last = team.integration_period(agreement)
    page = _text(sign_in(serving["manager"]).get(f"/contracts/agreements/{agreement.id}"))
    assert "融合期" in page and f"{first.isoformat()} 至 {last.isoformat()}" in page
    assert f'href="{_url(agreement)}"' in page
    assert f"{len(team.gaps(agreement))} 项缺员" in page


def test_the_agreement_page_has_no_team_link_for_those_who_cannot_see_the_team(serving,
                                                                              contracts,
                                                                              sign_in):
    page = _text(sign_in(contracts.professor).get(
        f"/contracts/agreements/{serving['agreement'].id}"))
    assert "融合期" in page and _url(serving["agreement"]) not in page


def test_the_home_page_lists_team_gaps_for_the_agency_and_the_manager(serving, sign_in):
    agreement = serving["agreement"]
    todo = f"服务团队有 {len(team.gaps(agreement))} 项缺员"
    for user in (serving["worker"], serving["colleague"], serving["manager"]):
        page = _text(sign_in(user).get("/"))
        assert todo in page and _url(agreement) in page
    assert "项缺员" not in _text(sign_in(serving["committee"]).get("/"))
    _full_team(serving)
    assert "项缺员" not in _text(sign_in(serving["worker"]).get("/"))


def test_a_double_submit_adds_the_member_once(serving, sign_in):
    client = sign_in(serving["worker"])
    url = _url(serving["agreement"], "/members")
    assert client.post(url, data=_form(serving)).status_code == 302
    before = _counts()
    response = client.post(url, data=_form(serving))
    assert "王网格已是本社区的网格社工，不能重复添加。" in _text(response)
    assert _counts() == before
