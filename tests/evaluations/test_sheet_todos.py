"""Home-page to-dos of the score sheets: the agency's self-assessments due within ten days,
late or returned; the other raters' sheets of a quarter that has ended; the street office's
self-assessments waiting for review. Each goes away once done.

The home page runs on the real clock (the `appraised` agreement's first quarter has ended and
its self-assessment's due date has passed); the due-soon window is checked on the frozen
clock through the provider itself."""
from datetime import datetime, timedelta

from procurement.contracts.states import EvaluationSource as Src
from procurement.core import clock
from procurement.core.calendar import SHANGHAI
from procurement.evaluations import plan, sheets
from procurement.evaluations.todos import sheet_todos

RATER = {Src.SELF: "agency", Src.COMMITTEE: "committee", Src.STREET_OFFICE: "manager",
         Src.UNIVERSITY: "professor"}


def _home(sign_in, user) -> str:
    return sign_in(user).get("/").get_data(as_text=True)


def _rate(a, source, number=1):
    """Fill and submit a sheet through the service (the pages are tested elsewhere)."""
    period = plan.periods(a["agreement"])[number - 1]
    indicators = plan.indicator_set(a["agreement"], source).indicators
    rater = a[RATER[source]]
    sheet = sheets.save(rater, period, a["community"], source,
                        scores={i.id: str(i.max_score) for i in indicators},
                        narrative="本季度工作扎实。", opinions="居民满意。")
    return sheets.submit(rater, sheet)


def _at(day):
    return clock.frozen(datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI))


def test_the_agency_is_told_of_a_late_self_assessment_until_it_is_submitted(appraised, sign_in):
    a = appraised
    fill = (f"/evaluations/sheets/agreements/{a['agreement'].id}/quarter/1/"
            f"{a['community'].id}/self")
    page = _home(sign_in, a["agency"])
    assert "第一季度机构自评已逾期未提交（1 个社区）" in page and fill in page
    assert "第二季度机构自评" not in page  # due long after today
    assert "待审核" not in page
    sheet = _rate(a, Src.SELF)
    assert "第一季度机构自评" not in _home(sign_in, a["agency"])
    sheets.return_for_revision(a["manager"], sheet, "请补充签到表。")
    assert "第一季度机构自评被退回修改（1 个社区）" in _home(sign_in, a["agency"])


def test_a_self_assessment_due_within_ten_days_is_a_to_do(app, appraised):
    a = appraised
    second = plan.periods(a["agreement"])[1]
    title = f"第二季度机构自评将于 {second.self_due.isoformat()} 截止（1 个社区）"
    _rate(a, Src.SELF)  # the first quarter is done: only the second one is pending
    with app.test_request_context():
        with _at(second.self_due - timedelta(days=11)):
            assert [t.title for t in sheet_todos(a["agency"])] == []
        with _at(second.self_due - timedelta(days=10)):
            items = sheet_todos(a["agency"])
            assert [t.title for t in items] == [title]
            assert items[0].due == second.self_due and not items[0].urgent
        with _at(second.self_due + timedelta(days=1)):
            items = sheet_todos(a["agency"])
            assert [t.title for t in items] == ["第二季度机构自评已逾期未提交（1 个社区）"]
            assert items[0].urgent


def test_raters_are_told_of_an_ended_quarter_they_have_not_rated(appraised, sign_in):
    a = appraised
    expected = {"committee": "第一季度已结束，居委会监督评价待提交（1 个社区）",
                "manager": "第一季度已结束，街道办事处评价待提交（1 个社区）",
                "leader": "第一季度已结束，街道办事处评价待提交（1 个社区）",
                "professor": "第一季度已结束，高校专业评估待提交（1 个社区）"}
    for who, title in expected.items():
        page = _home(sign_in, a[who])
        assert title in page, who
        assert "第二季度已结束" not in page  # the second quarter is still running
    assert "待提交" not in _home(sign_in, a["other_committee"])
    _rate(a, Src.COMMITTEE)
    _rate(a, Src.STREET_OFFICE)
    assert "居委会监督评价待提交" not in _home(sign_in, a["committee"])
    assert "街道办事处评价待提交" not in _home(sign_in, a["leader"])
    assert expected["professor"] in _home(sign_in, a["professor"])


def test_the_street_office_is_told_of_self_assessments_waiting_for_review(appraised, sign_in):
    a = appraised
    assert "份机构自评待审核" not in _home(sign_in, a["manager"])
    sheet = _rate(a, Src.SELF)
    for who in ("manager", "leader"):
        page = _home(sign_in, a[who])
        assert "1 份机构自评待审核" in page and "/evaluations/sheets/#reviews" in page, who
    assert "份机构自评待审核" not in _home(sign_in, a["professor"])
    sheets.accept(a["manager"], sheet)
    assert "份机构自评待审核" not in _home(sign_in, a["manager"])
