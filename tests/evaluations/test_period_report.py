"""The period report PDF (评估报告) of one community for one period: its Chinese text
extracts, its numbers are the finalised result's (the weights used, each source's score and
weighted score, the composite and grade), "未确定" before finalising, the comments of
submitted sheets only, the survey and completion summaries, the re-weighting reason, who may
print it, and a fixed number of queries."""
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from procurement.contracts.states import EvaluationSource as Src
from procurement.core import clock
from procurement.core.calendar import SHANGHAI
from procurement.documents.pdf import render_pdf
from procurement.evaluations import plan, scoring, sheets
from procurement.evaluations.models import Survey, SurveyResponse
from procurement.evaluations.report import report_context
from procurement.evaluations.states import SurveyState
from procurement.extensions import db

RATERS = {Src.SELF: "agency", Src.COMMITTEE: "committee", Src.STREET_OFFICE: "manager",
          Src.UNIVERSITY: "professor"}


def _after(period, days=1):
    day = period.end_date + timedelta(days=days)
    return clock.frozen(datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI))


def _rate(a, source, share, narrative):
    period, community, rater = a["quarter"], a["community"], a[RATERS[source]]
    indicators = plan.indicator_set(period.agreement, source).indicators
    scores = {i.id: str((i.max_score * Decimal(share)).quantize(Decimal("0.1")))
              for i in indicators}
    with _after(period):
        sheet = sheets.save(rater, period, community, source, scores=scores,
                            narrative=narrative, opinions="居民希望增加老年人活动。")
        return sheets.submit(rater, sheet)


def _survey(a, scores):
    survey = Survey(period_id=a["quarter"].id, community_id=a["community"].id, size=60,
                    closes_at=clock.now(), state=SurveyState.CLOSED,
                    created_by_id=a["manager"].id)
    db.session.add(survey)
    db.session.flush()
    db.session.add_all(SurveyResponse(survey_id=survey.id, answers={"q1": 4}, score=Decimal(s))
                       for s in scores)
    db.session.flush()


def _rated(a, survey=True):
    _rate(a, Src.STREET_OFFICE, "0.9", "街道意见：台账规范，入户走访到位。")
    _rate(a, Src.COMMITTEE, "0.8", "居委会意见：社工驻点及时。")
    _rate(a, Src.UNIVERSITY, "0.7", "高校意见：需求评估有待加强。")
    if survey:
        _survey(a, ("90", "80", "85.5"))


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def _url(a, community=None, period=None):
    return (f"/evaluations/{a['agreement'].id}/periods/{(period or a['quarter']).id}"
            f"/communities/{(community or a['community']).id}/report.pdf")


def test_the_report_of_a_finalised_period_matches_its_result(appraised, sign_in):
    a = appraised
    _rated(a)
    own = _rate(a, Src.SELF, "0.85", "机构自评：本季度完成入户走访。")
    with _after(a["quarter"], 3):
        sheets.accept(a["manager"], own, "同意。")
    with _after(a["quarter"], 20):
        result = scoring.finalise(a["manager"], a["quarter"], a["community"])
    response = sign_in(a["manager"]).get(_url(a))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "private" in response.headers["Cache-Control"]
    text = pdf_text(response.data)
    agreement = a["agreement"]
    for expected in ("服务评估报告", agreement.number, a["community"].name, "第一季度",
                     agreement.cooperation.agency.name, a["community"].committee.name):
        assert expected.replace(" ", "") in text, expected
    # Each weighted source with its weight, score and weighted score, as finalised.
    assert len(result.breakdown) == 4
    for line in result.breakdown:
        label = Src(line["source"]).label
        weight = f"{(Decimal(line['weight']) * 100).normalize():f}%"
        assert f"{label}{weight}{line['score']}{line['weighted']}" in text, label
    assert f"综合得分{result.composite}等级：{result.grade.label}" in text
    assert f"综合得分{result.composite}分，评估等级：{result.grade.label}" in text
    assert result.composite == Decimal("81.03")  # 27 + 16 + 21 + 17.034
    assert "机构自评不计入" in text  # not weighted in this contract, shown for the record
    # The comments, the survey and the self-assessment's completion summary.
    for comment in ("街道意见：台账规范，入户走访到位。", "居委会意见：社工驻点及时。",
                    "居民希望增加老年人活动。", "高校意见：需求评估有待加强。",
                    "机构自评：本季度完成入户走访。", "街道审核意见：同意。"):
        assert comment in text, comment
    assert "发放问卷60份回收答卷3份" in text and "满意度得分85.17" in text
    assert "总体完成率" in text and "街道已审核通过" in text
    assert own.completion["items"][0]["task"] in text
    assert "未确定" not in text


