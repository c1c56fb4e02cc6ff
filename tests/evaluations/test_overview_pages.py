"""The evaluation overview pages: the index with each community's latest result, the
agreement page with periods × sources, what is missing and who must act, finalising through
the page (refused with the service's message when a source is missing and no reason is
given; with a reason it finalises, is audited and locks the scores), who sees which
community, the two Excel exports and a bounded number of queries."""
import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from conftest import row_counts
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.contracts.models import AgreementCommunity
from procurement.contracts.states import EvaluationSource as Src, Grade
from procurement.core import clock
from procurement.core.calendar import SHANGHAI
from procurement.core.errors import DomainError
from procurement.evaluations import overview, plan, scoring, sheets
from procurement.evaluations.models import PeriodResult, Survey, SurveyResponse
from procurement.evaluations.states import SurveyState
from procurement.extensions import db

RATERS = {Src.SELF: "agency", Src.COMMITTEE: "committee", Src.STREET_OFFICE: "manager",
          Src.UNIVERSITY: "professor"}


def _text(response) -> str:
    return response.get_data(as_text=True)


def _after(period, days=1):
    day = period.end_date + timedelta(days=days)
    return clock.frozen(datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI))


def _rate(a, source, share, period=None, community=None, rater=None, narrative="本季度工作扎实。"):
    """Fill and submit a sheet giving each indicator `share` of its maximum."""
    period, community = period or a["quarter"], community or a["community"]
    if rater is None:
        own = source is Src.COMMITTEE and community.id != a["community"].id
        rater = a["second_committee"] if own else a[RATERS[source]]
    indicators = plan.indicator_set(period.agreement, source).indicators
    scores = {i.id: str((i.max_score * Decimal(share)).quantize(Decimal("0.1")))
              for i in indicators}
    with _after(period):
        sheet = sheets.save(rater, period, community, source, scores=scores,
                            narrative=narrative, opinions="居民反映社工入户热情。")
        return sheets.submit(rater, sheet)


def _survey(a, scores=(), size=50, period=None, community=None):
    period, community = period or a["quarter"], community or a["community"]
    survey = Survey(period_id=period.id, community_id=community.id, size=size,
                    closes_at=clock.now() + timedelta(days=3), state=SurveyState.OPEN,
                    created_by_id=a["manager"].id)
    db.session.add(survey)
    db.session.flush()
    db.session.add_all(SurveyResponse(survey_id=survey.id, answers={"q1": 5},
                                      score=Decimal(s)) for s in scores)
    db.session.flush()
    return survey


def _all_rated(a, period=None, community=None):
    for source, share in ((Src.STREET_OFFICE, "0.9"), (Src.COMMITTEE, "0.8"),
                          (Src.UNIVERSITY, "0.7")):
        _rate(a, source, share, period=period, community=community)
    _survey(a, ("90", "80", "85.5"), period=period, community=community)


def _finalise_url(a, period=None, community=None):
    period, community = period or a["quarter"], community or a["community"]
    return (f"/evaluations/{a['agreement'].id}/periods/{period.id}"
            f"/communities/{community.id}/finalise")


def _prefix(a, period=None, community=None):
    period, community = period or a["quarter"], community or a["community"]
    return f"p{period.id}c{community.id}-"


@pytest.fixture
def two(appraised, factory):
    """The appraised agreement serving a second community of the same street office."""
    a = appraised
    agreement = a["agreement"]
    other = factory.community(street_office=agreement.cooperation.street_office,
                              name="林口社区")
    agreement.communities.append(AgreementCommunity(community_id=other.id, community=other,
                                                    amount_fen=40_000_000))
    db.session.flush()
    return {**a, "second": other,
            "second_committee": factory.user(Role.COMMITTEE_STAFF, org=other.committee)}


# --- finalising --------------------------------------------------------------------------------


def test_finalising_with_a_missing_source_and_no_reason_shows_the_services_message(
        appraised, sign_in):
    a = appraised
    for source in (Src.STREET_OFFICE, Src.COMMITTEE, Src.UNIVERSITY):
        _rate(a, source, "0.9")
    client = sign_in(a["manager"])
    counts = row_counts(PeriodResult, AuditEntry)
    response = client.post(_finalise_url(a), data={_prefix(a) + "reweight_reason": "  "})
    assert response.status_code == 200
    page = _text(response)
    assert "缺少以下来源的评分：居民满意度调查" in page and "写明理由" in page
    assert row_counts(PeriodResult, AuditEntry) == counts


