"""The tender officer's actions through the tender page: each rule the service enforces is
refused with its message and leaves nothing written; the happy path moves the tender on.
Tenders are built relative to the real now (see test_officer_pages.py)."""
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from conftest import row_counts
from procurement.audit.models import AuditEntry
from procurement.core import clock
from procurement.extensions import db as _db
from procurement.tenders import award, evaluation, rules
from procurement.tenders.evaluation_models import CommitteeMember
from procurement.tenders.models import (Bid, Challenge, Clarification, Invitation, PoolDraw,
                                        Tender, TenderDocument)
from procurement.tenders.states import (ChallengeState, MemberState, TenderMethod,
                                        TenderState)
from tender_builder import PDF


def _counts():
    return row_counts(Tender, Invitation, PoolDraw, Clarification, TenderDocument, Bid,
                      CommitteeMember, Challenge, AuditEntry)


def _reload(obj):
    _db.session.refresh(obj)
    return obj


# --- before publishing ------------------------------------------------------------------


def test_invite_and_uninvite_through_the_page(sign_in, live):
    tender = live.draft(invite=0)
    client = sign_in(live.officer)
    response = client.post(f"/tenders/{tender.id}/invitations",
                           data={"invite-agencies": [a.id for a in live.agencies[:3]]})
    assert response.status_code == 302
    assert sorted(i.agency_id for i in _reload(tender).invitations) == sorted(
        a.id for a in live.agencies[:3])
    invitation = tender.invitations[0]
    response = client.post(f"/tenders/{tender.id}/invitations/{invitation.id}/delete",
                           follow_redirects=True)
    assert "移出邀请名单" in response.get_data(as_text=True)
    assert len(_reload(tender).invitations) == 2


def test_draw_records_pool_witnesses_and_seed(sign_in, live):
    tender = live.draft(invite=0)
    client = sign_in(live.officer)
    response = client.post(f"/tenders/{tender.id}/draw", data={
        "draw-pool": [a.id for a in live.agencies], "draw-count": "3",
        "draw-witnesses": [w.id for w in live.witnesses]})
    assert response.status_code == 302
    draw = _db.session.scalar(sa.select(PoolDraw).where(PoolDraw.tender_id == tender.id))
    assert len(draw.drawn) == 3 and sorted(draw.pool) == sorted(a.id for a in live.agencies)
    assert all(i.drawn for i in _reload(tender).invitations) and len(tender.invitations) == 3
    html = client.get(f"/tenders/{tender.id}").get_data(as_text=True)
    assert "抽取记录" in html and draw.seed in html
    assert all(w.name in html for w in live.witnesses)


@pytest.mark.parametrize("pool, count, witnesses, message", [
    (5, "3", 2, "应不少于抽取数量的两倍"),
    (6, "3", 1, "至少两名采购人工作人员在场监督"),
    (6, "0", 2, "应为 1 到 50"),
])
def test_an_unlawful_draw_is_refused_and_nothing_is_written(sign_in, live, pool, count,
                                                            witnesses, message):
    tender = live.draft(invite=0)
    client = sign_in(live.officer)
    before = _counts()
    response = client.post(f"/tenders/{tender.id}/draw", data={
        "draw-pool": [a.id for a in live.agencies[:pool]], "draw-count": count,
        "draw-witnesses": [w.id for w in live.witnesses[:witnesses]]})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _counts() == before


def test_the_officer_cannot_witness_their_own_draw(sign_in, live):
    tender = live.draft(invite=0)
    client = sign_in(live.officer)
    before = _counts()
    response = client.post(f"/tenders/{tender.id}/draw", data={
        "draw-pool": [a.id for a in live.agencies], "draw-count": "3",
        "draw-witnesses": [live.witnesses[0].id, live.officer.id]})
    assert "选项无效" in response.get_data(as_text=True)  # not even offered
    assert _counts() == before


def test_upload_refuses_a_file_of_the_wrong_type(sign_in, live):
    tender = live.draft()
    client = sign_in(live.officer)
    before = _counts()
    response = client.post(f"/tenders/{tender.id}/documents",
                           data={"document-files": (io.BytesIO(b"MZ\x90\x00"), "setup.exe")})
    assert response.status_code == 200
    assert "文件类型不允许" in response.get_data(as_text=True)
    assert _counts() == before


@pytest.mark.parametrize("days_until_documents, days_until_deadline, message", [
    (1, 22, "不得少于 5 个工作日"),
    (14, 15, "不得少于 20 日"),
])
def test_publish_is_refused_when_deadlines_are_too_short(
        sign_in, live, days_until_documents, days_until_deadline, message):
    tender = live.draft(documents_until=(live.start + timedelta(days=days_until_documents)).date(),
                        bid_deadline=live.at(days=days_until_deadline))
    client = sign_in(live.officer)
    before = _counts()
    response = client.post(f"/tenders/{tender.id}/publish", follow_redirects=True)
    assert message in response.get_data(as_text=True)
    assert _reload(tender).state is TenderState.DRAFT and tender.published_at is None
    assert all(i.sent_at is None for i in tender.invitations)
    assert _counts() == before


