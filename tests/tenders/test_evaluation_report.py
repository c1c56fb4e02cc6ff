"""The evaluation report (评标报告) PDF: tender facts, committee, every judge's scores per
criterion per round, price scores, ranking and decision, as Chinese text that extracts."""
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from procurement.core import clock
from procurement.documents.pdf import render_pdf
from procurement.extensions import db
from procurement.tenders import award, evaluation, services
from procurement.tenders.report import report_context
from procurement.tenders.states import CorrectionReason, CriterionKind, TenderState

PRICES = (60_000_000, 64_000_000, 70_000_000, 75_000_000, 78_000_000)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def report_pdf(tender) -> str:
    return pdf_text(render_pdf("pdf/evaluation_report.html", **report_context(tender)))


def two_round_award(builder):
    """Five bids, a judge tied to one bidder, a correction, round 1 shortlists three,
    round 2 is final, the first is awarded."""
    tender = builder.evaluating(prices=PRICES)
    tied_judge, tied_bid = builder.experts[3], tender.valid_bids[4]
    builder.declare_all(tender, ties=[(tied_judge, tied_bid)])
    first = evaluation.current_round(tender)
    builder.score_round(tender, first)
    team = next(c for c in tender.criteria if c.name == "团队配置")
    sheet = next(s for s in first.sheets if s.member.judge == builder.rep
                 and s.bid_id == tender.valid_bids[0].id)
    chair = builder.chair(tender)
    with clock.frozen(builder.after_deadline(tender, hours=3.5)):
        evaluation.correct_score(builder.rep, sheet, team.id, Decimal("16.50"),
                                 reason=CorrectionReason.OBJECTIVE_INCONSISTENT,
                                 note="与其他评委核对资格证书数量后更正")
    with clock.frozen(builder.after_deadline(tender, hours=4)):
        evaluation.close_round(chair.judge, first, shortlist=3)
    second = evaluation.current_round(tender)
    builder.score_round(tender, second)
    with clock.frozen(builder.after_deadline(tender, hours=26)):
        evaluation.close_round(chair.judge, second)
    with clock.frozen(builder.after_deadline(tender, hours=27)):
        award.submit_report(chair.judge, tender, chair, "评标委员会经两轮评审，推荐排序如下。")
    winner = evaluation.final_ranking(tender)[0].bid
    with clock.frozen(builder.after_deadline(tender, hours=48)):
        award.award(builder.officer, tender, winner)
    db.session.flush()
    return tender, tied_judge, tied_bid


@pytest.fixture
def awarded(builder):
    return two_round_award(builder)


def test_report_of_an_awarded_tender_has_the_headings_facts_and_decision(builder, awarded):
    tender, _, _ = awarded
    text = report_pdf(tender)
    for heading in ("评标报告", "项目基本情况", "开标记录及资格审查", "评标委员会", "回避声明",
                    "评分因素", "评分情况", "第1轮评分", "第2轮评分",
                    "评审结果（推荐中标候选人排序）", "评标委员会评审意见", "定标结果",
                    "评标委员会成员签字"):
        assert heading in text, heading
    assert tender.number in text and "邀请招标" in text
    assert "¥800,000.00" in text and "人民币捌拾万元整" in text
    assert builder.community.name in text
    assert "评标委员会经两轮评审" in text
    winner = tender.awarded_bid.agency.name
    assert f"中标人{winner}（评审排名第1名）" in text
    assert tender.challenge_until.strftime("%Y-%m-%d") in text


def test_report_names_every_bidder_and_every_judge_with_their_role(builder, awarded):
    tender, _, _ = awarded
    text = report_pdf(tender)
    for bid in tender.submitted_bids:
        assert bid.agency.name in text
    assert f"{builder.rep.name}采购人代表" in text
    for expert in builder.experts[:4]:
        assert expert.name in text
    assert f"{builder.experts[0].name}评审专家（组长）" in text
    assert builder.experts[5].name not in text  # not on the committee


def test_report_shows_each_judges_scores_and_the_computed_price_score(builder, awarded):
    tender, _, _ = awarded
    context = report_context(tender)
    text = report_pdf(tender)
    # The lowest valid bid is the base: full price marks; the others by the formula.
    first_round = context["rounds"][0]
    by_agency = {b.agency: b for b in first_round.bids}
    cheapest = tender.valid_bids[0]
    second = tender.valid_bids[1]
    assert by_agency[cheapest.agency.name].price_score == Decimal("100.00")
    assert by_agency[second.agency.name].price_score == Decimal("93.75")  # 60 / 64 × 100
    assert "价格分93.75" in text
    # The builder's default scores: 90 % of max minus the opening order, for each judge.
    rows = {r.judge: r for r in by_agency[second.agency.name].rows}
    assert rows[builder.experts[1].name].scores == [Decimal("34.00"), Decimal("16.00"),
                                                    Decimal("7.00")]
    # Sheet total = Σ score / max × 100 × weight = 34 + 16 + 7 + 93.75 × 0.3 = 85.13
    assert rows[builder.experts[1].name].total == Decimal("85.13")
    assert "85.13" in text


