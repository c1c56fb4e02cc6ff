"""Home-page to-dos of tendering, for the tender officer, the agencies and the judges: each
appears when there is something to do, goes when it is done, and only for the user's own
organisation or committee seat."""
from datetime import timedelta

import pytest
from flask import current_app, url_for

from procurement.core import clock
from procurement.tenders import award, bidding, evaluation, rules, services
from procurement.tenders.states import TenderMethod
from procurement.tenders.todos import agency_todos, judge_todos, officer_todos
from tenders.tender_builder import TenderBuilder

LOW = (40_000_000, 64_000_000, 70_000_000, 75_000_000)  # the first is abnormally low


@pytest.fixture
def todos(app):
    """todos(provider, user, at) -> the provider's to-dos with the business clock at `at`."""
    def call(provider, user, at):
        with app.test_request_context(), clock.frozen(at):
            return provider(user)

    return call


def titled(items, text):
    return [t for t in items if text in t.title]


def url(endpoint, **values):
    with current_app.test_request_context():
        return url_for(endpoint, **values)


# --- the tender officer -------------------------------------------------------------------


def test_officer_is_asked_to_publish_drafts_of_their_own_office_only(builder, factory, todos):
    mine = builder.draft()
    other = TenderBuilder(factory)
    theirs = other.draft()
    items = todos(officer_todos, builder.officer, builder.start)
    [draft] = titled(items, "草稿待发布")
    assert mine.number in draft.title and draft.url == url("tenders.show", tender_id=mine.id)
    assert "邀请名单" in draft.detail
    assert not [t for t in items if theirs.number in t.title]
    assert [t.title for t in todos(officer_todos, other.officer, builder.start)] == [
        f"草稿待发布：{theirs.number} {theirs.title}"]


def test_tender_past_its_opening_time_is_urgent_for_the_officer(builder, todos):
    tender = builder.with_bids()
    assert not titled(todos(officer_todos, builder.officer, tender.opening_time - timedelta(
        minutes=1)), "待开标")
    [item] = titled(todos(officer_todos, builder.officer, tender.opening_time), "待开标")
    assert item.urgent and "共收到 4 份投标" in item.detail
    assert item.due == rules.local_date(tender.opening_time)
    with clock.frozen(tender.opening_time):
        bidding.open_tender(builder.officer, tender)
    assert not titled(todos(officer_todos, builder.officer, tender.opening_time), "待开标")


def test_too_few_bids_tell_the_officer_the_tender_can_only_fail(builder, todos):
    tender = builder.with_bids(prices=(60_000_000, 64_000_000))
    [item] = titled(todos(officer_todos, builder.officer, tender.opening_time), "待开标")
    assert "不足 3 家（现 2 家）" in item.detail and "废标" in item.detail
    with clock.frozen(tender.opening_time):
        services.fail(builder.officer, tender, "投标人不足三家。")
    assert todos(officer_todos, builder.officer, tender.opening_time) == []


def test_opened_tender_asks_for_qualification_then_committee_then_start(builder, todos):
    tender = builder.opened()
    at = builder.after_deadline(tender, hours=1)

    def step():
        return [t.title.split("：")[0] for t in todos(officer_todos, builder.officer, at)]

    assert step() == ["待资格审查"]
    for bid in tender.submitted_bids:
        bidding.review_qualification(builder.officer, bid, valid=True)
    assert step() == ["待组建评标委员会"]
    builder.committee(tender)
    assert step() == ["待开始评标"]
    with clock.frozen(at):
        evaluation.start_evaluation(builder.officer, tender)
    assert step() == []


def test_report_awaiting_a_pick_is_due_in_five_working_days(builder, todos):
    tender = builder.reported()
    due = rules.working_deadline(rules.local_date(tender.report_at), 5)
    [item] = titled(todos(officer_todos, builder.officer, builder.after_deadline(tender, 6)),
                    "待确定中标人")
    assert item.due == due and not item.urgent
    [late] = titled(todos(officer_todos, builder.officer,
                          builder.after_deadline(tender) + timedelta(days=10)), "待确定中标人")
    assert late.urgent
    with clock.frozen(builder.after_deadline(tender, 24)):
        award.award(builder.officer, tender, evaluation.final_ranking(tender)[0].bid)
    assert todos(officer_todos, builder.officer, builder.after_deadline(tender, 25)) == []