def test_with_a_reason_the_page_finalises_audits_and_locks_the_scores(appraised, sign_in):
    a = appraised
    for source, share in ((Src.STREET_OFFICE, "0.9"), (Src.COMMITTEE, "0.8"),
                          (Src.UNIVERSITY, "0.7")):
        _rate(a, source, share)
    client = sign_in(a["manager"])
    reason = "台风影响，本季度未开展满意度调查。"
    response = client.post(_finalise_url(a), data={_prefix(a) + "reweight_reason": reason})
    assert response.status_code == 302
    result = scoring.result_of(a["quarter"], a["community"])
    assert result.reweight_reason == reason and result.finalised_by_id == a["manager"].id
    # 90, 80, 70 re-weighted from 30/20/30 to 37.5/25/37.5: 33.75 + 20 + 26.25 = 80.00
    assert result.composite == Decimal("80.00") and result.grade.label == "良好"
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "evaluation.finalise", AuditEntry.object_id == str(result.id)))
    assert entry.after["reweight_reason"] == reason and entry.actor_id == a["manager"].id

    page = _text(client.get(response.headers["Location"]))
    assert "已确定" in page and "80.00" in page and reason in page
    assert _finalise_url(a) not in page  # no form for a finalised period
    # The scores are locked: nobody can change a sheet, and finalising again is refused.
    with _after(a["quarter"], 30), pytest.raises(DomainError, match="锁定"):
        sheets.save(a["committee"], a["quarter"], a["community"], Src.COMMITTEE, scores={})
    again = client.post(_finalise_url(a), data={_prefix(a) + "reweight_reason": reason})
    assert "已确定，分数已锁定" in _text(again)
    assert db.session.query(PeriodResult).count() == 1


def test_all_sources_present_finalise_without_a_reason_to_the_provisional_composite(
        appraised, sign_in):
    a = appraised
    _all_rated(a)
    client = sign_in(a["manager"])
    page = _text(client.get(f"/evaluations/{a['agreement'].id}"))
    # 90×30% + 80×20% + 70×30% + 85.17×20% = 27 + 16 + 21 + 17.034 = 81.03
    assert "81.03" in page and "暂计" in page and "85.17" in page
    response = client.post(_finalise_url(a), data={})
    assert response.status_code == 302
    result = scoring.result_of(a["quarter"], a["community"])
    assert result.composite == Decimal("81.03") and result.reweight_reason is None


@pytest.mark.parametrize("who", ["agency", "committee", "professor"])
def test_only_the_street_office_may_finalise(appraised, sign_in, who):
    a = appraised
    _all_rated(a)
    response = sign_in(a[who]).post(_finalise_url(a), data={})
    assert response.status_code == 403
    assert scoring.result_of(a["quarter"], a["community"]) is None


def test_another_street_offices_manager_cannot_finalise(appraised, sign_in, factory):
    a = appraised
    stranger = factory.user(Role.CONTRACT_MANAGER, org=factory.org("street_office"))
    assert sign_in(stranger).post(_finalise_url(a), data={}).status_code == 403


def test_the_finalise_form_shows_only_to_the_street_office_on_ended_periods(appraised, sign_in):
    a = appraised
    second = plan.periods(a["agreement"])[1]  # the current quarter: not ended
    manager = _text(sign_in(a["manager"]).get(f"/evaluations/{a['agreement'].id}"))
    assert _finalise_url(a) in manager and _finalise_url(a, period=second) not in manager
    agency = _text(sign_in(a["agency"]).get(f"/evaluations/{a['agreement'].id}"))
    assert "确定评估结果" not in agency


def test_a_period_still_running_cannot_be_finalised_through_the_page(appraised, sign_in):
    a = appraised
    current = plan.periods(a["agreement"])[1]
    response = sign_in(a["manager"]).post(_finalise_url(a, period=current),
                                          data={_prefix(a, current) + "reweight_reason": "x"})
    assert "尚未结束" in _text(response)
    assert scoring.result_of(current, a["community"]) is None


def test_an_overlong_reason_is_refused_and_nothing_is_written(appraised, sign_in):
    a = appraised
    client = sign_in(a["manager"])
    counts = row_counts(PeriodResult, AuditEntry)
    response = client.post(_finalise_url(a), data={_prefix(a) + "reweight_reason": "理" * 2001})
    assert response.status_code == 200 and "不能超过 2000 个字符" in _text(response)
    assert row_counts(PeriodResult, AuditEntry) == counts


def test_a_period_of_another_agreement_is_not_found(appraised, sign_in, contracts):
    a = appraised
    response = sign_in(a["manager"]).post(
        f"/evaluations/{a['agreement'].id}/periods/{10**6}/communities/{a['community'].id}"
        "/finalise", data={})
    assert response.status_code == 404


