"""The grid-case flow (RULES.md "Grid work"): who may report, verify, handle, escalate,
feed back, close (never the handler) and rate (only the reporter); time limits per urgency."""
from datetime import timedelta

import pytest

from conftest import row_counts
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.core import clock
from procurement.core.errors import DomainError, InvalidTransition
from procurement.tasks import cases
from procurement.tasks.models import GridCase
from procurement.tasks.permissions import can_view_case, visible_cases
from procurement.tasks.states import CaseCategory, CaseState, Urgency


@pytest.fixture
def served(contracts, factory):
    """A community served by an agreement in force, with its people."""
    coop = contracts.in_force()
    agreement = coop.agreements[0]
    community = agreement.communities[0].community
    staff = contracts.agency_user(coop)
    return {
        "coop": coop, "community": community, "grid": community.grids[0],
        "worker": staff,
        "supervisor": factory.user(Role.AGENCY_STAFF, org=coop.agency),
        "committee": contracts.committee_user,
        "manager": contracts.manager,
        "at": contracts.when(coop.tender, 60),
    }


def reported(served, by="worker", urgency=Urgency.NORMAL):
    with clock.frozen(served["at"]):
        return cases.report(served[by], grid=served["grid"], category=CaseCategory.SAFETY,
                            urgency=urgency, title="楼道堆放杂物", description="3号楼楼道堆放纸箱，影响消防通道。",
                            location="3号楼")


def test_a_case_runs_the_whole_flow_and_each_step_is_audited(served):
    case = reported(served, by="committee")
    assert case.state is CaseState.REPORTED and case.agency_id == served["coop"].agency_id
    with clock.frozen(served["at"] + timedelta(hours=1)):
        cases.verify(served["supervisor"], case)
        cases.handle_on_spot(served["worker"], case, "已联系住户清理")
        cases.feed_back(served["worker"], case, "已清理完毕，请居委会确认")
        cases.close(served["supervisor"], case)
        cases.rate(served["committee"], case, 5, "处理及时")
    assert case.state is CaseState.RATED and case.rating == 5
    actions = [e.action for e in AuditEntry.query.filter_by(object_type="grid_cases")
               .order_by(AuditEntry.seq)]
    assert actions == ["case.reported", "case.verified", "case.handled", "case.fed_back",
                       "case.closed", "case.rated"]


def test_escalated_cases_are_handled_by_the_street_office_department(served):
    case = reported(served, urgency=Urgency.URGENT)
    with clock.frozen(served["at"] + timedelta(hours=1)):
        cases.verify(served["supervisor"], case)
        cases.escalate(served["worker"], case, "灵源街道安监站")
        with pytest.raises(DomainError, match="本街道"):
            cases.record_department_result(served["worker"], case, "已处理")
        cases.record_department_result(served["manager"], case, "安监站已责令整改")
    assert case.state is CaseState.HANDLED and case.handler_id == served["manager"].id
    assert case.department == "灵源街道安监站"


def test_the_handler_cannot_close_their_own_case(served):
    case = reported(served)
    with clock.frozen(served["at"] + timedelta(hours=1)):
        cases.verify(served["supervisor"], case)
        cases.handle_on_spot(served["worker"], case, "已处理")
        cases.feed_back(served["worker"], case, "已反馈")
        with pytest.raises(DomainError, match="处置人不能核查办结"):
            cases.close(served["worker"], case)
        assert case.state is CaseState.FED_BACK
        cases.close(served["manager"], case)  # the street office may check it too
    assert case.closed_by_id == served["manager"].id


def test_only_the_reporter_rates_and_only_after_closing(served):
    case = reported(served, by="committee")
    with clock.frozen(served["at"] + timedelta(hours=1)):
        cases.verify(served["supervisor"], case)
        cases.handle_on_spot(served["worker"], case, "已处理")
        with pytest.raises(InvalidTransition):
            cases.rate(served["committee"], case, 4)
        cases.feed_back(served["worker"], case, "已反馈")
        cases.close(served["supervisor"], case)
        with pytest.raises(DomainError, match="只有上报人"):
            cases.rate(served["worker"], case, 4)
        with pytest.raises(DomainError, match="1 至 5"):
            cases.rate(served["committee"], case, 6)
        cases.rate(served["committee"], case, 3)