def test_open_challenge_is_urgent_for_its_office_until_answered(builder, factory, todos):
    tender = builder.awarded()
    loser = evaluation.final_ranking(tender)[1].bid
    at = builder.after_deadline(tender, 48)
    with clock.frozen(at):
        challenge = award.file_challenge(builder.agency_users[1], tender, loser, "评分有误。")
    [item] = titled(todos(officer_todos, builder.officer, at), "质疑待答复")
    assert item.urgent and item.due == award.answer_due(challenge)
    assert loser.agency.name in item.title and tender.number in item.title
    assert todos(officer_todos, TenderBuilder(factory).officer, at) == []
    with clock.frozen(at):
        award.answer_challenge(builder.officer, challenge, answer="经复核评分无误。",
                               may_change_result=False)
    assert todos(officer_todos, builder.officer, at) == []


# --- agencies -----------------------------------------------------------------------------


def test_invited_agency_is_asked_to_bid_until_it_does(builder, todos):
    tender = builder.published(invite=3)
    at = builder.at(days=5)
    [item] = todos(agency_todos, builder.agency_users[0], at)
    assert item.title == f"可投标：{tender.number} {tender.title}"
    assert item.url == url("bidding.show", tender_id=tender.id)
    assert item.due == rules.local_date(tender.bid_deadline) and not item.urgent
    assert todos(agency_todos, builder.agency_users[4], at) == []  # not invited
    bid = builder.bid(tender, 0, 60_000_000, days=5)
    assert todos(agency_todos, builder.agency_users[0], at) == []
    with clock.frozen(at):
        bidding.withdraw_bid(builder.agency_users[0], bid)
    [again] = todos(agency_todos, builder.agency_users[0], at)
    assert "撤回" in again.detail
    assert todos(agency_todos, builder.agency_users[0], tender.bid_deadline) == []


def test_open_tender_is_offered_to_every_agency_and_urgent_near_the_deadline(builder, todos):
    tender = builder.published(method=TenderMethod.OPEN)
    [item] = todos(agency_todos, builder.agency_users[5], builder.at(days=5))
    assert tender.number in item.title and not item.urgent
    [near] = todos(agency_todos, builder.agency_users[5], tender.bid_deadline - timedelta(days=2))
    assert near.urgent


def test_low_price_explanation_is_asked_of_that_agency_only(builder, todos):
    tender = builder.evaluating(prices=LOW)
    at = builder.after_deadline(tender, hours=2)
    [item] = titled(todos(agency_todos, builder.agency_users[0], at), "低价书面说明")
    assert item.urgent and item.url == url("bidding.show", tender_id=tender.id)
    assert not titled(todos(agency_todos, builder.agency_users[1], at), "低价")
    low = tender.valid_bids[0]
    with clock.frozen(at):
        bidding.explain_low_price(builder.agency_users[0], low, "人员成本较低，报价合理。")
    assert not titled(todos(agency_todos, builder.agency_users[0], at), "低价")


def test_result_tells_each_bidder_its_own_outcome_during_the_challenge_window(builder, todos):
    tender = builder.awarded()
    at = builder.after_deadline(tender, 48)
    ranking = evaluation.final_ranking(tender)
    winner, second = ranking[0].bid, ranking[1].bid
    users = {a.id: u for a, u in zip(builder.agencies, builder.agency_users)}
    [won] = todos(agency_todos, users[winner.agency_id], at)
    assert won.title.startswith("中标：") and won.due == tender.challenge_until
    [lost] = todos(agency_todos, users[second.agency_id], at)
    assert lost.title.startswith("结果已公布：")
    assert f"排名第 2 / {len(ranking)}" in lost.detail and winner.agency.name in lost.detail
    assert str(ranking[1].final_score) in lost.detail
    assert str(ranking[0].final_score) not in lost.detail  # not the others' scores
    assert todos(agency_todos, builder.agency_users[5], at) == []  # did not bid
    after = clock_after(tender.challenge_until)
    assert todos(agency_todos, users[second.agency_id], after) == []


def clock_after(day):
    from datetime import datetime, time

    from procurement.core.calendar import SHANGHAI
    return datetime.combine(day + timedelta(days=1), time(9), SHANGHAI)


def test_failed_tender_tells_its_bidders_why(builder, todos):
    tender = builder.with_bids(prices=(60_000_000, 64_000_000))
    with clock.frozen(tender.opening_time):
        services.fail(builder.officer, tender, "投标人不足三家，依法废标。")
    for user in builder.agency_users[:2]:
        [item] = todos(agency_todos, user, tender.opening_time)
        assert item.title.startswith("项目废标") and "投标人不足三家，依法废标。" in item.detail
    assert todos(agency_todos, builder.agency_users[2], tender.opening_time) == []


# --- judges -------------------------------------------------------------------------------