def test_a_reweighted_report_gives_the_weights_used_and_the_reason(appraised, sign_in):
    a = appraised
    _rated(a, survey=False)
    reason = "台风影响，本季度未开展满意度调查。"
    with _after(a["quarter"], 20):
        result = scoring.finalise(a["manager"], a["quarter"], a["community"],
                                  reweight_reason=reason)
    text = pdf_text(sign_in(a["agency"]).get(_url(a)).data)
    # 30/20/30 re-weighted over the sources present: 37.5%, 25%, 37.5%.
    assert "街道办事处评价37.5%90.0033.75" in text
    assert "居委会监督评价25%80.0020.00" in text
    assert "高校专业评估37.5%70.0026.25" in text
    assert f"综合得分{result.composite}" in text and result.composite == Decimal("80.00")
    assert reason in text and "本期未开展居民满意度调查" in text


def test_before_finalising_the_composite_and_grade_are_undetermined(appraised, sign_in):
    a = appraised
    _rate(a, Src.STREET_OFFICE, "0.9", "街道意见：已提交。")
    with _after(a["quarter"]):
        sheets.save(a["committee"], a["quarter"], a["community"], Src.COMMITTEE, scores={},
                    narrative="草稿中的意见，不应打印。")
    text = pdf_text(sign_in(a["committee"]).get(_url(a)).data)
    assert "综合得分未确定等级：未确定" in text and "本期评估结果未确定" in text
    assert "街道意见：已提交。" in text and "草稿中的意见" not in text
    # What is missing, with who must act.
    assert f"居委会监督评价未提交（{a['community'].committee.name}）" in text
    assert "机构尚未提交本期自评" in text


def test_a_complete_period_not_yet_finalised_gives_a_provisional_composite(appraised,
                                                                          sign_in):
    a = appraised
    _rated(a)
    text = pdf_text(sign_in(a["professor"]).get(_url(a)).data)
    assert "综合得分未确定" in text and "暂计综合得分81.03分（良好）" in text


@pytest.mark.parametrize("who, status", [("other_agency", 403), ("other_committee", 403),
                                         ("committee", 200), ("leader", 200)])
def test_who_may_print_the_report(appraised, sign_in, who, status):
    a = appraised
    assert sign_in(a[who]).get(_url(a)).status_code == status


def test_a_period_of_another_agreement_is_not_found(appraised, sign_in):
    a = appraised
    url = f"/evaluations/{a['agreement'].id}/periods/{10**6}/communities/{a['community'].id}"
    assert sign_in(a["manager"]).get(url + "/report.pdf").status_code == 404


def test_the_report_takes_a_fixed_handful_of_queries(appraised):
    a = appraised
    _rated(a)
    _rate(a, Src.SELF, "0.85", "自评")
    with _after(a["quarter"], 20):
        scoring.finalise(a["manager"], a["quarter"], a["community"])
    statements = []

    def count(*args):
        statements.append(args[2])

    engine = db.session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        db.session.expire_all()
        render_pdf("pdf/evaluation_period_report.html",
                   **report_context(a["quarter"], a["community"]))
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(statements) <= 14, "\n".join(s[:120].replace("\n", " ") for s in statements)