# --- what is missing, and who must act -------------------------------------------------------


def test_the_missing_list_names_who_must_act(appraised, sign_in):
    a = appraised
    agreement = a["agreement"]
    coop = agreement.cooperation
    _rate(a, Src.STREET_OFFICE, "0.9")
    _rate(a, Src.SELF, "0.8")  # submitted, not yet reviewed
    _survey(a, scores=(), size=40)  # opened, nobody answered
    page = _text(sign_in(a["manager"]).get(f"/evaluations/{agreement.id}"))
    committee = a["community"].committee.name
    assert f"居委会监督评价未提交 — <strong>{committee}</strong>" in page
    assert f"高校专业评估未提交 — <strong>{coop.university.name}</strong>" in page
    assert f"机构自评待审核 — <strong>{coop.street_office.name}</strong>" in page
    assert f"居民满意度调查答卷不足（0/40） — <strong>{coop.street_office.name}</strong>" in page
    assert "街道办事处评价未提交" not in page  # it was submitted


def test_a_late_self_assessment_and_a_survey_not_run_are_listed(appraised, sign_in):
    a = appraised
    coop = a["agreement"].cooperation
    page = _text(sign_in(a["committee"]).get(f"/evaluations/{a['agreement'].id}"))
    due = a["quarter"].self_due.isoformat()
    assert f"机构自评逾期未提交（应于 {due} 前提交） — <strong>{coop.agency.name}</strong>" in page
    assert f"居民满意度调查未开展 — <strong>{coop.street_office.name}</strong>" in page


def test_a_late_submission_is_flagged_on_the_page(appraised, sign_in):
    a = appraised
    period = a["quarter"]
    indicators = plan.indicator_set(a["agreement"], Src.SELF).indicators
    with _after(period, (period.self_due - period.end_date).days + 1):
        sheet = sheets.save(a["agency"], period, a["community"], Src.SELF,
                            scores={i.id: "1" for i in indicators}, narrative="迟交的自评")
        sheets.submit(a["agency"], sheet)
    page = _text(sign_in(a["manager"]).get(f"/evaluations/{a['agreement'].id}"))
    assert "迟交" in page and "逾期未提交" not in page


def test_a_draft_is_shown_as_not_submitted(appraised, sign_in):
    a = appraised
    with _after(a["quarter"]):
        sheets.save(a["committee"], a["quarter"], a["community"], Src.COMMITTEE, scores={},
                    narrative="草稿里的秘密意见")
    page = _text(sign_in(a["manager"]).get(f"/evaluations/{a['agreement'].id}"))
    assert "居委会监督评价未提交" in page and "草稿" not in page


def test_cells_link_to_the_sheet_a_user_fills_and_to_the_ones_submitted(appraised, sign_in,
                                                                        app):
    from flask import url_for

    a = appraised
    agreement, community = a["agreement"], a["community"]
    with app.test_request_context():
        fill = url_for("sheets.fill", agreement_id=agreement.id, kind="quarter",
                       number=a["quarter"].number,
                       community_id=community.id, source="committee")
    own = sign_in(a["committee"])
    assert fill in _text(own.get(f"/evaluations/{agreement.id}"))
    assert fill not in _text(sign_in(a["manager"]).get(f"/evaluations/{agreement.id}"))
    sheet = _rate(a, Src.COMMITTEE, "0.8")
    survey = _survey(a, ("80",))
    with app.test_request_context():
        show = url_for("sheets.show", sheet_id=sheet.id)
        results = url_for("surveys.show", survey_id=survey.id)
    page = _text(own.get(f"/evaluations/{agreement.id}"))
    assert show in page and fill not in page and results in page


def test_a_survey_past_its_closing_time_says_so(appraised, sign_in):
    a = appraised
    survey = _survey(a, ("80", "90"))
    survey.closes_at = clock.now() - timedelta(hours=1)
    db.session.flush()
    page = _text(sign_in(a["manager"]).get(f"/evaluations/{a['agreement'].id}"))
    assert "已截止 · 答卷 2/50" in page


def test_an_agreement_not_in_force_has_no_evaluation_yet(contracts, sign_in):
    contracts.tenders.started(40)
    draft = contracts.cooperation().agreements[0]
    client = sign_in(contracts.manager)
    assert "协议尚未生效，暂无评估" in _text(client.get(f"/evaluations/{draft.id}"))
    assert client.get(f"/evaluations/{draft.id}/export.xlsx").status_code == 404
    assert draft.number not in _text(client.get("/evaluations/"))


