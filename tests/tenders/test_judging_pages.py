"""The committee side through the pages: only a judge's own seat opens a tender, only his own
sheets are ever shown, the price score is the formula's, bad scores write nothing, and the
chair alone closes rounds and reports.

Pages use the real clock, so the tenders here are built relative to the real now: a start
30 days ago puts the opening 8 days in the past."""
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from conftest import row_counts
from procurement.audit.models import AuditEntry
from procurement.core import clock
from procurement.core.calendar import SHANGHAI
from procurement.extensions import db as _db
from procurement.tenders import bidding, evaluation
from procurement.tenders.evaluation_models import (Declaration, EvaluationRound, RoundEntry,
                                                   Score, ScoreCorrection, ScoreSheet)
from procurement.tenders.states import (CorrectionReason, CriterionKind, LowPriceDecision,
                                        RoundState, SheetState, TenderState)
from tender_builder import PDF, TenderBuilder, Upload


def _days_ago(days: int) -> datetime:
    now = datetime.now(SHANGHAI).replace(hour=9, minute=0, second=0, microsecond=0)
    return now - timedelta(days=days)


@pytest.fixture
def live(builder):
    """A builder whose tender was published 30 days ago: opened 8 days ago by the real clock."""
    builder.start = _days_ago(30)
    return builder


@pytest.fixture
def switch(client, login):
    """Sign the test client in as another user (the login page ignores a signed-in user)."""
    def do_switch(user):
        client.post("/logout")
        return login(user)

    return do_switch


def _bid(tender, price_fen):
    return next(b for b in tender.bids if b.price_fen == price_fen)


def _criteria(tender):
    return {c.name: c for c in tender.criteria}


def _scores(tender, service, team, experience):
    c = _criteria(tender)
    return {f"c{c['服务方案'].id}": service, f"c{c['团队配置'].id}": team,
            f"c{c['同类项目经验'].id}": experience}


def _sheet_url(tender, bid):
    return f"/judging/tenders/{tender.id}/bids/{bid.id}/sheet"


def _member(tender, user):
    return evaluation.member_of(tender, user)


def _sheet_counts():
    return row_counts(ScoreSheet, Score, ScoreCorrection, AuditEntry)


# --- who may see what ----------------------------------------------------------------------

def test_a_judge_of_another_tender_is_refused_everywhere(client, factory, live, login):
    tender = live.evaluating()
    bid = tender.valid_bids[0]
    other = TenderBuilder(factory, start=_days_ago(30))
    other_tender = other.evaluating()
    outsider = other.experts[0]  # chair of his own committee, nothing on this one
    assert _member(other_tender, outsider).is_chair
    login(outsider)
    base = f"/judging/tenders/{tender.id}"
    for url in (base, _sheet_url(tender, bid), f"{base}/chair"):
        assert client.get(url).status_code == 403, url
    before = _sheet_counts()
    for url in (f"{base}/bids/{bid.id}/declare", _sheet_url(tender, bid),
                f"{base}/bids/{bid.id}/correct", f"{base}/close-round", f"{base}/report",
                f"{base}/bids/{bid.id}/low-price"):
        assert client.post(url, data={"round_number": "1"}).status_code == 403, url
    assert _sheet_counts() == before
    # His own tender opens.
    assert client.get(f"/judging/tenders/{other_tender.id}").status_code == 200


def test_index_lists_only_my_seats_with_what_i_still_owe(client, factory, live, login):
    tender = live.evaluating()
    not_mine = TenderBuilder(factory, start=_days_ago(30)).evaluating()
    login(live.experts[1])
    html = client.get("/judging/").get_data(as_text=True)
    assert tender.number in html
    assert not_mine.number not in html
    assert "回避声明 4" in html  # four bidders to declare about
    assert "评分表 4" in html


