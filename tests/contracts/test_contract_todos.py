"""Home-page to-dos of the contract side: the contract manager is asked to turn an award into
a cooperation before the 30-day deadline, to collect the missing signatures and to draft the
next year in time; each party's signer is asked to sign what their organisation has not
signed in its current version. Everything is scoped to the user's own organisation."""
from datetime import date, datetime, time, timedelta

import pytest
from flask import current_app, url_for

from procurement.accounts.roles import Role
from procurement.contracts import changes, services
from procurement.contracts.states import BudgetCategory, Grade
from procurement.contracts.todos import manager_todos, party_todos
from procurement.core import clock
from procurement.core.calendar import SHANGHAI
from procurement.orgs.models import OrgKind
from procurement.tenders import award, evaluation
from tenders.tender_builder import TenderBuilder

W, T = BudgetCategory.WAGES, BudgetCategory.TRAINING


@pytest.fixture
def todos(app):
    """todos(provider, user, on) -> the provider's to-dos on day `on` (a date or datetime)
    by the business clock."""
    def call(provider, user, on):
        if not isinstance(on, datetime):
            on = datetime.combine(on, time(12), tzinfo=SHANGHAI)
        with app.test_request_context(), clock.frozen(on):
            return provider(user)

    return call


def titled(items, text):
    return [t for t in items if text in t.title]


def url(endpoint, **values):
    with current_app.test_request_context():
        return url_for(endpoint, **values)


def agreement_todo(items, agreement):
    return [t for t in items if agreement.number in t.title]


# --- the contract manager: from award to cooperation ----------------------------------------


def test_award_without_a_cooperation_asks_its_office_manager_to_sign_within_30_days(
        contracts, factory, todos):
    tender = contracts.awarded()
    due = services.sign_due(tender)
    at = contracts.when(tender, 2)
    [item] = titled(todos(manager_todos, contracts.manager, at), "待签订合同")
    assert tender.number in item.title
    assert item.url == url("contracts.create", tender_id=tender.id)
    assert item.due == due and not item.urgent
    assert tender.awarded_bid.agency.name in item.detail and "30 日" in item.detail
    # Another street office's contract manager has nothing of it.
    other = TenderBuilder(factory)
    assert todos(manager_todos, other.witnesses[0], at) == []
    with clock.frozen(at):
        services.create_cooperation(contracts.manager, tender, university=contracts.university,
                                    start_date=date(2026, 5, 1), end_date=date(2027, 4, 30))
    assert not titled(todos(manager_todos, contracts.manager, at), "待签订合同")


def test_award_is_urgent_a_week_before_the_signing_deadline_and_after_it(contracts, todos):
    tender = contracts.awarded()
    due = services.sign_due(tender)
    [early] = titled(todos(manager_todos, contracts.manager, due - timedelta(days=8)), "待签订合同")
    assert not early.urgent
    [near] = titled(todos(manager_todos, contracts.manager, due - timedelta(days=7)), "待签订合同")
    assert near.urgent
    [late] = titled(todos(manager_todos, contracts.manager, due + timedelta(days=1)), "待签订合同")
    assert late.urgent and "已超过" in late.detail


def test_award_under_a_challenge_that_may_change_it_shows_why_signing_waits(contracts, todos):
    tender = contracts.awarded()
    loser = evaluation.final_ranking(tender)[-1].bid
    at = contracts.when(tender, 1)
    with clock.frozen(at):
        challenge = award.file_challenge(None, tender, loser, "评分有误")
    [item] = titled(todos(manager_todos, contracts.manager, at), "待签订合同")
    assert "暂不能签订合同" in item.detail and "质疑" in item.detail
    with clock.frozen(at):
        award.answer_challenge(None, challenge, answer="不成立", may_change_result=False)
    [item] = titled(todos(manager_todos, contracts.manager, at), "待签订合同")
    assert "暂不能" not in item.detail