def test_the_board_counts_what_the_composite_counts(two):
    """One query for the whole agreement must give scoring.source_scores' numbers: a
    submitted sheet, the self-assessment only once accepted, the survey's mean."""
    a = two
    _all_rated(a)
    own = _rate(a, Src.SELF, "0.8")  # submitted, not accepted: not counted yet
    _rate(a, Src.SELF, "0.7", community=a["second"])
    with _after(a["quarter"], 3):
        sheets.accept(a["manager"], own)
        sheets.save(a["second_committee"], a["quarter"], a["second"], Src.COMMITTEE,
                    scores={})  # a draft
    board = overview.board(a["agreement"], [a["community"], a["second"]])
    for community in (a["community"], a["second"]):
        for row in board.rows[community.id]:
            expected = scoring.source_scores(row.period, community)
            assert {c.source: c.score for c in row.cells} == expected
    first = board.row(a["quarter"].id, a["community"].id)
    assert first.cell(Src.SELF).score == Decimal("80.00")
    assert board.row(a["quarter"].id, a["second"].id).cell(Src.SELF).score is None


# --- who sees which community ----------------------------------------------------------------


@pytest.mark.parametrize("who", ["other_agency", "other_committee"])
def test_outsiders_cannot_read_the_agreement(appraised, sign_in, who):
    a = appraised
    client = sign_in(a[who])
    base = f"/evaluations/{a['agreement'].id}"
    for url in (base, base + "/export.xlsx", base + "/indicators.xlsx"):
        assert client.get(url).status_code == 403, url
    assert a["agreement"].number not in _text(client.get("/evaluations/"))


def test_a_committee_sees_only_its_own_community(two, sign_in):
    a = two
    _all_rated(a)
    _rate(a, Src.STREET_OFFICE, "0.5", community=a["second"])
    own = sign_in(a["committee"])
    page = _text(own.get(f"/evaluations/{a['agreement'].id}"))
    assert a["community"].name in page and a["second"].name not in page
    report = (f"/evaluations/{a['agreement'].id}/periods/{a['quarter'].id}"
              f"/communities/{a['second'].id}/report.pdf")
    assert own.get(report).status_code == 403
    rows = _rows(own.get(f"/evaluations/{a['agreement'].id}/export.xlsx"))
    assert {r[2] for r in rows[1:]} == {a["community"].name}
    # The other community's committee sees its own, and the street office both.
    other = _text(sign_in(a["second_committee"]).get(f"/evaluations/{a['agreement'].id}"))
    assert a["second"].name in other and a["community"].name not in other
    manager = _text(sign_in(a["manager"]).get(f"/evaluations/{a['agreement'].id}"))
    assert a["second"].name in manager and a["community"].name in manager


def test_readable_communities_follows_can_view(two):
    from procurement.evaluations.permissions import can_view

    a = two
    agreement = a["agreement"]
    for who in ("agency", "committee", "second_committee", "manager", "leader", "professor",
                "other_agency", "other_committee"):
        user = a[who]
        found = {c.id for c in overview.communities_of(user, agreement)}
        expected = {row.community_id for row in agreement.communities
                    if can_view(user, agreement, row.community)}
        assert found == expected, who


# --- the index -------------------------------------------------------------------------------


def test_the_index_shows_each_communitys_latest_result_and_the_year_grade(two, sign_in):
    a = two
    _all_rated(a)
    with _after(a["quarter"], 20):
        scoring.finalise(a["manager"], a["quarter"], a["community"])
    page = _text(sign_in(a["manager"]).get("/evaluations/"))
    assert a["agreement"].number in page
    assert f"{a['community'].name}：" in page and "81.03" in page and "第一季度" in page
    assert f"{a['second'].name}：" in page and "尚无确定的评估结果" in page
    committee = _text(sign_in(a["second_committee"]).get("/evaluations/"))
    assert "81.03" not in committee and a["community"].name not in committee


def test_the_agreement_page_shows_the_year_grade_once_set(appraised, sign_in):
    a = appraised
    a["agreement"].annual_grade = Grade.GOOD
    db.session.flush()
    page = _text(sign_in(a["agency"]).get(f"/evaluations/{a['agreement'].id}"))
    assert "年度等级：<strong>良好</strong>" in page


# --- charts ------------------------------------------------------------------------------------