def test_before_the_opening_the_show_page_says_nothing_about_bids(client, factory, login):
    builder = TenderBuilder(factory, start=_days_ago(10))  # opening 12 days from now
    tender = builder.published()
    for index, price in enumerate((60_000_000, 64_000_000, 70_000_000)):
        builder.bid(tender, index, price, days=1, uploads=[Upload("方案.pdf", PDF)])
    builder.committee(tender)
    login(builder.experts[1])
    response = client.get(f"/judging/tenders/{tender.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "尚未开标" in html
    for bid in tender.bids:
        assert bid.agency.name not in html
    for text in ("600,000", "640,000", "700,000", "服务方案0", "93.75"):
        assert text not in html
    bid = tender.bids[0]
    assert client.get(_sheet_url(tender, bid)).status_code == 403
    assert client.get(f"/judging/bid-files/{bid.current_files[0].id}").status_code == 403


def test_after_the_opening_a_member_sees_prices_price_scores_and_files(client, factory, login):
    builder = TenderBuilder(factory, start=_days_ago(30))
    tender = builder.published()
    for index, price in enumerate((60_000_000, 64_000_000, 70_000_000, 75_000_000)):
        builder.bid(tender, index, price, uploads=[Upload(f"方案{index}.pdf", PDF + bytes([index]))])
    with clock.frozen(builder.after_deadline(tender)):
        bidding.open_tender(builder.officer, tender)
    builder.committee(tender)
    with clock.frozen(builder.after_deadline(tender, hours=1)):
        for bid in tender.submitted_bids:
            bidding.review_qualification(builder.officer, bid, valid=True)
        evaluation.start_evaluation(builder.officer, tender)
    login(builder.experts[2])
    html = client.get(f"/judging/tenders/{tender.id}").get_data(as_text=True)
    assert "¥600,000.00" in html and "¥700,000.00" in html
    # (lowest valid price / bid price) × 100
    for score in ("100.00", "93.75", "85.71", "80.00"):
        assert score in html
    bid = _bid(tender, 70_000_000)
    page = client.get(_sheet_url(tender, bid)).get_data(as_text=True)
    assert "服务方案2" in page and "方案2.pdf" in page
    download = client.get(f"/judging/bid-files/{bid.current_files[0].id}")
    assert download.status_code == 200
    assert download.data == PDF + bytes([2])


def test_a_judge_never_sees_another_judges_scores(client, live, login, switch):
    tender = live.evaluating()
    live.declare_all(tender)
    bid = _bid(tender, 60_000_000)
    login(live.experts[1])
    response = client.post(_sheet_url(tender, bid),
                           data={**_scores(tender, "37.77", "18.88", "9.99"), "submit": "1"})
    assert response.status_code == 302
    sheet = evaluation.sheet_of(evaluation.current_round(tender), _member(tender, live.experts[1]), bid)
    assert sheet.state is SheetState.SUBMITTED
    typed = ("37.77", "18.88", "9.99", str(sheet.total))
    # The author sees his own sheet...
    assert all(t in client.get(_sheet_url(tender, bid)).get_data(as_text=True) for t in typed)
    # ...another member, and the chair, see none of it, on any page.
    for other in (live.experts[2], live.experts[0]):
        switch(other)
        pages = [client.get(f"/judging/tenders/{tender.id}"), client.get(_sheet_url(tender, bid)),
                 client.get(f"{_sheet_url(tender, bid)}?round=1"), client.get("/judging/")]
        if other is live.experts[0]:
            pages.append(client.get(f"/judging/tenders/{tender.id}/chair"))
        for page in pages:
            assert page.status_code == 200
            html = page.get_data(as_text=True)
            assert not [t for t in typed if t in html]


def test_a_replaced_member_sees_the_tender_but_can_do_nothing(client, live, login):
    tender = live.evaluating()
    gone = _member(tender, live.experts[1])
    with clock.frozen(live.after_deadline(tender, hours=2)):
        evaluation.replace_member(live.officer, gone, new_judge=live.experts[4], reason="因病不能到场")
    login(live.experts[1])
    html = client.get(f"/judging/tenders/{tender.id}").get_data(as_text=True)
    assert "被更换" in html and tender.title in html
    assert "¥600,000.00" not in html
    bid = tender.valid_bids[0]
    assert client.get(_sheet_url(tender, bid)).status_code == 403
    before = row_counts(Declaration, AuditEntry)
    response = client.post(f"/judging/tenders/{tender.id}/bids/{bid.id}/declare",
                           data={f"d{bid.id}-has_tie": "no"})
    assert response.status_code == 403
    assert row_counts(Declaration, AuditEntry) == before


# --- declarations --------------------------------------------------------------------------

def test_declaring_no_tie_is_recorded_and_audited(client, live, login):
    tender = live.evaluating()
    bid = tender.valid_bids[0]
    login(live.experts[1])
    response = client.post(f"/judging/tenders/{tender.id}/bids/{bid.id}/declare",
                           data={f"d{bid.id}-has_tie": "no"})
    assert response.status_code == 302
    assert evaluation.conflicted(_member(tender, live.experts[1]), bid.id) is False
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "committee.declare")) == 1