def test_manager_collects_the_missing_signatures_until_the_agreement_is_in_force(contracts, todos):
    coop = contracts.cooperation()
    agreement = coop.agreements[0]
    tender = coop.tender
    at = contracts.when(tender, 3)
    [item] = agreement_todo(todos(manager_todos, contracts.manager, at), agreement)
    assert item.title.startswith("年度协议待签署")
    assert item.url == url("contracts.agreement", agreement_id=agreement.id)
    assert item.due == agreement.sign_due and not item.urgent
    for party in agreement.parties:
        assert party.org.name in item.detail
    with clock.frozen(at):
        services.sign_agreement(contracts.leader, agreement, agreement.content_hash)
    [item] = agreement_todo(todos(manager_todos, contracts.manager, at), agreement)
    assert item.title.startswith("年度协议签署中")
    assert contracts.tenders.office.name not in item.detail
    assert coop.agency.name in item.detail and contracts.university.name in item.detail
    [near] = agreement_todo(todos(manager_todos, contracts.manager,
                                  agreement.sign_due - timedelta(days=3)), agreement)
    assert near.urgent
    contracts.sign_all(agreement, sign=lambda user, doc, shown: None if user is contracts.leader
                       else services.sign_agreement(user, doc, shown))
    assert agreement_todo(todos(manager_todos, contracts.manager, at), agreement) == []


def test_manager_of_another_office_sees_none_of_the_signing(contracts, factory, todos):
    coop = contracts.cooperation()
    other = TenderBuilder(factory)
    assert todos(manager_todos, other.witnesses[0], contracts.when(coop.tender, 3)) == []


def test_manager_chases_amendments_and_special_agreements_being_signed(contracts, todos):
    coop = contracts.in_force()
    agreement = coop.agreements[0]
    budget = contracts.budget_of(agreement)
    line = budget[agreement.communities[0].community_id]
    line[W], line[T] = line[W] - 100_000, line[T] + 100_000
    at = contracts.when(coop.tender, 5)
    with clock.frozen(at):
        amendment = changes.propose_amendment(contracts.manager, agreement, reason="培训需求增加",
                                              end_date=agreement.end_date,
                                              amounts=contracts.amounts_of(agreement),
                                              budget=budget)
        special = changes.create_special(contracts.manager, agreement, title="台风灾后排查",
                                         content="入户排查受灾情况。", budget={W: 2_000_000},
                                         start_date=agreement.start_date,
                                         end_date=agreement.start_date + timedelta(days=30))
    items = todos(manager_todos, contracts.manager, at)
    [a] = titled(items, "变更协议待签署")
    assert a.url == url("contracts.amendment", amendment_id=amendment.id)
    [s] = titled(items, "专项服务合作协议待签署")
    assert s.url == url("contracts.special", special_id=special.id) and "台风灾后排查" in s.title
    contracts.sign_all(amendment, days=6)
    contracts.sign_all(special, days=6)
    assert todos(manager_todos, contracts.manager, at) == []


# --- the contract manager: the next year -----------------------------------------------------


def test_next_year_may_be_drafted_in_the_last_60_days_of_the_agreement(contracts, todos):
    coop = contracts.in_force()
    agreement = coop.agreements[0]
    end = agreement.end_date
    assert todos(manager_todos, contracts.manager, end - timedelta(days=61)) == []
    [item] = todos(manager_todos, contracts.manager, end - timedelta(days=60))
    assert item.title.startswith("可起草下一年度协议") and agreement.number in item.title
    assert item.url == url("contracts.show", cooperation_id=coop.id)
    assert item.due == end and not item.urgent and "评估结果确定后" in item.detail
    [near] = todos(manager_todos, contracts.manager, end - timedelta(days=5))
    assert near.urgent
    agreement.annual_grade = Grade.GOOD
    [graded] = todos(manager_todos, contracts.manager, end - timedelta(days=30))
    assert "良好" in graded.detail


def test_a_drafted_renewal_replaces_the_drafting_todo_and_shows_its_gate(contracts, todos):
    coop = contracts.in_force()
    agreement = coop.agreements[0]
    on = agreement.end_date - timedelta(days=30)
    with clock.frozen(contracts.when(coop.tender, 10)):
        renewal = services.draft_renewal(contracts.manager, agreement)
    [item] = todos(manager_todos, contracts.manager, on)
    assert renewal.number in item.title and item.title.startswith("年度协议待签署")
    assert "评估结果尚未确定" in item.detail and not item.urgent