def test_publish_is_refused_with_fewer_than_three_invitees(sign_in, live):
    tender = live.draft(invite=2)
    client = sign_in(live.officer)
    before = _counts()
    response = client.post(f"/tenders/{tender.id}/publish", follow_redirects=True)
    assert "不少于 3 家机构" in response.get_data(as_text=True)
    assert _reload(tender).state is TenderState.DRAFT and _counts() == before


def test_publish_sends_every_invitation_at_once(sign_in, live):
    tender = live.draft()
    client = sign_in(live.officer)
    response = client.post(f"/tenders/{tender.id}/publish", follow_redirects=True)
    assert "已发布" in response.get_data(as_text=True)
    tender = _reload(tender)
    assert tender.state is TenderState.PUBLISHED
    assert {i.sent_at for i in tender.invitations} == {tender.published_at}


# --- clarifications -----------------------------------------------------------------------


def test_a_late_clarification_that_affects_bids_moves_the_deadline(sign_in, builder):
    b = builder.started(10)  # published 10 days ago: the day-22 deadline is 12 days away
    tender = b.published()
    old = tender.bid_deadline
    client = sign_in(b.officer)
    response = client.post(f"/tenders/{tender.id}/clarifications", data={
        "clarify-content": "服务内容第三条修改为每月入户走访两次。", "clarify-affects_bids": "y",
        "clarify-files": (io.BytesIO(PDF), "澄清说明.pdf")}, follow_redirects=True)
    html = response.get_data(as_text=True)
    tender = _reload(tender)
    expected = rules.clarified_deadline(clock.today(), old)
    assert expected > old and tender.bid_deadline == expected == tender.opening_time
    assert "已顺延至" in html and "澄清说明.pdf" in html
    assert tender.state is TenderState.CLARIFIED


def test_a_clarification_that_does_not_affect_bids_keeps_the_deadline(sign_in, builder):
    b = builder.started(10)
    tender = b.published()
    old = tender.bid_deadline
    client = sign_in(b.officer)
    response = client.post(f"/tenders/{tender.id}/clarifications",
                           data={"clarify-content": "更正联系电话。"})
    assert response.status_code == 302
    assert _reload(tender).bid_deadline == old


def test_an_empty_clarification_is_refused(sign_in, live):
    tender = live.published()
    client = sign_in(live.officer)
    before = _counts()
    response = client.post(f"/tenders/{tender.id}/clarifications", data={"clarify-content": " "})
    assert "请填写澄清或修改内容" in response.get_data(as_text=True)
    assert _counts() == before


# --- opening and qualification ---------------------------------------------------------------


def test_opening_is_refused_before_the_opening_time(sign_in, live):
    tender = live.with_bids()
    client = sign_in(live.officer)
    before = _counts()
    response = client.post(f"/tenders/{tender.id}/open", follow_redirects=True)
    assert "未到开标时间" in response.get_data(as_text=True)
    tender = _reload(tender)
    assert tender.state is TenderState.PUBLISHED and tender.opened_at is None
    assert _counts() == before


