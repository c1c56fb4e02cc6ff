"""The task-list pages: drawing up the list and editing a target while the agreement is a
draft (the contract manager only), completion computed from records on the community page
with its alerts, the quarter summary, the Excel export, and who may see which community."""
import io
from datetime import timedelta
import pytest
from openpyxl import load_workbook

from conftest import row_counts
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.contracts import rules
from procurement.core.calendar import local_today, now_utc
from procurement.extensions import db
from procurement.tasks import task_list
from procurement.tasks.models import Household, ServiceTask, WorkRecord
from procurement.tasks.states import Frequency, Measure, RecordKind, TaskKind


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def drafted(contracts):
    """A draft agreement starting on the first of this month, no task list yet."""
    contracts.tenders.started(40)
    start = local_today().replace(day=1)
    coop = contracts.cooperation(start_date=start, end_date=rules.year_end(start, 3))
    return coop.agreements[0]


@pytest.fixture
def in_force(drafted, contracts):
    task_list.draw_up(contracts.manager, drafted)
    contracts.sign_all(drafted)
    return drafted


def test_the_contract_manager_draws_up_the_list_from_the_page(drafted, contracts, sign_in):
    client = sign_in(contracts.manager)
    page = client.get(f"/work/{drafted.id}")
    assert "编制服务清单" in _text(page)
    response = client.post(f"/work/{drafted.id}/draw-up", follow_redirects=True)
    assert "已编制服务清单" in _text(response)
    communities = len(drafted.communities)
    assert db.session.query(ServiceTask).filter_by(agreement_id=drafted.id).count() == \
        len(task_list.DEFAULT_TASKS) * communities
    assert "每周完成10%" in _text(response)  # the information-collection target in words


def test_the_agency_cannot_draw_up_the_list(drafted, contracts, sign_in):
    client = sign_in(contracts.agency_user(drafted.cooperation))
    assert client.post(f"/work/{drafted.id}/draw-up").status_code == 403


def test_an_unmeasurable_target_is_refused_and_nothing_changes(drafted, contracts, sign_in):
    task_list.draw_up(contracts.manager, drafted)
    task = next(t for t in task_list.tasks_of(drafted) if t.kind is TaskKind.INFO_COLLECTION)
    client = sign_in(contracts.manager)
    before = row_counts(AuditEntry)
    response = client.post(f"/work/tasks/{task.id}/edit", data={
        "title": "信息采集", "measure": "ramp", "frequency": "monthly",
        "population": "households", "quantity": "１０"})
    assert response.status_code == 200
    assert "按周递进的目标须为每周完成的百分比" in _text(response)
    db.session.refresh(task)
    assert task.frequency is Frequency.WEEKLY and row_counts(AuditEntry) == before


def test_a_target_is_changed_while_the_agreement_is_a_draft(drafted, contracts, sign_in):
    task_list.draw_up(contracts.manager, drafted)
    task = next(t for t in task_list.tasks_of(drafted) if t.kind is TaskKind.ACTIVITY)
    client = sign_in(contracts.manager)
    response = client.post(f"/work/tasks/{task.id}/edit", data={
        "title": "社区活动", "description": "每月不少于4场", "measure": "count",
        "frequency": "monthly", "population": "", "quantity": "４"}, follow_redirects=True)
    assert "已保存任务目标" in _text(response)
    db.session.refresh(task)
    assert (task.measure, task.quantity) == (Measure.COUNT, 4)


def test_a_signed_list_cannot_be_edited(in_force, contracts, sign_in):
    task = task_list.tasks_of(in_force)[0]
    client = sign_in(contracts.manager)
    response = client.post(f"/work/tasks/{task.id}/edit", data={
        "title": "改", "measure": task.measure.value, "frequency": task.frequency.value,
        "population": task.population.value if task.population else "",
        "quantity": str(task.quantity or ""), "within_months": str(task.within_months or "")})
    assert "不能再修改" in _text(response)