def test_a_failed_year_is_not_renewed(contracts, todos):
    coop = contracts.in_force()
    agreement = coop.agreements[0]
    agreement.annual_grade = Grade.FAIL
    [item] = todos(manager_todos, contracts.manager, agreement.end_date - timedelta(days=30))
    assert item.title.startswith("年度评估不合格，不能续签")
    assert not titled([item], "可起草")


def test_the_last_year_of_a_cooperation_has_no_renewal(contracts, todos):
    coop = contracts.in_force(years=1, justification=None)
    agreement = coop.agreements[0]
    assert todos(manager_todos, contracts.manager, agreement.end_date - timedelta(days=10)) == []


def test_a_terminated_cooperation_leaves_nothing_to_do(contracts, todos):
    coop = contracts.cooperation()
    at = contracts.when(coop.tender, 3)
    with clock.frozen(at):
        services.sign_agreement(contracts.leader, coop.agreements[0],
                                coop.agreements[0].content_hash)
        services.terminate(contracts.manager, coop, "机构主动退出")
    assert todos(manager_todos, contracts.manager, at) == []
    for user in contracts.signers(coop):
        assert todos(party_todos, user, at) == []


# --- the parties -------------------------------------------------------------------------------


def test_each_party_signer_is_asked_until_their_own_organisation_signs(contracts, todos):
    coop = contracts.cooperation()
    agreement = coop.agreements[0]
    at = contracts.when(coop.tender, 3)
    signers = contracts.signers(coop)
    for user in signers:
        [item] = todos(party_todos, user, at)
        assert item.title == f"年度协议待您单位签署：{agreement}"
        assert item.url == url("contracts.agreement", agreement_id=agreement.id)
        assert item.due == agreement.sign_due and user.org.name in item.detail
    with clock.frozen(at):
        services.sign_agreement(contracts.professor, agreement, agreement.content_hash)
    assert todos(party_todos, contracts.professor, at) == []
    for user in signers:
        if user is not contracts.professor:
            [item] = todos(party_todos, user, at)
            assert "已有 1 方签署" in item.detail


def test_a_new_version_asks_the_parties_that_signed_the_old_one_again(contracts, todos):
    coop = contracts.cooperation()
    agreement = coop.agreements[0]
    at = contracts.when(coop.tender, 3)
    with clock.frozen(at):
        services.sign_agreement(contracts.leader, agreement, agreement.content_hash)
    assert todos(party_todos, contracts.leader, at) == []
    budget = contracts.budget_of(agreement)
    line = budget[agreement.communities[0].community_id]
    line[W], line[T] = line[W] - 100, line[T] + 100
    with clock.frozen(at):
        services.update_terms(contracts.manager, agreement, start_date=agreement.start_date,
                              end_date=agreement.end_date,
                              amounts=contracts.amounts_of(agreement), budget=budget)
    assert agreement.version == 2
    [item] = todos(party_todos, contracts.leader, at)
    assert agreement.number in item.title


def test_signing_is_shown_as_urgent_near_the_deadline(contracts, todos):
    coop = contracts.cooperation()
    agreement = coop.agreements[0]
    [item] = todos(party_todos, contracts.committee_user, agreement.sign_due - timedelta(days=2))
    assert item.urgent


def test_a_pending_challenge_is_shown_instead_of_asking_to_sign(contracts, todos):
    coop = contracts.cooperation()
    loser = evaluation.final_ranking(coop.tender)[-1].bid
    at = contracts.when(coop.tender, 1)
    with clock.frozen(at):
        award.file_challenge(None, coop.tender, loser, "资格有误")
    [item] = todos(party_todos, contracts.leader, coop.agreements[0].sign_due)
    assert "暂停签订合同" in item.detail and not item.urgent