@pytest.mark.parametrize("data, message", [
    ({"has_tie": "yes", "description": ""}, "请说明与该投标人的关系"),
    ({"has_tie": ""}, "请选择是否存在利害关系"),
    ({"has_tie": "maybe"}, "选项无效"),
])
def test_an_incomplete_declaration_is_refused_and_writes_nothing(client, live, login, data, message):
    tender = live.evaluating()
    bid = tender.valid_bids[0]
    login(live.experts[1])
    before = row_counts(Declaration, AuditEntry)
    response = client.post(f"/judging/tenders/{tender.id}/bids/{bid.id}/declare",
                           data={f"d{bid.id}-{k}": v for k, v in data.items()})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert row_counts(Declaration, AuditEntry) == before


def test_a_conflicted_judge_is_refused_the_sheet(client, live, login):
    tender = live.evaluating()
    bid = _bid(tender, 64_000_000)
    login(live.experts[1])
    response = client.post(f"/judging/tenders/{tender.id}/bids/{bid.id}/declare",
                           data={f"d{bid.id}-has_tie": "yes",
                                 f"d{bid.id}-description": "近三年曾在该机构任职"})
    assert response.status_code == 302
    assert evaluation.conflicted(_member(tender, live.experts[1]), bid.id) is True
    page = client.get(_sheet_url(tender, bid)).get_data(as_text=True)
    assert "须回避" in page and 'name="submit"' not in page
    before = _sheet_counts()
    response = client.post(_sheet_url(tender, bid), data={**_scores(tender, "30", "15", "8"),
                                                          "submit": "1"})
    assert response.status_code == 200
    assert "须回避，不能为其评分" in response.get_data(as_text=True)
    assert _sheet_counts() == before


def test_scoring_before_declaring_is_refused(client, live, login):
    tender = live.evaluating()
    bid = tender.valid_bids[0]
    login(live.experts[1])
    before = _sheet_counts()
    response = client.post(_sheet_url(tender, bid), data={**_scores(tender, "30", "15", "8"),
                                                          "save": "1"})
    assert "请先对该投标人作出回避声明" in response.get_data(as_text=True)
    assert _sheet_counts() == before


# --- score sheets --------------------------------------------------------------------------

def test_the_price_score_is_the_formula_and_a_posted_price_is_ignored(client, live, login):
    tender = live.evaluating()
    live.declare_all(tender)
    bid = _bid(tender, 70_000_000)
    price = tender.price_criterion
    login(live.experts[1])
    page = client.get(_sheet_url(tender, bid)).get_data(as_text=True)
    assert "85.71" in page  # 600,000 / 700,000 × 100
    assert f'name="c{price.id}"' not in page  # never typed
    response = client.post(_sheet_url(tender, bid), data={
        **_scores(tender, "30", "15", "8"), f"c{price.id}": "100", "price_score": "100",
        "submit": "1"})
    assert response.status_code == 302
    sheet = evaluation.sheet_of(evaluation.current_round(tender), _member(tender, live.experts[1]), bid)
    assert {s.criterion.kind for s in sheet.scores} == {CriterionKind.SUBJECTIVE, CriterionKind.OBJECTIVE}
    # 30/40×100×0.4 + 15/20×100×0.2 + 8/10×100×0.1 + 85.71×0.3 = 78.713
    assert sheet.total == Decimal("78.71")