def test_no_result_can_be_fed_back_before_the_case_is_handled(served):
    case = reported(served)
    with clock.frozen(served["at"]):
        with pytest.raises(InvalidTransition, match="已上报"):
            cases.feed_back(served["worker"], case, "x")
        cases.cancel(served["supervisor"], case, "重复上报")
        with pytest.raises(InvalidTransition, match="已撤销"):
            cases.verify(served["supervisor"], case)


def test_only_the_serving_agency_or_the_communitys_committee_may_report(served, factory):
    other_agency_user = factory.user(Role.AGENCY_STAFF)
    other_committee = factory.user(Role.COMMITTEE_STAFF)
    before = row_counts(GridCase, AuditEntry)
    for user in (other_agency_user, other_committee, served["manager"]):
        with clock.frozen(served["at"]), pytest.raises(DomainError, match="只有本社区"):
            cases.report(user, grid=served["grid"], category=CaseCategory.OTHER,
                         urgency=Urgency.NORMAL, title="x", description="y")
    assert row_counts(GridCase, AuditEntry) == before


def test_a_community_without_an_agreement_in_force_has_nobody_to_handle_cases(contracts, factory):
    community = factory.community()
    user = factory.user(Role.COMMITTEE_STAFF, org=community.committee)
    with pytest.raises(DomainError, match="没有生效的服务协议"):
        cases.report(user, grid=community.grids[0], category=CaseCategory.OTHER,
                     urgency=Urgency.NORMAL, title="x", description="y")


def test_only_the_serving_agency_verifies_and_handles(served, factory):
    case = reported(served)
    stranger = factory.user(Role.AGENCY_STAFF)
    with clock.frozen(served["at"]):
        for step in (lambda u: cases.verify(u, case), lambda u: cases.cancel(u, case, "x")):
            with pytest.raises(DomainError, match="承接本社区服务"):
                step(stranger)
            with pytest.raises(DomainError, match="承接本社区服务"):
                step(served["committee"])
    assert case.state is CaseState.REPORTED


def test_time_limits_follow_urgency_and_open_cases_become_overdue(served, app):
    normal = reported(served, urgency=Urgency.NORMAL)
    emergency = reported(served, urgency=Urgency.EMERGENCY)
    hours = app.config["GRID_CASE_HOURS"]
    assert normal.due_at - normal.reported_at == timedelta(hours=hours["normal"])
    assert emergency.due_at - emergency.reported_at == timedelta(hours=hours["emergency"])
    later = emergency.due_at + timedelta(minutes=1)
    assert cases.is_overdue(emergency, later) and not cases.is_overdue(normal, later)
    with clock.frozen(served["at"]):
        cases.cancel(served["supervisor"], emergency, "误报")
    assert not cases.is_overdue(emergency, later)  # a finished case is never overdue


def test_cases_are_numbered_per_day(served):
    first, second = reported(served), reported(served)
    day = served["at"].strftime("%Y%m%d")
    assert (first.number, second.number) == (f"WG{day}-001", f"WG{day}-002")


def test_blank_text_is_refused_and_nothing_written(served):
    before = row_counts(GridCase, AuditEntry)
    with clock.frozen(served["at"]), pytest.raises(DomainError, match="事件描述"):
        cases.report(served["worker"], grid=served["grid"], category=CaseCategory.OTHER,
                     urgency=Urgency.NORMAL, title="标题", description="   ")
    assert row_counts(GridCase, AuditEntry) == before


def test_each_side_sees_its_own_cases(served, factory, db):
    case = reported(served)
    outsider_agency = factory.user(Role.AGENCY_STAFF)
    other_office = factory.user(Role.LEADER)
    auditor = factory.user(Role.AUDITOR)
    for user, sees in ((served["worker"], True), (served["committee"], True),
                       (served["manager"], True), (auditor, True),
                       (outsider_agency, False), (other_office, False)):
        assert can_view_case(user, case) is sees
        listed = db.session.scalars(visible_cases(user)).all()
        assert (case in listed) is sees
