"""The agency's team per community: who may keep it, gaps warned about, leaving recorded,
the integration period."""
from datetime import date, timedelta

import pytest

from conftest import row_counts
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.contracts import services
from procurement.core.errors import DomainError
from procurement.tasks import team
from procurement.tasks.models import TeamMember
from procurement.tasks.states import TeamRole


@pytest.fixture
def staffed(contracts):
    coop = contracts.in_force()
    agreement = coop.agreements[0]
    return agreement, agreement.communities[0].community, contracts.agency_user(coop)


def full_team(agreement, community, staff):
    start = agreement.start_date
    team.add_member(staff, agreement, community_id=community.id, role=TeamRole.CHIEF_SUPERVISOR,
                    name="林督导", start_date=start)
    team.add_member(staff, agreement, community_id=community.id, role=TeamRole.PROJECT_LEAD,
                    name="陈社工", start_date=start, qualification="社会工作师")
    for grid in community.grids:
        team.add_member(staff, agreement, community_id=community.id, role=TeamRole.SUPERVISOR,
                        grid_id=grid.id, name=f"{grid.name}督导", start_date=start)
        team.add_member(staff, agreement, community_id=community.id, role=TeamRole.GRID_WORKER,
                        grid_id=grid.id, name=f"{grid.name}社工", start_date=start)


def test_a_full_team_has_no_gaps_and_a_missing_grid_worker_is_warned(staffed):
    agreement, community, staff = staffed
    assert any("没有总督导" in w for w in team.gaps(agreement, agreement.start_date))
    full_team(agreement, community, staff)
    assert team.gaps(agreement, agreement.start_date) == []
    worker = TeamMember.query.filter_by(role=TeamRole.GRID_WORKER,
                                        grid_id=community.grids[0].id).one()
    team.end_member(staff, worker, end_date=agreement.start_date + timedelta(days=30),
                    reason="个人原因离职")
    later = agreement.start_date + timedelta(days=31)
    assert team.gaps(agreement, later) == [
        f"{community.name}{community.grids[0].name}没有网格社工（每个网格至少一名）。"]
    assert team.gaps(agreement, agreement.start_date) == []  # the record keeps history


def test_grid_roles_need_a_grid_of_the_community(staffed, factory):
    agreement, community, staff = staffed
    other_grid = factory.community().grids[0]
    for grid_id in (None, other_grid.id):
        with pytest.raises(DomainError, match="指定所负责的网格"):
            team.add_member(staff, agreement, community_id=community.id,
                            role=TeamRole.GRID_WORKER, grid_id=grid_id, name="王",
                            start_date=agreement.start_date)


def test_only_the_contracted_agency_keeps_the_team(staffed, factory):
    agreement, community, _ = staffed
    outsiders = (factory.user(Role.AGENCY_STAFF), factory.user(Role.COMMITTEE_STAFF))
    before = row_counts(TeamMember, AuditEntry)
    for user in outsiders:
        with pytest.raises(DomainError, match="承接本协议的机构"):
            team.add_member(user, agreement, community_id=community.id,
                            role=TeamRole.PROJECT_LEAD, name="张", start_date=agreement.start_date)
    assert row_counts(TeamMember, AuditEntry) == before


def test_leaving_needs_a_reason_and_is_never_a_deletion(staffed):
    agreement, community, staff = staffed
    member = team.add_member(staff, agreement, community_id=community.id,
                             role=TeamRole.PROJECT_LEAD, name="陈社工",
                             start_date=agreement.start_date)
    with pytest.raises(DomainError, match="离岗原因"):
        team.end_member(staff, member, end_date=agreement.start_date, reason=" ")
    with pytest.raises(DomainError, match="早于到岗"):
        team.end_member(staff, member, end_date=agreement.start_date - timedelta(days=1),
                        reason="调岗")
    team.end_member(staff, member, end_date=agreement.start_date + timedelta(days=10), reason="调岗")
    with pytest.raises(DomainError, match="已离岗"):
        team.end_member(staff, member, end_date=agreement.start_date + timedelta(days=11),
                        reason="再次")
    assert TeamMember.query.count() == 1
    actions = [e.action for e in AuditEntry.query.filter_by(object_type="team_members")
               .order_by(AuditEntry.seq)]
    assert actions == ["team.add", "team.end"]


def test_start_date_within_the_agreement(staffed):
    agreement, community, staff = staffed
    with pytest.raises(DomainError, match="协议期限"):
        team.add_member(staff, agreement, community_id=community.id, role=TeamRole.PROJECT_LEAD,
                        name="张", start_date=agreement.end_date + timedelta(days=1))


def test_integration_period_is_three_months_of_the_first_year(staffed, contracts):
    agreement, _, _ = staffed
    start = agreement.cooperation.start_date
    until = team.integration_until(agreement)
    assert until == date(start.year + (start.month + 2) // 12, (start.month + 2) % 12 + 1, start.day)
    second = services.draft_renewal(contracts.manager, agreement)
    assert team.integration_until(second) is None


def test_a_cancelled_agreement_has_no_team_to_keep(staffed, contracts):
    agreement, community, staff = staffed
    renewal = services.draft_renewal(contracts.manager, agreement)
    services.terminate(contracts.manager, agreement.cooperation, "机构退出")
    before = row_counts(TeamMember, AuditEntry)
    with pytest.raises(DomainError, match="已作废"):
        team.add_member(staff, renewal, community_id=community.id, role=TeamRole.PROJECT_LEAD,
                        name="张", start_date=renewal.start_date)
    assert row_counts(TeamMember, AuditEntry) == before
    assert not team.can_keep_team(staff, renewal) and team.can_keep_team(staff, agreement)


def test_summaries_judge_a_team_within_the_agreement_term(staffed):
    agreement, community, staff = staffed
    lead = team.add_member(staff, agreement, community_id=community.id,
                           role=TeamRole.PROJECT_LEAD, name="陈社工",
                           start_date=agreement.start_date)
    team.end_member(staff, lead, end_date=agreement.end_date - timedelta(days=1), reason="调岗")
    before, after = (agreement.start_date - timedelta(days=10),
                     agreement.end_date + timedelta(days=10))
    assert team.judged_on(agreement, before) == agreement.start_date
    assert team.judged_on(agreement, after) == agreement.end_date
    early, late = (team.summaries([agreement], day)[agreement.id] for day in (before, after))
    assert (early["day"], early["size"]) == (agreement.start_date, 1)
    assert (late["day"], late["size"]) == (agreement.end_date, 0)
    assert f"{community.name}没有专业社工（项目负责人）。" in late["gaps"]
    assert f"{community.name}没有专业社工（项目负责人）。" not in early["gaps"]
    assert early["gaps"] == team.gaps(agreement, agreement.start_date)


def test_the_same_person_is_not_added_twice_to_the_same_post(staffed):
    agreement, community, staff = staffed
    grid = community.grids[0]

    def add(grid_id=grid.id, role=TeamRole.GRID_WORKER):
        return team.add_member(staff, agreement, community_id=community.id, role=role,
                               grid_id=grid_id, name="王网格", start_date=agreement.start_date)

    first = add()
    with pytest.raises(DomainError, match="不能重复添加"):
        add()
    add(grid_id=community.grids[1].id)  # another grid: another post
    add(role=TeamRole.SUPERVISOR)
    team.end_member(staff, first, end_date=agreement.start_date, reason="调岗")
    add()  # back on the post after leaving it
    assert TeamMember.query.filter_by(name="王网格").count() == 4