def test_every_committee_of_the_covered_communities_signs_for_itself(contracts, factory, todos):
    tenders = contracts.tenders
    second = factory.community(street_office=tenders.office)
    tender = tenders.awarded(communities=[tenders.community, second])
    at = contracts.when(tender, 2)
    with clock.frozen(at):
        coop = services.create_cooperation(contracts.manager, tender,
                                           university=contracts.university,
                                           start_date=date(2026, 5, 1), end_date=date(2027, 4, 30))
    agreement = coop.agreements[0]
    other_committee = factory.user(Role.COMMITTEE_STAFF, org=second.committee)
    assert len(todos(party_todos, contracts.committee_user, at)) == 1
    assert len(todos(party_todos, other_committee, at)) == 1
    with clock.frozen(at):
        services.sign_agreement(contracts.committee_user, agreement, agreement.content_hash)
    assert todos(party_todos, contracts.committee_user, at) == []
    [item] = todos(party_todos, other_committee, at)
    assert agreement.number in item.title


def test_organisations_that_are_not_parties_see_nothing(contracts, factory, todos):
    coop = contracts.cooperation()
    at = contracts.when(coop.tender, 3)
    other = TenderBuilder(factory)
    outsiders = [
        factory.user(Role.LEADER, org=other.office),
        factory.user(Role.COMMITTEE_STAFF, org=other.community.committee),
        factory.user(Role.UNIVERSITY_EVALUATOR, org=factory.org(OrgKind.UNIVERSITY)),
        # a losing bidder of the same tender
        contracts.tenders.agency_users[
            next(i for i, a in enumerate(contracts.tenders.agencies) if a.id != coop.agency_id)],
    ]
    for user in outsiders:
        assert todos(party_todos, user, at) == [], user.org.name


def test_amendments_and_special_agreements_are_asked_of_every_party(contracts, todos):
    coop = contracts.in_force()
    agreement = coop.agreements[0]
    budget = contracts.budget_of(agreement)
    line = budget[agreement.communities[0].community_id]
    line[W], line[T] = line[W] - 100_000, line[T] + 100_000
    at = contracts.when(coop.tender, 5)
    for user in contracts.signers(coop):
        assert todos(party_todos, user, at) == []  # the agreement itself is signed
    with clock.frozen(at):
        amendment = changes.propose_amendment(contracts.manager, agreement, reason="培训需求增加",
                                              end_date=agreement.end_date,
                                              amounts=contracts.amounts_of(agreement),
                                              budget=budget)
        special = changes.create_special(contracts.manager, agreement, title="台风灾后排查",
                                         content="入户排查受灾情况。", budget={W: 2_000_000},
                                         start_date=agreement.start_date,
                                         end_date=agreement.start_date + timedelta(days=30))
    for user in contracts.signers(coop):
        items = todos(party_todos, user, at)
        assert sorted(t.url for t in items) == sorted([
            url("contracts.amendment", amendment_id=amendment.id),
            url("contracts.special", special_id=special.id)])
        assert all(t.due is None and not t.urgent for t in items)
    with clock.frozen(at):
        changes.sign_amendment(contracts.leader, amendment, amendment.content_hash)
        changes.cancel(contracts.manager, special, "上级不再委托")
    assert todos(party_todos, contracts.leader, at) == []
    [left] = todos(party_todos, contracts.professor, at)
    assert left.title == f"变更协议待您单位签署：{amendment}"


def test_office_staff_who_do_not_sign_get_no_party_todos(contracts, factory, todos):
    coop = contracts.cooperation()
    at = contracts.when(coop.tender, 3)
    finance_and_leader = factory.user(Role.FINANCE_OFFICER, org=contracts.tenders.office)
    assert todos(party_todos, finance_and_leader, at) == []
    assert todos(party_todos, contracts.manager, at) == []


# --- the home page -------------------------------------------------------------------------------


def test_home_page_lists_the_contract_todos_of_each_side(contracts, sign_in):
    contracts.tenders.started(30)
    coop = contracts.cooperation()
    agreement = coop.agreements[0]
    html = sign_in(contracts.leader).get("/").get_data(as_text=True)
    assert f"年度协议待您单位签署：{agreement}" in html
    assert f'href="/contracts/agreements/{agreement.id}"' in html
    html = sign_in(contracts.manager).get("/").get_data(as_text=True)
    assert f"年度协议待签署：{agreement}" in html
    html = sign_in(contracts.agency_user(coop)).get("/").get_data(as_text=True)
    assert f"年度协议待您单位签署：{agreement}" in html
