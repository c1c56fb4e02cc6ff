"""Grid-case to-dos on the home page: overdue cases, cases to verify, cases to rate."""
from datetime import timedelta

from flask import url_for

from procurement.core import clock
from procurement.tasks import cases
from procurement.tasks.states import CaseCategory, Urgency
from procurement.tasks.todos import grid_case_todos


def test_overdue_to_verify_and_to_rate(contracts, factory, app):
    coop = contracts.in_force()
    community = coop.agreements[0].communities[0].community
    agency_user = contracts.agency_user(coop)
    committee = contracts.committee_user
    moment = contracts.when(coop.tender, 60)
    with clock.frozen(moment):
        case = cases.report(committee, grid=community.grids[0], category=CaseCategory.OTHER,
                            urgency=Urgency.EMERGENCY, title="井盖缺失", description="路口井盖缺失")
    with app.test_request_context():
        # Long past its time limit by the real clock: overdue for everyone who sees it.
        titles = [t.title for t in grid_case_todos(agency_user)]
        assert any("已超过处置时限" in t for t in titles) and any("待核实" in t for t in titles)
        assert "1 件网格事件已超过处置时限" in [t.title for t in grid_case_todos(contracts.manager)]
        assert url_for("cases.index", overdue="y") in [t.url for t in grid_case_todos(committee)]
        stranger_items = grid_case_todos(factory.user("agency_staff"))
        assert stranger_items == []
    with clock.frozen(moment + timedelta(hours=1)):
        cases.verify(agency_user, case)
        cases.handle_on_spot(agency_user, case, "已补盖")
        cases.feed_back(agency_user, case, "已处理")
        cases.close(contracts.manager, case)
    with app.test_request_context():
        assert [t.title for t in grid_case_todos(committee)] == ["1 件您上报的网格事件已办结，请评价"]
