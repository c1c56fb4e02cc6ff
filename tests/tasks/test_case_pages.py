"""The grid-case pages: reporting, the flow step by step by the right people, the handler who
may not close, organisation scoping, the read-only auditor, the overdue filter and the
export. Refused input shows the service's message and writes nothing.

Pages run on the real clock: the tender timeline is moved 40 days back and the cooperation
starts on the first of this month, so its first agreement is in force today."""
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from conftest import row_counts
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.contracts import rules
from procurement.core.calendar import local_today, now_utc
from procurement.extensions import db as _db
from procurement.tasks import cases
from procurement.tasks.models import GridCase
from procurement.tasks.states import CaseCategory, CaseState, Urgency


def _text(response) -> str:
    return response.get_data(as_text=True)


def _counts():
    return row_counts(GridCase, AuditEntry)


@pytest.fixture
def served(contracts, factory):
    contracts.tenders.started(40)
    start = local_today().replace(day=1)  # the builder's default start lies ahead of today
    coop = contracts.in_force(start_date=start, end_date=rules.year_end(start, 3))
    community = coop.agreements[0].communities[0].community
    assert cases.serving_agency_id(community.id, local_today()) == coop.agency_id
    return {
        "coop": coop, "community": community, "grid": community.grids[0],
        "worker": contracts.agency_user(coop),
        "supervisor": factory.user(Role.AGENCY_STAFF, org=coop.agency),
        "committee": contracts.committee_user,
        "manager": contracts.manager,
    }


def _report(served, by="worker", urgency=Urgency.NORMAL, title="楼道堆放杂物"):
    return cases.report(served[by], grid=served["grid"], category=CaseCategory.SAFETY,
                        urgency=urgency, title=title, description="3号楼楼道堆放纸箱。",
                        location="3号楼")


def _form(served, **overrides):
    data = {"grid": str(served["grid"].id), "category": "sanitation", "urgency": "urgent",
            "title": "垃圾未清运", "description": "5号楼垃圾桶满溢两天。", "location": "5号楼"}
    data.update(overrides)
    return data


def test_the_committee_reports_a_case_through_the_page(served, sign_in):
    client = sign_in(served["committee"])
    page = _text(client.get("/cases/new"))
    assert served["grid"].name in page
    response = client.post("/cases/new", data=_form(served))
    assert response.status_code == 302
    case = _db.session.scalars(_db.select(GridCase)).one()
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    assert (case.title, case.urgency, case.reporter_id, case.agency_id) == (
        "垃圾未清运", Urgency.URGENT, served["committee"].id, served["coop"].agency_id)
    shown = _text(client.get(f"/cases/{case.id}"))
    assert "垃圾未清运" in shown and served["committee"].name in shown


def test_an_agency_worker_may_report_for_the_communities_it_serves(served, sign_in):
    client = sign_in(served["worker"])
    assert served["grid"].name in _text(client.get("/cases/new"))
    assert client.post("/cases/new", data=_form(served)).status_code == 302
    assert _db.session.scalar(_db.select(GridCase.reporter_id)) == served["worker"].id


def test_an_outsider_cannot_report_and_nothing_is_written(served, factory, sign_in):
    stranger = factory.user(Role.AGENCY_STAFF)
    client = sign_in(stranger)
    page = _text(client.get("/cases/new"))
    assert served["grid"].name not in page  # not among the grids offered
    before = _counts()
    response = client.post("/cases/new", data=_form(served))
    assert response.status_code == 200
    assert "选项无效" in _text(response)
    assert _counts() == before


def test_a_case_runs_its_flow_through_the_pages(served, sign_in):
    case = _report(served, by="committee")
    _db.session.flush()
    url = f"/cases/{case.id}"
    supervisor, worker = sign_in(served["supervisor"]), sign_in(served["worker"])
    committee = sign_in(served["committee"])

    page = _text(supervisor.get(url))
    assert f"{url}/verify" in page and f"{url}/cancel" in page and f"{url}/close" not in page
    assert supervisor.post(f"{url}/verify").status_code == 302
    page = _text(worker.get(url))
    assert f"{url}/handle" in page and f"{url}/escalate" in page and f"{url}/verify" not in page
    assert worker.post(f"{url}/handle", data={"result": "已联系住户清理"}).status_code == 302
    assert worker.post(f"{url}/feed-back", data={"feedback": "已清理完毕"}).status_code == 302
    assert f"{url}/close" in _text(supervisor.get(url))
    assert supervisor.post(f"{url}/close").status_code == 302
    assert f"{url}/rate" in _text(committee.get(url))
    assert committee.post(f"{url}/rate", data={"rating": "5", "comment": "处理及时"}).status_code == 302

    _db.session.refresh(case)
    assert case.state is CaseState.RATED and case.rating == 5
    assert case.handler_id == served["worker"].id and case.closed_by_id == served["supervisor"].id
    timeline = _text(committee.get(url))
    for label in ("已核实", "已处置", "已反馈上报人", "已核查办结", "已评价", "已联系住户清理"):
        assert label in timeline
    assert served["supervisor"].name in timeline and served["worker"].name in timeline


def test_an_escalated_case_is_resolved_by_the_street_office(served, sign_in):
    case = _report(served)
    url = f"/cases/{case.id}"
    supervisor, manager = sign_in(served["supervisor"]), sign_in(served["manager"])
    supervisor.post(f"{url}/verify")
    assert supervisor.post(f"{url}/escalate", data={"department": "街道安监站"}).status_code == 302
    assert f"{url}/department-result" in _text(manager.get(url))
    assert manager.post(f"{url}/department-result",
                        data={"result": "安监站已责令整改"}).status_code == 302
    _db.session.refresh(case)
    assert case.state is CaseState.HANDLED and case.department == "街道安监站"
    assert case.handler_id == served["manager"].id