@pytest.mark.parametrize("value, message", [
    ("41", "不能大于 40"),
    ("-1", "不能小于 0"),
    ("12.345", "最多保留 2 位小数"),
    ("abc", "请填写数字"),
    ("", "请填写服务方案"),
])
@pytest.mark.parametrize("button", ["save", "submit"])
def test_bad_scores_are_refused_and_nothing_is_written(client, live, login, value, message, button):
    tender = live.evaluating()
    live.declare_all(tender)
    bid = tender.valid_bids[0]
    login(live.experts[1])
    before = _sheet_counts()
    response = client.post(_sheet_url(tender, bid), data={**_scores(tender, value, "15", "8"),
                                                          button: "1"})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _sheet_counts() == before


def test_full_width_digits_are_accepted(client, live, login):
    tender = live.evaluating()
    live.declare_all(tender)
    bid = tender.valid_bids[0]
    login(live.experts[1])
    response = client.post(_sheet_url(tender, bid),
                           data={**_scores(tender, "３２．５", "１５", "８"), "save": "1"})
    assert response.status_code == 302
    sheet = evaluation.sheet_of(evaluation.current_round(tender), _member(tender, live.experts[1]), bid)
    assert sheet.state is SheetState.DRAFT
    assert sheet.score_for(_criteria(tender)["服务方案"].id).value == Decimal("32.50")
    # A draft is the judge's to change, and shown back to him.
    assert "32.50" in client.get(_sheet_url(tender, bid)).get_data(as_text=True)


def test_a_sheet_is_submitted_once(client, live, login):
    tender = live.evaluating()
    live.declare_all(tender)
    bid = tender.valid_bids[0]
    login(live.experts[1])
    url = _sheet_url(tender, bid)
    assert client.post(url, data={**_scores(tender, "30", "15", "8"), "submit": "1"}).status_code == 302
    before = _sheet_counts()
    response = client.post(url, data={**_scores(tender, "40", "20", "10"), "submit": "1"})
    assert response.status_code == 200
    assert "评分表已提交，不能再修改" in response.get_data(as_text=True)
    assert _sheet_counts() == before
    sheet = evaluation.sheet_of(evaluation.current_round(tender), _member(tender, live.experts[1]), bid)
    assert sheet.score_for(_criteria(tender)["服务方案"].id).value == Decimal(30)
    # Read-only now: no score inputs, a correction form instead.
    page = client.get(url).get_data(as_text=True)
    assert f'name="c{_criteria(tender)["服务方案"].id}"' not in page
    assert "申请更正" in page


# --- corrections ---------------------------------------------------------------------------

@pytest.fixture
def submitted(client, live, login):
    tender = live.evaluating()
    live.declare_all(tender)
    bid = tender.valid_bids[0]
    login(live.experts[1])
    client.post(_sheet_url(tender, bid), data={**_scores(tender, "30", "15", "8"), "submit": "1"})
    sheet = evaluation.sheet_of(evaluation.current_round(tender), _member(tender, live.experts[1]), bid)
    assert sheet.state is SheetState.SUBMITTED
    return tender, bid, sheet


@pytest.mark.parametrize("reason, note, message", [
    ("changed_my_mind", "想法变了", "选项无效"),
    ("", "汇总时看错", "请选择更正事由"),
    ("summing_error", "", "请填写具体说明"),
])
def test_a_correction_needs_an_allowed_reason_and_a_note(client, submitted, reason, note, message):
    tender, bid, sheet = submitted
    before = _sheet_counts()
    response = client.post(f"/judging/tenders/{tender.id}/bids/{bid.id}/correct", data={
        "criterion": _criteria(tender)["服务方案"].id, "value": "32", "reason": reason,
        "note": note})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _sheet_counts() == before