def test_committee_members_owe_declarations_once_the_bids_are_opened(builder, todos):
    tender = builder.with_bids()
    builder.committee(tender)
    before = tender.opening_time - timedelta(hours=1)
    assert todos(judge_todos, builder.rep, before) == []
    with clock.frozen(tender.opening_time):
        bidding.open_tender(builder.officer, tender)
    at = builder.after_deadline(tender, hours=1)
    [item] = todos(judge_todos, builder.rep, at)
    assert item.title.startswith("待作出回避声明") and "4 家投标人" in item.detail
    assert item.url == url("judging.show", tender_id=tender.id)
    assert item.due == rules.working_deadline(rules.local_date(tender.opened_at), 2)
    assert todos(judge_todos, builder.experts[5], at) == []  # not on this committee
    member = evaluation.member_of(tender, builder.rep)
    with clock.frozen(at):
        for bid in tender.submitted_bids[:3]:
            evaluation.declare(builder.rep, member, bid, has_tie=False)
    [item] = todos(judge_todos, builder.rep, at)
    assert "1 家投标人" in item.detail
    with clock.frozen(at):
        evaluation.declare(builder.rep, member, tender.submitted_bids[3], has_tie=False)
    assert todos(judge_todos, builder.rep, at) == []


def test_judge_owes_sheets_of_the_current_round_and_the_chair_then_closes_it(builder, todos):
    tender = builder.evaluating()
    builder.declare_all(tender, ties=[(builder.experts[1], tender.valid_bids[3])])
    at = builder.after_deadline(tender, hours=3)
    chair = builder.chair(tender).judge
    [rep] = todos(judge_todos, builder.rep, at)
    assert rep.title.startswith("第1轮待评分") and "4 份评分表" in rep.detail
    [tied] = todos(judge_todos, builder.experts[1], at)
    assert "3 份评分表" in tied.detail  # recused from one bid
    assert not titled(todos(judge_todos, chair, at), "可以结束")
    builder.score_round(tender, evaluation.current_round(tender))
    assert todos(judge_todos, builder.rep, at) == []
    [close] = todos(judge_todos, chair, at)
    assert close.title.startswith("第1轮可以结束")
    assert close.url == url("judging.chair", tender_id=tender.id)


def test_chair_decides_an_explained_low_price_before_closing(builder, todos):
    tender = builder.evaluating(prices=LOW)
    at = builder.after_deadline(tender, hours=3)
    chair = builder.chair(tender).judge
    builder.score_round(tender, evaluation.current_round(tender))
    assert todos(judge_todos, chair, at) == []  # no explanation yet, cannot close
    with clock.frozen(at):
        bidding.explain_low_price(builder.agency_users[0], tender.valid_bids[0], "成本较低。")
    [decide] = todos(judge_todos, chair, at)
    assert decide.title.startswith("待认定低价说明")
    assert builder.agencies[0].name in decide.detail
    assert todos(judge_todos, builder.rep, at) == []  # the chair's business


def test_chair_is_asked_for_the_report_once_scoring_is_final(builder, todos):
    tender = builder.ranked()
    at = builder.after_deadline(tender, hours=4)
    chair = builder.chair(tender).judge
    [report] = todos(judge_todos, chair, at)
    assert report.title.startswith("待提交评标报告")
    assert report.url == url("judging.chair", tender_id=tender.id)
    assert todos(judge_todos, builder.rep, at) == []
    member = builder.chair(tender)
    with clock.frozen(at):
        award.submit_report(chair, tender, member, "推荐排序如下。")
    assert todos(judge_todos, chair, at) == []


def test_replaced_judge_has_nothing_left_and_the_newcomer_takes_over(builder, todos):
    tender = builder.evaluating()
    at = builder.after_deadline(tender, hours=2)
    member = next(m for m in evaluation.members(tender) if m.judge == builder.experts[2])
    with clock.frozen(at):
        evaluation.replace_member(builder.officer, member, new_judge=builder.experts[5],
                                  reason="身体不适")
    assert todos(judge_todos, builder.experts[2], at) == []
    assert titled(todos(judge_todos, builder.experts[5], at), "待作出回避声明")


def test_providers_ignore_users_of_the_wrong_kind_of_organisation(factory, todos, builder):
    builder.published(method=TenderMethod.OPEN)
    from procurement.accounts.roles import Role
    office_judge = factory.user(Role.JUDGE, org=builder.office)
    assert todos(judge_todos, office_judge, builder.at(days=1)) == []
    assert todos(agency_todos, builder.officer, builder.at(days=1)) == []
    assert todos(officer_todos, builder.agency_users[0], builder.at(days=1)) == []


def test_home_page_lists_the_officers_tender_todos(builder, client, login):
    tender = builder.draft()
    login(builder.officer)
    html = client.get("/").get_data(as_text=True)
    assert f"草稿待发布：{tender.number}" in html
    assert f'href="/tenders/{tender.id}"' in html