def test_report_records_the_tie_the_recusal_and_the_correction(builder, awarded):
    tender, tied_judge, tied_bid = awarded
    context = report_context(tender)
    text = report_pdf(tender)
    assert f"{tied_judge.name}{tied_bid.agency.name}曾在该机构任职" in text
    block = next(b for b in context["rounds"][0].bids if b.agency == tied_bid.agency.name)
    row = next(r for r in block.rows if r.judge == tied_judge.name)
    assert row.status == "conflicted" and row.total is None
    assert "回避" in text
    correction = context["rounds"][0].corrections[0]
    assert (correction.old_value, correction.new_value) == (Decimal("17.00"), Decimal("16.50"))
    assert "17.00→16.50" in text and "客观评审因素评分不一致" in text
    assert "与其他评委核对资格证书数量后更正" in text


def test_report_ranks_round_by_round_and_the_final_ranking_follows_the_scores(builder, awarded):
    tender, _, _ = awarded
    context = report_context(tender)
    first, second = context["rounds"]
    assert first.shortlist == 3 and len(first.ranking) == 5
    assert [b.agency for b in second.bids] == [b.agency for b in first.ranking[:3]]
    final = context["final_ranking"]
    assert [b.rank for b in final] == [1, 2, 3]
    assert [b.final_score for b in final] == sorted((b.final_score for b in final), reverse=True)
    assert final[0].agency == tender.awarded_bid.agency.name
    text = report_pdf(tender)
    assert "本轮排名前3名进入下一轮" in text
    ranking = text[text.index("评审结果（推荐中标候选人排序）"):text.index("评标委员会评审意见")]
    positions = [ranking.index(b.agency) for b in final]
    assert positions == sorted(positions)


def test_report_of_a_failed_tender_gives_the_reason_and_no_sealed_price(builder):
    tender = builder.with_bids(prices=(60_000_000, 64_000_000))
    with clock.frozen(builder.after_deadline(tender, hours=1)):
        services.fail(builder.officer, tender, "投标截止时投标人不足三家，依法废标。")
    db.session.flush()
    assert tender.state is TenderState.FAILED
    text = report_pdf(tender)
    assert "废标" in text and "投标截止时投标人不足三家，依法废标。" in text
    assert "本项目未开标" in text
    # Never opened: the bids stay sealed, even in the report.
    assert "¥600,000.00" not in text and "¥640,000.00" not in text
    assert "评分情况" in text and "尚未开始评分" in text


def test_report_of_a_pending_result_gives_the_pick_deadline(builder):
    tender = builder.reported()
    text = report_pdf(tender)
    due = services.schedule(tender)["pick_due"]
    assert f"待采购人在{due:%Y-%m-%d}前按排序确定中标人" in text


def test_report_context_takes_a_fixed_handful_of_queries(builder, awarded):
    tender, _, _ = awarded
    statements = []

    def count(*args):
        statements.append(args[2])

    engine = db.session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        db.session.expire_all()
        context = report_context(tender)
        render_pdf("pdf/evaluation_report.html", **context)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(context["rounds"]) == 2
    # The tender and its 4 lists, bids, committee + declarations + judges' roles, rounds +
    # entries + sheets + scores, corrections: no query per bid, per judge or per sheet
    # (2 rounds × 5 bids × 5 judges here).
    assert len(statements) <= 16, "\n".join(s[:150].replace("\n", " ") for s in statements)


def test_price_criterion_is_not_a_judges_column(builder, awarded):
    tender, _, _ = awarded
    context = report_context(tender)
    price = next(c for c in tender.criteria if c.kind is CriterionKind.PRICE)
    assert price.name not in context["scored_criteria"]
    assert context["price_weight"] == "30%"


def test_report_lists_a_replaced_judge_and_why(builder):
    tender = builder.evaluating()
    member = next(m for m in evaluation.members(tender) if m.judge == builder.experts[2])
    with clock.frozen(builder.after_deadline(tender, hours=1.5)):
        evaluation.replace_member(builder.officer, member, new_judge=builder.experts[5],
                                  reason="突发疾病无法继续评审")
    text = report_pdf(tender)
    assert "更换的成员" in text and "突发疾病无法继续评审" in text
    assert builder.experts[5].name in text


def test_opening_time_in_the_future_keeps_prices_out_of_the_report(builder):
    tender = builder.with_bids()
    with clock.frozen(tender.opening_time - timedelta(hours=1)):
        context = report_context(tender)
    assert context["opening"]["opened"] is False
    assert all(row.price is None for row in context["opening"]["rows"])