def test_a_correction_is_recorded_and_audited(client, submitted):
    tender, bid, sheet = submitted
    criterion = _criteria(tender)["服务方案"]
    old_total = sheet.total
    response = client.post(f"/judging/tenders/{tender.id}/bids/{bid.id}/correct", data={
        "criterion": criterion.id, "value": "３２", "reason": "summing_error",
        "note": "汇总时将 32 误记为 30"})
    assert response.status_code == 302
    correction = _db.session.scalars(sa.select(ScoreCorrection)).one()
    assert (correction.old_value, correction.new_value) == (Decimal(30), Decimal(32))
    assert correction.reason is CorrectionReason.SUMMING_ERROR
    assert sheet.score_for(criterion.id).value == Decimal(32)
    assert sheet.total == old_total + Decimal(2)  # 2/40 × 100 × 0.4
    entry = _db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "score.correct")).one()
    assert entry.after["reason"] == "summing_error" and entry.after["value"] == "32"
    assert "汇总时将 32 误记为 30" in client.get(_sheet_url(tender, bid)).get_data(as_text=True)


def test_an_out_of_range_correction_is_refused(client, submitted):
    tender, bid, sheet = submitted
    before = _sheet_counts()
    response = client.post(f"/judging/tenders/{tender.id}/bids/{bid.id}/correct", data={
        "criterion": _criteria(tender)["团队配置"].id, "value": "25", "reason": "out_of_range",
        "note": "超出"})
    assert response.status_code == 200
    assert "得分应在 0 至 20 之间" in response.get_data(as_text=True)
    assert _sheet_counts() == before


# --- the chair -----------------------------------------------------------------------------

def test_a_member_who_is_not_the_chair_cannot_use_the_chair_pages(client, live, login):
    tender = live.evaluating()
    round_ = evaluation.current_round(tender)
    live.score_round(tender, round_)
    login(live.experts[1])
    base = f"/judging/tenders/{tender.id}"
    assert client.get(f"{base}/chair").status_code == 403
    assert "组长事务" not in client.get(base).get_data(as_text=True)
    before = row_counts(EvaluationRound, RoundEntry, AuditEntry)
    assert client.post(f"{base}/close-round", data={"round_number": "1"}).status_code == 403
    assert client.post(f"{base}/report", data={"text": "报告"}).status_code == 403
    assert row_counts(EvaluationRound, RoundEntry, AuditEntry) == before
    assert round_.state is RoundState.SCORING


def test_closing_a_round_with_missing_sheets_is_refused(client, live, login):
    tender = live.evaluating()
    live.declare_all(tender)
    login(live.experts[0])
    page = client.get(f"/judging/tenders/{tender.id}/chair").get_data(as_text=True)
    assert live.experts[1].name in page  # whose sheets are missing
    before = row_counts(EvaluationRound, RoundEntry, AuditEntry)
    response = client.post(f"/judging/tenders/{tender.id}/close-round", data={"round_number": "1"})
    assert response.status_code == 200
    assert "份评分表未提交" in response.get_data(as_text=True)
    assert row_counts(EvaluationRound, RoundEntry, AuditEntry) == before
    assert evaluation.current_round(tender).state is RoundState.SCORING


def test_the_chair_closes_a_round_with_a_shortlist_and_a_new_round_opens(client, live, login, switch):
    tender = live.evaluating()
    first = evaluation.current_round(tender)
    live.score_round(tender, first)
    login(live.experts[0])
    response = client.post(f"/judging/tenders/{tender.id}/close-round",
                           data={"round_number": "1", "shortlist": "３"})
    assert response.status_code == 302
    rounds = evaluation.rounds(tender)
    assert [r.number for r in rounds] == [1, 2]
    assert first.state is RoundState.CLOSED and first.shortlist == 3
    assert len(rounds[1].entries) == 3 and rounds[1].state is RoundState.SCORING
    # The chair sees the closed round's result: rank and final score.
    page = client.get(f"/judging/tenders/{tender.id}/chair").get_data(as_text=True)
    ranked = sorted(first.entries, key=lambda e: e.rank)
    assert str(ranked[0].final_score) in page and ranked[0].bid.agency.name in page
    # A stale form for the closed round closes nothing.
    before = row_counts(EvaluationRound, AuditEntry)
    client.post(f"/judging/tenders/{tender.id}/close-round", data={"round_number": "1"})
    assert row_counts(EvaluationRound, AuditEntry) == before
    # Members now owe sheets in round 2.
    switch(live.experts[1])
    assert "第2轮" in client.get(f"/judging/tenders/{tender.id}").get_data(as_text=True)


