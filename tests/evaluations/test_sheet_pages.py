"""The score-sheet pages: filling in and submitting through the page (one audit entry per
action, nothing written when a submission is refused, what was typed kept), who may fill
which sheet and who reads a draft, the self-assessment's review round trip, evidence
uploads and downloads, the indicator set page (edited while open, refused once locked), the
mid-term and final evaluation form and "我的评分".

Pages run on the real clock: the `appraised` agreement started on the first of the month
four months ago, so its first quarter has ended (and the self-assessment's due date has
passed) and its second quarter has started."""
import io
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from conftest import row_counts
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.contracts.states import EvaluationSource as Src
from procurement.documents.models import StoredFile
from procurement.evaluations import plan
from procurement.evaluations.models import (EvaluationFile, EvaluationPeriod, EvaluationScore,
                                            EvaluationSheet, Indicator)
from procurement.evaluations.sheet_forms import layout_of
from procurement.evaluations.states import SHEET_SOURCES, PeriodKind, SheetState
from procurement.extensions import db as _db
from procurement.orgs.models import OrgKind

BASE = "/evaluations/sheets"
RATER = {Src.SELF: "agency", Src.COMMITTEE: "committee", Src.STREET_OFFICE: "manager",
         Src.UNIVERSITY: "professor"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def indicator_sets(appraised):
    """The default sets, stored before any counting (the pages would create them)."""
    for source in SHEET_SOURCES:
        plan.indicator_set(appraised["agreement"], source)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _counts():
    """Rows a sheet writes, and the evaluation audit entries (signing in audits too)."""
    return (*row_counts(EvaluationSheet, EvaluationScore, EvaluationFile, StoredFile, Indicator),
            _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                               .where(AuditEntry.action.like("evaluation.%"))))


def _audit(action: str) -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == action))


def fill_url(a, source: Src, number: int = 1) -> str:
    return (f"{BASE}/agreements/{a['agreement'].id}/quarter/{number}/{a['community'].id}/"
            f"{source.value}")


def _form(a, source: Src, share="0.9", narrative="本季度工作扎实，居民认可。", **overrides):
    """The fill form as a browser posts it: every indicator scored at `share` of its max."""
    indicators = plan.indicator_set(a["agreement"], source).indicators
    data = {"layout": layout_of(indicators), "narrative": narrative,
            "opinions": "居民反映社工入户热情。"}
    for n, indicator in enumerate(indicators):
        data[f"score_{n}"] = str((indicator.max_score * Decimal(share)).quantize(Decimal("0.1")))
    data.update(overrides)
    return data


def _sheet(a, source: Src, number: int = 1) -> EvaluationSheet | None:
    return _db.session.scalar(
        sa.select(EvaluationSheet).join(EvaluationPeriod)
        .where(EvaluationPeriod.agreement_id == a["agreement"].id,
               EvaluationPeriod.number == number, EvaluationSheet.source == source))


def _submit(a, source: Src, sign_in, **overrides):
    response = sign_in(a[RATER[source]]).post(fill_url(a, source),
                                              data=_form(a, source, submit="1", **overrides))
    assert response.status_code == 302, _text(response)
    return _sheet(a, source)


# --- filling in and submitting -------------------------------------------------------------