def test_the_charts_show_the_composite_by_quarter_and_the_share_by_dimension(appraised,
                                                                           sign_in):
    a = appraised
    _all_rated(a)
    with _after(a["quarter"], 20):
        scoring.finalise(a["manager"], a["quarter"], a["community"])
    page = _text(sign_in(a["manager"]).get(f"/evaluations/{a['agreement'].id}"))
    assert "各季度综合得分" in page and "<title>第一季度 81.03</title>" in page
    # The street office gave 90% of each indicator's maximum: every dimension at 90%.
    assert "服务数量" in page and "90.00%" in page
    shares = overview.dimension_shares(plan.periods(a["agreement"]), [a["community"].id])
    by_source = shares[a["community"].id]
    assert [d.share for d in by_source[Src.STREET_OFFICE]] == [Decimal("90.00")] * 5
    assert Src.SELF not in by_source  # nothing submitted by the agency


# --- Excel --------------------------------------------------------------------------------------


def _rows(response):
    assert response.status_code == 200, response.status_code
    return list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))


def test_the_export_has_a_row_per_period_community_and_source_with_the_result(appraised,
                                                                            sign_in):
    a = appraised
    _all_rated(a)
    with _after(a["quarter"], 20):
        result = scoring.finalise(a["manager"], a["quarter"], a["community"])
    rows = _rows(sign_in(a["leader"]).get(f"/evaluations/{a['agreement'].id}/export.xlsx"))
    assert rows[0][:5] == ("评估期间", "起止日期", "社区", "来源", "权重")
    first = [r for r in rows[1:] if r[0] == "第一季度"]
    assert [r[3] for r in first] == ["街道办事处评价", "居委会监督评价", "高校专业评估",
                                     "居民满意度调查", "机构自评"]
    office = first[0]
    assert office[4] == "30%" and office[5] == "已提交" and office[7] == 90
    assert first[3][7] == pytest.approx(85.17) and first[3][5] == "进行中 · 答卷 3/50"
    assert all(r[9] == pytest.approx(float(result.composite)) and r[10] == "良好"
               and r[11] == "已确定" for r in first)
    assert len(rows) == 1 + 5 * len(plan.periods(a["agreement"]))


def test_the_indicator_export_lists_each_submitted_indicator(appraised, sign_in):
    a = appraised
    _rate(a, Src.STREET_OFFICE, "0.9")
    _rate(a, Src.COMMITTEE, "0.8")
    with _after(a["quarter"]):  # a draft stays its rater's own
        sheets.save(a["professor"], a["quarter"], a["community"], Src.UNIVERSITY,
                    scores={plan.indicator_set(a["agreement"], Src.UNIVERSITY)
                            .indicators[0].id: "20"})
    rows = _rows(sign_in(a["agency"]).get(f"/evaluations/{a['agreement'].id}/indicators.xlsx"))
    assert rows[0] == ("评估期间", "社区", "来源", "状态", "维度", "指标", "得分", "满分")
    office = plan.indicator_set(a["agreement"], Src.STREET_OFFICE).indicators
    committee = plan.indicator_set(a["agreement"], Src.COMMITTEE).indicators
    assert len(rows) == 1 + len(office) + len(committee)
    assert rows[1][:6] == ("第一季度", a["community"].name, "街道办事处评价", "已提交",
                           office[0].dimension, office[0].name)
    assert rows[1][6] == 27 and rows[1][7] == 30
    assert "高校专业评估" not in {r[2] for r in rows}


def test_the_auditor_reads_the_page_and_exports(appraised, sign_in, factory):
    a = appraised
    auditor = factory.user(Role.AUDITOR, org=factory.org("government"))
    client = sign_in(auditor)
    assert client.get(f"/evaluations/{a['agreement'].id}").status_code == 200
    assert "确定评估结果" not in _text(client.get(f"/evaluations/{a['agreement'].id}"))
    assert client.post(_finalise_url(a), data={}).status_code == 403


# --- queries -----------------------------------------------------------------------------------


def test_the_agreement_page_runs_as_many_queries_for_many_scores_as_for_few(two, sign_in):
    a = two
    periods = plan.periods(a["agreement"])
    _all_rated(a)
    with _after(a["quarter"], 20):
        scoring.finalise(a["manager"], a["quarter"], a["community"])
    client = sign_in(a["manager"])
    url = f"/evaluations/{a['agreement'].id}"
    engine = db.engine
    counted = []

    def count(*args):
        counted[-1] += 1

    def visit():
        counted.append(0)
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)

    visit()
    _all_rated(a, community=a["second"])
    for community in (a["community"], a["second"]):
        _all_rated(a, period=periods[1], community=community)
    _rate(a, Src.SELF, "0.8", community=a["second"])
    with _after(a["quarter"], 20):
        scoring.finalise(a["manager"], a["quarter"], a["second"])
    visit()
    # Two communities × four quarters × five sources: no query per period, sheet or answer.
    assert counted[0] == counted[1] and counted[1] <= 20, counted