def test_a_bad_shortlist_is_refused(client, live, login):
    tender = live.evaluating()
    live.score_round(tender, evaluation.current_round(tender))
    login(live.experts[0])
    before = row_counts(EvaluationRound, AuditEntry)
    response = client.post(f"/judging/tenders/{tender.id}/close-round",
                           data={"round_number": "1", "shortlist": "4"})
    assert "进入下一轮的数量应在 2 至 3 之间" in response.get_data(as_text=True)
    assert row_counts(EvaluationRound, AuditEntry) == before


def test_the_chairs_report_moves_the_tender_to_result_pending(client, live, login):
    tender = live.ranked()
    login(live.experts[0])
    before = row_counts(AuditEntry)
    response = client.post(f"/judging/tenders/{tender.id}/report", data={"text": "  "})
    assert "请填写评审意见" in response.get_data(as_text=True)
    assert row_counts(AuditEntry) == before and tender.state is TenderState.EVALUATING
    response = client.post(f"/judging/tenders/{tender.id}/report",
                           data={"text": "评标委员会按综合评分法评审，推荐排序如下。"})
    assert response.status_code == 302
    assert tender.state is TenderState.RESULT_PENDING
    assert tender.report_text == "评标委员会按综合评分法评审，推荐排序如下。"


def test_the_chair_decides_a_low_price_explanation(client, live, login):
    tender = live.evaluating(prices=(40_000_000, 64_000_000, 70_000_000, 75_000_000))
    low = _bid(tender, 40_000_000)
    assert low.low_price and low.low_price_decision is LowPriceDecision.PENDING
    with clock.frozen(live.after_deadline(tender, hours=2)):
        bidding.explain_low_price(live.agency_users[0], low, "本机构有志愿者团队，人工成本较低。")
    login(live.experts[0])
    url = f"/judging/tenders/{tender.id}/bids/{low.id}/low-price"
    page = client.get(f"/judging/tenders/{tender.id}/chair").get_data(as_text=True)
    assert "人工成本较低" in page
    before = row_counts(AuditEntry)
    response = client.post(url, data={f"lp{low.id}-decision": "accept", f"lp{low.id}-note": ""})
    assert "请填写认定理由" in response.get_data(as_text=True)
    assert row_counts(AuditEntry) == before and low.low_price_decision is LowPriceDecision.PENDING
    response = client.post(url, data={f"lp{low.id}-decision": "accept",
                                      f"lp{low.id}-note": "成本构成说明合理"})
    assert response.status_code == 302
    assert low.low_price_decision is LowPriceDecision.ACCEPTED
    assert _db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "bid.low_price")).one()


def test_the_next_steps_panel_tells_the_judge_what_to_do(client, live, login):
    tender = live.evaluating()
    login(live.experts[1])
    html = client.get(f"/judging/tenders/{tender.id}").get_data(as_text=True)
    assert "请对 4 家投标人作出回避声明" in html
    live.declare_all(tender)
    html = client.get(f"/judging/tenders/{tender.id}").get_data(as_text=True)
    assert "还有 4 份评分表待提交" in html


def test_declarations_open_at_the_opening_before_scoring_starts(client, live, login):
    tender = live.opened()
    live.committee(tender)
    assert tender.state is TenderState.OPENED
    bid = tender.submitted_bids[0]
    login(live.experts[1])
    html = client.get(f"/judging/tenders/{tender.id}").get_data(as_text=True)
    assert "评标开始后计算" in html  # no price score before the first round
    assert f'name="d{bid.id}-has_tie"' in html
    response = client.post(f"/judging/tenders/{tender.id}/bids/{bid.id}/declare",
                           data={f"d{bid.id}-has_tie": "no"})
    assert response.status_code == 302
    assert evaluation.conflicted(_member(tender, live.experts[1]), bid.id) is False
    # Nothing to score yet.
    response = client.get(_sheet_url(tender, bid))
    assert response.status_code == 302
    assert "评标尚未开始" in client.get(response.headers["Location"]).get_data(as_text=True)