def test_the_street_office_saves_a_draft_then_submits_through_the_page(appraised, sign_in):
    a = appraised
    client = sign_in(a["manager"])
    page = _text(client.get(fill_url(a, Src.STREET_OFFICE)))
    assert "服务清单任务完成情况" in page and "保存草稿" in page and "评价意见" in page
    assert "本季度收集的居民意见" not in page  # the committee's field only

    draft = _form(a, Src.STREET_OFFICE, save="1", score_1="")  # one left blank
    response = client.post(fill_url(a, Src.STREET_OFFICE), data=draft)
    assert response.status_code == 302 and response.headers["Location"].endswith(
        fill_url(a, Src.STREET_OFFICE))
    sheet = _sheet(a, Src.STREET_OFFICE)
    assert sheet.state is SheetState.DRAFT and len(sheet.scores) == 4
    assert (_audit("evaluation.save"), _audit("evaluation.submit")) == (1, 0)
    # The draft comes back as it was saved.
    page = _text(client.get(fill_url(a, Src.STREET_OFFICE)))
    assert 'name="score_0" type="text" value="27"' in page and "本季度工作扎实" in page

    response = client.post(fill_url(a, Src.STREET_OFFICE),
                           data=_form(a, Src.STREET_OFFICE, submit="1"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{BASE}/{sheet.id}")
    _db.session.refresh(sheet)
    assert sheet.state is SheetState.SUBMITTED and sheet.total == Decimal("90.00")
    assert (_audit("evaluation.save"), _audit("evaluation.submit")) == (2, 1)
    shown = _text(client.get(f"{BASE}/{sheet.id}"))
    assert "90.00" in shown and "提交评分表" in shown and a["manager"].name in shown
    # A submitted sheet is not filled in again: its page is shown instead.
    again = client.get(fill_url(a, Src.STREET_OFFICE))
    assert again.status_code == 302 and again.headers["Location"].endswith(f"{BASE}/{sheet.id}")


@pytest.mark.parametrize("overrides, message", [
    ({"score_0": ""}, "以下指标尚未评分"),
    ({"score_0": "31"}, "0 至 30 之间"),
    ({"score_0": "八十"}, "应为数字"),
    ({"narrative": ""}, "请填写评价意见"),
])
def test_a_refused_submit_writes_nothing_and_keeps_what_was_typed(appraised, sign_in, overrides,
                                                                 message):
    a = appraised
    client = sign_in(a["manager"])
    before = _counts()
    data = {**_form(a, Src.STREET_OFFICE, submit="1", narrative="这段意见不应丢失"), **overrides}
    response = client.post(fill_url(a, Src.STREET_OFFICE), data=data)
    assert response.status_code == 200
    page = _text(response)
    assert message in page
    assert _counts() == before
    if data["narrative"]:
        assert "这段意见不应丢失" in page
    assert f'name="score_2" type="text" value="{data["score_2"]}"' in page


def test_a_refused_submit_leaves_the_saved_draft_as_it_was(appraised, sign_in):
    """Save and submit are one unit of work: a refused submission does not save either."""
    a = appraised
    client = sign_in(a["manager"])
    client.post(fill_url(a, Src.STREET_OFFICE), data=_form(a, Src.STREET_OFFICE, save="1",
                                                            narrative="草稿意见"))
    before = _counts()
    response = client.post(fill_url(a, Src.STREET_OFFICE), data=_form(
        a, Src.STREET_OFFICE, submit="1", narrative="新的意见", score_0=""))
    assert "尚未评分" in _text(response)
    assert _counts() == before
    sheet = _sheet(a, Src.STREET_OFFICE)
    assert (sheet.state, sheet.narrative, len(sheet.scores)) == (SheetState.DRAFT, "草稿意见", 5)


def test_full_width_scores_are_accepted(appraised, sign_in):
    a = appraised
    sheet = _submit(a, Src.UNIVERSITY, sign_in, score_0="２７", score_1="１８.０")
    assert {s.score for s in sheet.scores} >= {Decimal("27"), Decimal("18")}


def test_the_committee_must_give_the_residents_opinions(appraised, sign_in):
    a = appraised
    client = sign_in(a["committee"])
    assert "本季度收集的居民意见" in _text(client.get(fill_url(a, Src.COMMITTEE)))
    before = _counts()
    response = client.post(fill_url(a, Src.COMMITTEE),
                           data=_form(a, Src.COMMITTEE, submit="1", opinions=""))
    assert "请填写本季度收集的居民意见" in _text(response) and _counts() == before
    sheet = _submit(a, Src.COMMITTEE, sign_in)
    assert sheet.opinions == "居民反映社工入户热情。"
    assert "居民反映社工入户热情" in _text(client.get(f"{BASE}/{sheet.id}"))


def test_scores_posted_against_changed_indicators_are_refused(appraised, sign_in):
    a = appraised
    client = sign_in(a["manager"])
    stale = _form(a, Src.STREET_OFFICE, save="1")
    plan.update_indicators(a["manager"], a["agreement"], Src.STREET_OFFICE,
                           [plan.IndicatorSpec("服务数量", "完成情况", Decimal(100))])
    before = _counts()
    response = client.post(fill_url(a, Src.STREET_OFFICE), data=stale)
    assert "评估指标已调整" in _text(response) and _counts() == before


# --- who fills and who reads ---------------------------------------------------------------


def test_outsiders_may_not_fill_a_sheet(appraised, factory, sign_in):
    a = appraised
    other_professor = factory.user(Role.UNIVERSITY_EVALUATOR, org=factory.org(OrgKind.UNIVERSITY))
    before = _counts()
    for user, source in ((a["other_committee"], Src.COMMITTEE), (a["other_agency"], Src.SELF),
                         (other_professor, Src.UNIVERSITY), (a["agency"], Src.STREET_OFFICE),
                         (a["committee"], Src.UNIVERSITY)):
        client = sign_in(user)
        assert client.get(fill_url(a, source)).status_code == 403, (user.username, source)
        response = client.post(fill_url(a, source), data=_form(a, source, submit="1"))
        assert response.status_code == 403
    assert _counts() == before


def test_a_draft_is_read_only_by_its_raters_until_submitted(appraised, sign_in):
    a = appraised
    client = sign_in(a["manager"])
    client.post(fill_url(a, Src.STREET_OFFICE), data=_form(a, Src.STREET_OFFICE, save="1"))
    sheet = _sheet(a, Src.STREET_OFFICE)
    show = f"{BASE}/{sheet.id}"
    assert sign_in(a["leader"]).get(show).status_code == 200  # the same source
    for other in ("agency", "committee", "professor"):
        assert sign_in(a[other]).get(show).status_code == 403, other
    client.post(fill_url(a, Src.STREET_OFFICE), data=_form(a, Src.STREET_OFFICE, submit="1"))
    for other in ("agency", "committee", "professor"):
        assert sign_in(a[other]).get(show).status_code == 200, other
    # Outsiders never read it.
    assert sign_in(a["other_agency"]).get(show).status_code == 403
    assert sign_in(a["other_committee"]).get(show).status_code == 403


def test_the_auditor_reads_a_submitted_sheet_but_cannot_review_it(appraised, factory, sign_in):
    a = appraised
    sheet = _submit(a, Src.SELF, sign_in)
    auditor = sign_in(factory.user(Role.AUDITOR, org=factory.org(OrgKind.GOVERNMENT)))
    page = _text(auditor.get(f"{BASE}/{sheet.id}"))
    assert "自评报告" in page and "审核通过" not in page
    assert auditor.post(f"{BASE}/{sheet.id}/accept").status_code == 403


# --- the self-assessment: completion, evidence, review -------------------------------------


def test_the_self_assessment_shows_the_quarter_completion_and_freezes_it(appraised, sign_in):
    a = appraised
    client = sign_in(a["agency"])
    page = _text(client.get(fill_url(a, Src.SELF)))
    assert "本季度服务完成情况" in page and "总体完成率" in page and "自评报告" in page
    assert "已逾期" in page  # the first quarter's due date has passed
    sheet = _submit(a, Src.SELF, sign_in)
    assert sheet.completion is not None and sheet.late
    shown = _text(client.get(f"{BASE}/{sheet.id}"))
    assert "服务完成情况（提交时固定）" in shown and "逾期提交" in shown
    for item in sheet.completion["items"][:3]:
        assert item["task"] in shown


def test_evidence_is_refused_for_an_exe_and_kept_for_a_pdf(appraised, sign_in):
    a = appraised
    client = sign_in(a["agency"])
    before = _counts()
    data = _form(a, Src.SELF, save="1", files=[(io.BytesIO(b"MZ\x90\x00"), "setup.exe")])
    response = client.post(fill_url(a, Src.SELF), data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "“setup.exe”的文件类型不允许" in _text(response) and _counts() == before

    data = _form(a, Src.SELF, save="1", files=[(io.BytesIO(PDF), "签到表.pdf"),
                                               (io.BytesIO(PDF), "活动照片.pdf")])
    response = client.post(fill_url(a, Src.SELF), data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    sheet = _sheet(a, Src.SELF)
    assert sorted(f.file.original_name for f in sheet.files) == ["活动照片.pdf", "签到表.pdf"]
    assert (_audit("evaluation.save"), _audit("evaluation.attach")) == (1, 1)
    page = _text(client.get(fill_url(a, Src.SELF)))
    assert "签到表.pdf" in page and "活动照片.pdf" in page
    evidence = sheet.files[0]
    download = f"{BASE}/{sheet.id}/files/{evidence.id}"
    got = client.get(download)
    assert got.status_code == 200 and got.data == PDF
    # A draft's evidence is the agency's own until the sheet is submitted.
    assert sign_in(a["manager"]).get(download).status_code == 403
    _submit(a, Src.SELF, sign_in)
    assert sign_in(a["manager"]).get(download).data == PDF
    assert sign_in(a["other_agency"]).get(download).status_code == 403
    # A file id under another sheet's address is not found.
    assert client.get(f"{BASE}/{sheet.id + 1}/files/{evidence.id}").status_code in (403, 404)


def test_return_resubmit_and_accept_through_the_pages(appraised, sign_in):
    a = appraised
    sheet = _submit(a, Src.SELF, sign_in)
    office = sign_in(a["manager"])
    page = _text(office.get(f"{BASE}/{sheet.id}"))
    assert "审核通过" in page and "退回修改" in page
    assert "待审核的机构自评" in _text(office.get(f"{BASE}/"))

    before = _counts()
    response = office.post(f"{BASE}/{sheet.id}/return", data={"return-comment": "  "})
    assert "退回修改须写明意见" in _text(response) and _counts() == before
    response = office.post(f"{BASE}/{sheet.id}/return",
                           data={"return-comment": "请补充入户走访的签到表。"})
    assert response.status_code == 302
    _db.session.refresh(sheet)
    assert sheet.state is SheetState.RETURNED and sheet.returns == 1

    agency = sign_in(a["agency"])
    page = _text(agency.get(fill_url(a, Src.SELF)))
    assert "请补充入户走访的签到表。" in page and "已退回修改" in page
    assert agency.post(fill_url(a, Src.SELF), data=_form(
        a, Src.SELF, submit="1", narrative="已补充签到表。")).status_code == 302
    _db.session.refresh(sheet)
    assert sheet.state is SheetState.SUBMITTED and sheet.narrative == "已补充签到表。"

    response = office.post(f"{BASE}/{sheet.id}/accept", data={"accept-comment": "材料齐全。"})
    assert response.status_code == 302
    _db.session.refresh(sheet)
    assert sheet.state is SheetState.ACCEPTED and sheet.review_comment == "材料齐全。"
    page = _text(office.get(f"{BASE}/{sheet.id}"))
    assert re.findall(r"提交评分表|机构自评退回修改|机构自评审核通过", page) == [
        "提交评分表", "机构自评退回修改", "提交评分表", "机构自评审核通过"]
    assert "请补充入户走访的签到表。" in page and "审核通过</button>" not in page
    # Accepted is final: neither the office nor the agency changes it any more.
    before = _counts()
    response = office.post(f"{BASE}/{sheet.id}/return", data={"return-comment": "再改一次"})
    assert response.status_code == 200 and "不能退回修改" in _text(response)
    _db.session.refresh(sheet)
    assert _counts() == before and sheet.state is SheetState.ACCEPTED
    assert agency.get(fill_url(a, Src.SELF)).status_code == 302


def test_only_the_street_office_reviews(appraised, sign_in):
    a = appraised
    sheet = _submit(a, Src.SELF, sign_in)
    assert sign_in(a["agency"]).post(f"{BASE}/{sheet.id}/accept").status_code == 403
    assert sign_in(a["professor"]).post(f"{BASE}/{sheet.id}/return",
                                        data={"return-comment": "x"}).status_code == 403
    assert "审核通过" not in _text(sign_in(a["professor"]).get(f"{BASE}/{sheet.id}"))


# --- indicator sets, mid-term and final evaluations ----------------------------------------


def _set_url(a, source: Src) -> str:
    return f"{BASE}/agreements/{a['agreement'].id}/indicators/{source.value}"


def _rows(*rows):
    data = {}
    for n, (dimension, name, max_score, guidance) in enumerate(rows):
        data.update({f"indicators-{n}-dimension": dimension, f"indicators-{n}-name": name,
                     f"indicators-{n}-max_score": max_score,
                     f"indicators-{n}-guidance": guidance})
    return data


def test_the_contract_manager_edits_an_open_indicator_set(appraised, sign_in):
    a = appraised
    client = sign_in(a["manager"])
    page = _text(client.get(_set_url(a, Src.COMMITTEE)))
    assert "驻点服务" in page and "满分合计 100 分" in page and "保存评估指标" in page
    response = client.post(_set_url(a, Src.COMMITTEE), data=_rows(
        ("驻点服务", "社工在岗", "６０", "按时驻点"), ("", "", "", ""),  # a blank row is ignored
        ("居民反映", "投诉处理", "40", "")))
    assert response.status_code == 302
    current = plan.indicator_set(a["agreement"], Src.COMMITTEE)
    assert [(i.name, i.max_score) for i in current.indicators] == [
        ("社工在岗", Decimal(60)), ("投诉处理", Decimal(40))]
    assert _audit("evaluation.indicators") == 1
    # Bad input: the service's message, nothing changed.
    before = _counts()
    response = client.post(_set_url(a, Src.COMMITTEE), data=_rows(
        ("驻点服务", "社工在岗", "abc", "")))
    assert "满分应为数字" in _text(response) and _counts() == before
    response = client.post(_set_url(a, Src.COMMITTEE), data=_rows(("驻点服务", "", "10", "")))
    assert "须填写维度和名称" in _text(response) and _counts() == before
    # Readers see the list but no form.
    page = _text(sign_in(a["agency"]).get(_set_url(a, Src.COMMITTEE)))
    assert "社工在岗" in page and "保存评估指标" not in page
    assert sign_in(a["agency"]).post(_set_url(a, Src.COMMITTEE),
                                     data=_rows(("a", "b", "10", ""))).status_code == 403


def test_the_locked_indicator_set_page_refuses_edits(appraised, sign_in):
    a = appraised
    _submit(a, Src.STREET_OFFICE, sign_in)
    client = sign_in(a["manager"])
    page = _text(client.get(_set_url(a, Src.STREET_OFFICE)))
    assert "已锁定" in page and "保存评估指标" not in page
    names = [i.name for i in plan.indicator_set(a["agreement"], Src.STREET_OFFICE).indicators]
    before = _counts()
    response = client.post(_set_url(a, Src.STREET_OFFICE), data=_rows(("a", "b", "100", "")))
    assert response.status_code == 200 and "指标已锁定" in _text(response)
    assert _counts() == before
    _db.session.expire_all()
    assert [i.name for i in plan.indicator_set(a["agreement"], Src.STREET_OFFICE).indicators] \
        == names
    # Other sources' sets are still open.
    assert "保存评估指标" in _text(client.get(_set_url(a, Src.UNIVERSITY)))


def test_the_residents_have_no_indicator_set(appraised, sign_in):
    client = sign_in(appraised["manager"])
    assert client.get(_set_url(appraised, Src.RESIDENTS)).status_code == 404
    assert client.get(fill_url(appraised, Src.RESIDENTS)).status_code == 404


def test_the_contract_manager_schedules_a_mid_term_evaluation(appraised, factory, sign_in):
    a = appraised
    agreement = a["agreement"]
    url = f"{BASE}/agreements/{agreement.id}/reviews/new"
    client = sign_in(a["manager"])
    assert "安排期中/期末评估" in _text(client.get(url))
    before = _counts()
    response = client.post(url, data={"kind": "midterm", "start_date": "2000-01-01",
                                      "end_date": "2000-02-01"})
    assert "评估期间应在本年度协议期限之内" in _text(response) and _counts() == before
    start, end = agreement.start_date, agreement.start_date.replace(day=28)
    response = client.post(url, data={"kind": "midterm", "start_date": start.isoformat(),
                                      "end_date": end.isoformat()})
    assert response.status_code == 302
    period = _db.session.scalar(sa.select(EvaluationPeriod).where(
        EvaluationPeriod.kind == PeriodKind.MIDTERM))
    assert (period.start_date, period.end_date) == (start, end)
    assert _audit("evaluation.add_review") == 1
    assert "期中评估" in _text(client.get(url))
    # It is the contract manager's alone, and of this street office only.
    assert sign_in(a["leader"]).get(url).status_code == 403
    stranger = factory.user(Role.CONTRACT_MANAGER, org=factory.org(OrgKind.STREET_OFFICE))
    assert sign_in(stranger).get(url).status_code == 403
    # The raters see it among their sheets once it has started.
    assert "期中评估" in _text(sign_in(a["professor"]).get(f"{BASE}/"))


# --- 我的评分 --------------------------------------------------------------------------------


def test_my_sheets_lists_each_raters_sheets_with_their_state(appraised, sign_in):
    a = appraised
    page = _text(sign_in(a["agency"]).get(f"{BASE}/"))
    assert a["community"].name in page and "机构自评" in page
    assert "第一季度" in page and "第二季度" in page and "第三季度" not in page
    assert "未填写" in page and "逾期" in page and str(a["quarter"].self_due) in page
    assert page.count("<td>机构自评</td>") == 2 and "<td>街道办事处评价</td>" not in page
    _submit(a, Src.SELF, sign_in)
    page = _text(sign_in(a["agency"]).get(f"{BASE}/"))
    assert "已提交" in page and "查看" in page
    committee = _text(sign_in(a["committee"]).get(f"{BASE}/"))
    assert "居委会监督评价" in committee and "待审核的机构自评" not in committee
    assert "没有需要您评分的年度协议" in _text(sign_in(a["other_committee"]).get(f"{BASE}/"))