def test_opening_is_refused_with_fewer_than_three_bids_and_the_tender_can_then_fail(sign_in, past):
    tender = past.with_bids(prices=(60_000_000, 64_000_000))
    client = sign_in(past.officer)
    before = _counts()
    response = client.post(f"/tenders/{tender.id}/open", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "不得开标，只能废标" in html
    assert _reload(tender).state is TenderState.PUBLISHED and tender.opened_at is None
    assert _counts() == before
    assert "不足 3 家" in html  # the next-step panel says what to do
    response = client.post(f"/tenders/{tender.id}/fail",
                           data={"fail-reason": "投标人不足 3 家。"}, follow_redirects=True)
    tender = _reload(tender)
    assert tender.state is TenderState.FAILED and tender.end_reason == "投标人不足 3 家。"


def test_opening_reveals_the_bids_and_invalidates_those_over_budget(sign_in, past):
    tender = past.with_bids(prices=(60_000_000, 64_000_000, 70_000_000, 85_000_000))
    client = sign_in(past.officer)
    response = client.post(f"/tenders/{tender.id}/open", follow_redirects=True)
    html = response.get_data(as_text=True)
    tender = _reload(tender)
    assert tender.state is TenderState.OPENED
    over = next(b for b in tender.bids if b.price_fen == 85_000_000)
    assert over.valid is False and "超过采购预算" in html and "¥850,000.00" in html


def test_qualification_needs_a_reason_to_invalidate_and_cannot_pass_an_over_budget_bid(sign_in, past):
    tender = past.opened(prices=(60_000_000, 64_000_000, 70_000_000, 85_000_000))
    client = sign_in(past.officer)
    bid = next(b for b in tender.bids if b.price_fen == 60_000_000)
    over = next(b for b in tender.bids if b.price_fen == 85_000_000)
    before = _counts()
    response = client.post(f"/tenders/{tender.id}/bids/{bid.id}/qualify",
                           data={f"bid-{bid.id}-valid": "0", f"bid-{bid.id}-reason": ""})
    assert "认定无效投标须写明原因" in response.get_data(as_text=True)
    response = client.post(f"/tenders/{tender.id}/bids/{over.id}/qualify",
                           data={f"bid-{over.id}-valid": "1"}, follow_redirects=True)
    assert "超过采购预算" in response.get_data(as_text=True)
    assert _reload(bid).valid is None and _reload(over).valid is False and _counts() == before
    response = client.post(f"/tenders/{tender.id}/bids/{bid.id}/qualify",
                           data={f"bid-{bid.id}-valid": "0",
                                 f"bid-{bid.id}-reason": "未提供有效的社会组织登记证书"})
    assert response.status_code == 302
    assert _reload(bid).valid is False and bid.invalid_reason == "未提供有效的社会组织登记证书"


# --- the committee and the evaluation ---------------------------------------------------------


def _committee(judges, chair):
    return {"committee-judges": [j.id for j in judges], "committee-chair": chair.id}


@pytest.mark.parametrize("reps, experts, chair_is_rep, message", [
    (1, 5, False, "成员人数应为单数"),
    (1, 2, False, "评标委员会至少需要 5 人"),
    (1, 4, True, "采购人代表不得担任评标委员会组长"),
    (2, 3, False, "评审专家不得少于成员总数的三分之二"),
])
def test_an_unlawful_committee_is_refused_and_nothing_is_written(sign_in, past, factory, reps,
                                                                  experts, chair_is_rep, message):
    from procurement.accounts.roles import Role
    tender = past.opened()
    representatives = [past.rep] + [factory.user(Role.JUDGE, org=past.office)
                                    for _ in range(reps - 1)]
    client = sign_in(past.officer)
    before = _counts()
    response = client.post(f"/tenders/{tender.id}/committee", data=_committee(
        [*representatives, *past.experts[:experts]], past.rep if chair_is_rep else past.experts[0]))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _counts() == before


def test_a_committee_without_a_chair_is_refused(sign_in, past):
    tender = past.opened()
    client = sign_in(past.officer)
    before = _counts()
    response = client.post(f"/tenders/{tender.id}/committee",
                           data={"committee-judges": [past.rep.id, *(e.id for e in past.experts[:4])],
                                 "committee-chair": "0"})
    assert "请指定评标委员会组长" in response.get_data(as_text=True) and _counts() == before


def test_committee_qualification_and_start_of_evaluation(sign_in, past):
    tender = past.opened()
    client = sign_in(past.officer)
    page = client.get(f"/tenders/{tender.id}").get_data(as_text=True)
    assert "采购人代表" in page and "评审专家" in page  # each judge is labelled
    response = client.post(f"/tenders/{tender.id}/committee", data=_committee(
        [past.rep, *past.experts[:4]], past.experts[0]))
    assert response.status_code == 302
    seats = evaluation.members(tender)
    assert len(seats) == 5 and next(m for m in seats if m.is_chair).judge_id == past.experts[0].id
    response = client.post(f"/tenders/{tender.id}/evaluation", follow_redirects=True)
    assert "还有投标未完成资格审查" in response.get_data(as_text=True)
    assert _reload(tender).state is TenderState.OPENED
    for bid in tender.submitted_bids:
        client.post(f"/tenders/{tender.id}/bids/{bid.id}/qualify", data={f"bid-{bid.id}-valid": "1"})
    response = client.post(f"/tenders/{tender.id}/evaluation", follow_redirects=True)
    assert "评标开始" in response.get_data(as_text=True)
    assert _reload(tender).state is TenderState.EVALUATING
    assert evaluation.current_round(tender).number == 1


def test_replacing_a_judge_voids_their_scores(sign_in, past):
    tender = past.evaluating()
    round_ = evaluation.current_round(tender)
    past.declare_all(tender)
    leaving = next(m for m in evaluation.members(tender) if not m.is_chair and m.is_expert)
    bid = tender.valid_bids[0]
    values = {c.id: c.max_score / 2 for c in tender.criteria if c.kind.value != "price"}
    with clock.frozen(past.after_deadline(tender, hours=3)):
        sheet = evaluation.save_sheet(leaving.judge, leaving, round_, bid, values, submit=True)
    client = sign_in(past.officer)
    response = client.post(f"/tenders/{tender.id}/committee/replace", data={
        "replace-member": leaving.id, "replace-judge": past.experts[5].id,
        "replace-reason": "突发疾病不能继续评审"})
    assert response.status_code == 302
    assert _reload(leaving).state is MemberState.REPLACED
    assert _reload(sheet).state.value == "void"
    assert any(m.judge_id == past.experts[5].id for m in evaluation.members(tender))


# --- the result ---------------------------------------------------------------------------------


def test_award_in_ranked_order(sign_in, past):
    tender = past.reported()
    ranking = evaluation.final_ranking(tender)
    first, second = ranking[0].bid, ranking[1].bid
    client = sign_in(past.officer)
    before = _counts()
    response = client.post(f"/tenders/{tender.id}/award", data={"award-bid": second.id})
    assert "须按排序确定中标人" in response.get_data(as_text=True)
    assert _reload(tender).state is TenderState.RESULT_PENDING and _counts() == before
    response = client.post(f"/tenders/{tender.id}/award", data={"award-bid": first.id},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    tender = _reload(tender)
    assert tender.state is TenderState.AWARDED and tender.awarded_bid_id == first.id
    assert "中标公告" in html and first.agency.name in html and "可以签订" in html


def test_answering_a_challenge_that_may_change_the_result_blocks_signing(sign_in, past):
    tender = past.awarded()
    loser = next(b for b in tender.submitted_bids if b.id != tender.awarded_bid_id)
    with clock.frozen(past.after_deadline(tender, hours=30)):
        challenge = award.file_challenge(past.agency_users[past.agencies.index(loser.agency)],
                                         tender, loser, "评分存在计算错误。")
    client = sign_in(past.officer)
    html = client.get(f"/tenders/{tender.id}").get_data(as_text=True)
    assert "质疑待答复" in html and "评分存在计算错误" in html
    before = _counts()
    response = client.post(f"/tenders/{tender.id}/challenges/{challenge.id}/answer",
                           data={f"challenge-{challenge.id}-answer": ""})
    assert "请填写答复内容" in response.get_data(as_text=True) and _counts() == before
    response = client.post(f"/tenders/{tender.id}/challenges/{challenge.id}/answer", data={
        f"challenge-{challenge.id}-answer": "经复核，评分汇总有误，将依法处理。",
        f"challenge-{challenge.id}-may_change_result": "y"}, follow_redirects=True)
    assert _reload(challenge).state is ChallengeState.ANSWERED and challenge.may_change_result
    assert "须依法处理后方可签订合同" in response.get_data(as_text=True)


def test_cancel_needs_a_reason(sign_in, live):
    tender = live.draft()
    client = sign_in(live.officer)
    before = _counts()
    response = client.post(f"/tenders/{tender.id}/cancel", data={"cancel-reason": ""})
    assert "请填写原因" in response.get_data(as_text=True)
    assert _reload(tender).state is TenderState.DRAFT and _counts() == before
    client.post(f"/tenders/{tender.id}/cancel", data={"cancel-reason": "需求调整"})
    assert _reload(tender).state is TenderState.CANCELLED


def test_failing_before_the_deadline_is_refused(sign_in, live):
    tender = live.published(method=TenderMethod.OPEN)
    client = sign_in(live.officer)
    before = _counts()
    response = client.post(f"/tenders/{tender.id}/fail", data={"fail-reason": "不想招了"},
                           follow_redirects=True)
    assert "投标尚未截止，不能废标" in response.get_data(as_text=True)
    assert _reload(tender).state is TenderState.PUBLISHED and _counts() == before


def test_actions_on_another_office_tender_are_refused(sign_in, past, factory):
    from procurement.accounts.roles import Role
    from procurement.orgs.models import OrgKind
    tender = past.opened()
    stranger = factory.user(Role.TENDER_OFFICER, org=factory.org(OrgKind.STREET_OFFICE))
    client = sign_in(stranger)
    bid = tender.bids[0]
    before = _counts()
    for url, data in ((f"/tenders/{tender.id}/bids/{bid.id}/qualify", {f"bid-{bid.id}-valid": "0",
                                                                       f"bid-{bid.id}-reason": "x"}),
                      (f"/tenders/{tender.id}/committee", {}),
                      (f"/tenders/{tender.id}/fail", {"fail-reason": "x"}),
                      (f"/tenders/{tender.id}/evaluation", {})):
        assert client.post(url, data=data).status_code == 403, url
    assert _counts() == before and _reload(tender).state is TenderState.OPENED