def test_the_handler_cannot_close_and_sees_why(served, sign_in):
    case = _report(served)
    cases.verify(served["supervisor"], case)
    cases.handle_on_spot(served["worker"], case, "已处理")
    cases.feed_back(served["worker"], case, "已反馈")
    _db.session.flush()
    client = sign_in(served["worker"])
    url = f"/cases/{case.id}"
    assert f"{url}/close" not in _text(client.get(url))
    before = _counts()
    response = client.post(f"{url}/close")
    assert response.status_code == 200
    assert "处置人不能核查办结" in _text(response)
    assert _counts() == before
    _db.session.refresh(case)
    assert case.state is CaseState.FED_BACK and case.closed_by_id is None


def test_a_refused_step_shows_the_message_and_changes_nothing(served, sign_in):
    case = _report(served)
    client = sign_in(served["worker"])
    before = _counts()
    response = client.post(f"/cases/{case.id}/feed-back", data={"feedback": "x"})
    assert response.status_code == 200 and "不能反馈上报人" in _text(response)
    response = client.post(f"/cases/{case.id}/cancel", data={"reason": ""})
    assert "请填写撤销原因" in _text(response)
    assert _counts() == before
    _db.session.refresh(case)
    assert case.state is CaseState.REPORTED


def test_a_committee_sees_only_its_own_communitys_cases(served, contracts, factory, sign_in):
    mine = _report(served, title="本社区事件")
    other = factory.community(street_office=contracts.tenders.office)
    other_user = factory.user(Role.COMMITTEE_STAFF, org=other.committee)
    client = sign_in(other_user)
    assert "本社区事件" not in _text(client.get("/cases/"))
    assert client.get(f"/cases/{mine.id}").status_code == 403
    before = _counts()
    assert client.post(f"/cases/{mine.id}/rate", data={"rating": "1"}).status_code == 403
    assert _counts() == before
    own = sign_in(served["committee"])
    assert "本社区事件" in _text(own.get("/cases/"))


def test_the_auditor_reads_but_cannot_post(served, factory, sign_in):
    case = _report(served, title="审计可见事件")
    auditor = sign_in(factory.user(Role.AUDITOR, org=factory.org("government")))
    assert "审计可见事件" in _text(auditor.get("/cases/"))
    page = _text(auditor.get(f"/cases/{case.id}"))
    assert "审计可见事件" in page and f"/cases/{case.id}/verify" not in page
    before = _counts()
    for step in ("verify", "cancel", "close", "rate"):
        assert auditor.post(f"/cases/{case.id}/{step}", data={"reason": "x"}).status_code == 403
    assert auditor.post("/cases/new", data=_form(served)).status_code == 403
    assert _counts() == before


def test_the_overdue_filter_lists_only_late_open_cases(served, sign_in):
    late = _report(served, title="早已超时的事件", urgency=Urgency.EMERGENCY)
    late.due_at = now_utc() - timedelta(hours=1)
    finished = _report(served, title="超时但已撤销的事件")
    finished.due_at = now_utc() - timedelta(hours=1)
    cases.cancel(served["supervisor"], finished, "重复上报")
    _report(served, title="尚在时限内的事件")
    _db.session.flush()
    client = sign_in(served["worker"])
    everything = _text(client.get("/cases/"))
    assert "尚在时限内的事件" in everything and "已超时" in everything
    overdue = _text(client.get("/cases/?overdue=y"))
    assert "早已超时的事件" in overdue
    assert "尚在时限内的事件" not in overdue and "超时但已撤销的事件" not in overdue
    assert "已超时" in _text(client.get(f"/cases/{late.id}"))


def test_the_export_holds_the_filtered_cases(served, sign_in):
    _report(served, title="紧急事件", urgency=Urgency.URGENT)
    _report(served, title="一般事件")
    client = sign_in(served["manager"])
    response = client.get("/cases/export.xlsx?urgency=urgent")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("事件编号", "事件标题")
    assert [r[1] for r in rows[1:]] == ["紧急事件"]
    assert rows[1][5] == "紧急"


def test_the_timeline_shows_when_each_step_happened_not_when_it_was_typed_in(contracts, sign_in):
    """A case recorded later (the demo replays 2016) keeps its own times on the page."""
    from procurement.core import clock
    from procurement.core.calendar import to_local
    from procurement.tasks import cases
    from procurement.tasks.states import CaseCategory, Urgency
    coop = contracts.in_force()
    grid = coop.agreements[0].communities[0].community.grids[0]
    moment = contracts.when(coop.tender, 60)
    with clock.frozen(moment):
        case = cases.report(contracts.committee_user, grid=grid, category=CaseCategory.OTHER,
                            urgency=Urgency.NORMAL, title="井盖缺失", description="路口井盖缺失")
    with clock.frozen(moment + timedelta(hours=2)):
        cases.cancel(contracts.agency_user(coop), case, "重复上报")
    html = sign_in(contracts.manager).get(f"/cases/{case.id}").get_data(as_text=True)
    for when in (moment, moment + timedelta(hours=2)):
        assert to_local(when).strftime("%Y-%m-%d %H:%M") in html