def test_the_community_page_shows_completion_from_the_records(in_force, contracts, sign_in):
    community = in_force.communities[0].community
    grid = community.grids[0]
    homes = [Household(community_id=community.id, grid_id=grid.id, building="1号楼",
                       address=f"1号楼{i}", head_name="住户", members=2, elderly_alone=True)
             for i in range(3)]
    db.session.add_all(homes)
    db.session.flush()
    staff = contracts.agency_user(in_force.cooperation)
    db.session.add(WorkRecord(agreement_id=in_force.id, community_id=community.id,
                              grid_id=grid.id, kind=RecordKind.VISIT, day=in_force.start_date,
                              household_id=homes[0].id, recorded_by_id=staff.id,
                              recorded_at=now_utc()))
    db.session.commit()
    client = sign_in(contracts.manager)
    page = _text(client.get(f"/work/{in_force.id}/communities/{community.id}"))
    assert "1 / 3" in page  # one of three households visited
    assert "重点人群走访" in page and grid.name in page
    quarter = _text(client.get(f"/work/{in_force.id}/communities/{community.id}/quarters/1"))
    assert "总体完成率" in quarter and "第一季度" in quarter


def test_completion_is_exported_to_excel(in_force, contracts, sign_in):
    community = in_force.communities[0].community
    client = sign_in(contracts.manager)
    response = client.get(f"/work/{in_force.id}/communities/{community.id}/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["任务", "目标", "范围"] and "第一季度完成率%" in headers
    titles = {row[0].value for row in sheet.iter_rows(min_row=2)}
    assert "入户走访" in titles and "联席会议" in titles


def test_a_committee_sees_only_its_own_community(in_force, contracts, sign_in, factory):
    community = in_force.communities[0].community
    own = sign_in(contracts.committee_user)
    assert own.get(f"/work/{in_force.id}/communities/{community.id}").status_code == 200
    stranger = factory.user(Role.COMMITTEE_STAFF, org=factory.community().committee)
    other = sign_in(stranger)
    assert other.get(f"/work/{in_force.id}").status_code == 403
    assert other.get(f"/work/{in_force.id}/communities/{community.id}").status_code == 403
    assert str(in_force) not in _text(other.get("/work/"))


def test_another_agency_cannot_see_the_completion(in_force, contracts, sign_in):
    outsider = next(u for u, a in zip(contracts.tenders.agency_users, contracts.tenders.agencies)
                    if a.id != in_force.cooperation.agency_id)
    client = sign_in(outsider)
    assert client.get(f"/work/{in_force.id}").status_code == 403
    assert client.get(f"/work/{in_force.id}/communities/"
                      f"{in_force.communities[0].community_id}/export.xlsx").status_code == 403


def test_a_quarter_outside_the_agreement_is_not_found(in_force, contracts, sign_in):
    community = in_force.communities[0].community
    client = sign_in(contracts.manager)
    assert client.get(f"/work/{in_force.id}/communities/{community.id}/quarters/5").status_code \
        == 404


def test_overdue_tasks_appear_on_the_home_page(contracts, sign_in):
    # An agreement that started on the first of last month: last month's visits to the
    # vulnerable households are overdue whatever day it is today.
    contracts.tenders.started(80)
    start = (local_today().replace(day=1) - timedelta(days=1)).replace(day=1)
    agreement = contracts.cooperation(start_date=start,
                                      end_date=rules.year_end(start, 3)).agreements[0]
    task_list.draw_up(contracts.manager, agreement)
    contracts.sign_all(agreement)
    community = agreement.communities[0].community
    db.session.add_all([Household(community_id=community.id, grid_id=community.grids[0].id,
                                  building="2号楼", address=f"2号楼{i}", head_name="住户",
                                  members=1, needy=True) for i in range(2)])
    db.session.commit()
    home = _text(sign_in(contracts.agency_user(agreement.cooperation)).get("/"))
    assert f"{community.name}本季度" in home and "逾期或有风险" in home
    committee = _text(sign_in(contracts.committee_user).get("/"))
    assert f"{community.name}本季度" in committee
