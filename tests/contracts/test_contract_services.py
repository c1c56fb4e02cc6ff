"""The contract rules: terms, exact budgets, all-party signing bound to a version, the
signing gates (a pending challenge, the renewal's grade), amendments and special agreements."""
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from conftest import row_counts
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.contracts import changes, rules, services, signing
from procurement.contracts.models import (Agreement, Amendment, BudgetLine, Cooperation,
                                          Signature, SpecialAgreement)
from procurement.contracts.states import (BudgetCategory, CooperationState, DocumentState,
                                          EvaluationSource, Grade)
from procurement.core import clock
from procurement.core.calendar import SHANGHAI
from procurement.core.errors import DomainError, InvalidTransition
from procurement.orgs.models import OrgKind
from procurement.tenders import award, evaluation

W, T, A = BudgetCategory.WAGES, BudgetCategory.TRAINING, BudgetCategory.ACTIVITIES


def test_cooperation_and_first_agreement_have_the_four_kinds_of_party(contracts):
    coop = contracts.cooperation()
    agreement = coop.agreements[0]
    assert coop.state is CooperationState.DRAFT and agreement.state is DocumentState.DRAFT
    kinds = [p.org.kind for p in agreement.parties]
    assert kinds == [OrgKind.STREET_OFFICE, OrgKind.RESIDENTS_COMMITTEE, OrgKind.UNIVERSITY,
                     OrgKind.AGENCY]
    assert all(p.duties for p in agreement.parties)
    assert len(agreement.sub_contracts) == 6
    assert agreement.amount_fen == 40_000_000
    assert sum(line.amount_fen for line in agreement.budget_lines) == 40_000_000
    assert agreement.sign_due == rules.sign_due(coop.tender.notice_published_at.date())


@pytest.mark.parametrize("years, justification, message", [
    (4, "理由", "最长 3 年"),
    (2, None, "须写明理由"),
])
def test_cooperation_term_limits(contracts, years, justification, message):
    before = row_counts(Cooperation, Agreement, AuditEntry)
    with pytest.raises(DomainError, match=message):
        contracts.cooperation(years=years, justification=justification)
    assert row_counts(Cooperation, Agreement, AuditEntry)[:2] == before[:2]


def test_a_one_year_cooperation_needs_no_justification(contracts):
    coop = contracts.cooperation(years=1, justification=None)
    assert coop.agreements[0].end_date == coop.end_date


def test_an_annual_agreement_is_at_most_one_year_inside_the_cooperation(contracts):
    agreement = contracts.cooperation().agreements[0]
    budget, amounts = contracts.budget_of(agreement), contracts.amounts_of(agreement)
    with pytest.raises(DomainError, match="最长 1 年"):
        services.update_terms(contracts.manager, agreement, start_date=agreement.start_date,
                              end_date=agreement.start_date + timedelta(days=366),
                              amounts=amounts, budget=budget)
    with pytest.raises(DomainError, match="合作期"):
        services.update_terms(contracts.manager, agreement,
                              start_date=agreement.start_date - timedelta(days=1),
                              end_date=agreement.end_date - timedelta(days=1),
                              amounts=amounts, budget=budget)


def test_budget_lines_must_add_up_to_the_amount_to_the_fen(contracts):
    agreement = contracts.cooperation().agreements[0]
    budget = contracts.budget_of(agreement)
    community_id = next(iter(budget))
    budget[community_id][W] -= 1
    before = row_counts(BudgetLine, AuditEntry)
    with pytest.raises(DomainError, match="少 ¥0.01"):
        services.update_terms(contracts.manager, agreement, start_date=agreement.start_date,
                              end_date=agreement.end_date, amounts=contracts.amounts_of(agreement),
                              budget=budget)
    assert row_counts(BudgetLine, AuditEntry) == before
    assert agreement.version == 1
    budget[community_id][W] += 2
    with pytest.raises(DomainError, match="多 ¥0.01"):
        rules.check_budget("测试社区", 40_000_000, budget[community_id])


def test_in_force_only_when_every_party_has_signed(contracts):
    coop = contracts.cooperation()
    agreement = coop.agreements[0]
    signers = contracts.signers(coop)
    with clock.frozen(contracts.when(coop.tender)):
        for user in signers[:-1]:
            services.sign_agreement(user, agreement, agreement.content_hash)
            assert agreement.state is DocumentState.SIGNING
        assert [o.id for o in signing.missing_parties(agreement)] == [coop.agency_id]
        services.sign_agreement(signers[-1], agreement, agreement.content_hash)
    assert agreement.state is DocumentState.IN_FORCE and agreement.in_force_at
    assert coop.state is CooperationState.ACTIVE
    assert {s.signer_id for s in signing.signatures(agreement)} == {u.id for u in signers}
    assert all(s.content_hash == agreement.content_hash for s in signing.signatures(agreement))


def test_a_change_after_a_signature_makes_a_new_version_and_clears_the_signatures(contracts):
    coop = contracts.cooperation()
    agreement = coop.agreements[0]
    first_hash = agreement.content_hash
    with clock.frozen(contracts.when(coop.tender)):
        services.sign_agreement(contracts.leader, agreement, first_hash)
    budget = contracts.budget_of(agreement)
    community_id = next(iter(budget))
    budget[community_id][W] -= 100_000
    budget[community_id][T] += 100_000
    services.update_terms(contracts.manager, agreement, start_date=agreement.start_date,
                          end_date=agreement.end_date, amounts=contracts.amounts_of(agreement),
                          budget=budget)
    assert agreement.version == 2 and agreement.state is DocumentState.DRAFT
    assert agreement.content_hash != first_hash
    assert signing.signatures(agreement) == []
    assert len(signing.signatures(agreement, version=1)) == 1  # kept, no longer counting
    with clock.frozen(contracts.when(coop.tender)), pytest.raises(DomainError, match="最新版本"):
        services.sign_agreement(contracts.professor, agreement, first_hash)


def test_an_edit_before_any_signature_keeps_the_version(contracts):
    agreement = contracts.cooperation().agreements[0]
    services.update_duties(contracts.manager, agreement,
                           {p.org_id: p.duties + "（补充）" for p in agreement.parties})
    assert agreement.version == 1


def test_nobody_signs_for_another_organisation_or_without_the_signing_role(contracts, factory):
    coop = contracts.cooperation()
    agreement = coop.agreements[0]
    outsider = factory.user(Role.LEADER)  # a leader of another street office
    with clock.frozen(contracts.when(coop.tender)):
        with pytest.raises(DomainError, match="不是本协议的当事方"):
            services.sign_agreement(outsider, agreement, agreement.content_hash)
        with pytest.raises(DomainError, match="街道领导"):
            services.sign_agreement(contracts.manager, agreement, agreement.content_hash)
        services.sign_agreement(contracts.leader, agreement, agreement.content_hash)
        other_leader = factory.user(Role.LEADER, org=contracts.tenders.office)
        with pytest.raises(DomainError, match="已签署"):
            services.sign_agreement(other_leader, agreement, agreement.content_hash)
    assert Signature.query.count() == 1


def test_no_cooperation_while_a_challenge_may_change_the_result(contracts):
    tender = contracts.awarded()
    loser = evaluation.final_ranking(tender)[-1].bid
    with clock.frozen(tender.notice_published_at + timedelta(days=1)):
        challenge = award.file_challenge(None, tender, loser, "评分有误")
        with pytest.raises(DomainError, match="暂停签订合同"):
            services.create_cooperation(contracts.manager, tender, university=contracts.university,
                                        start_date=date(2026, 5, 1), end_date=date(2027, 4, 30))
    assert Cooperation.query.count() == 0
    with clock.frozen(tender.notice_published_at + timedelta(days=2)):
        award.answer_challenge(None, challenge, answer="不成立", may_change_result=False)
        services.create_cooperation(contracts.manager, tender, university=contracts.university,
                                    start_date=date(2026, 5, 1), end_date=date(2027, 4, 30))


def test_signing_stops_when_a_challenge_comes_after_the_draft(contracts):
    coop = contracts.cooperation()
    agreement = coop.agreements[0]
    loser = evaluation.final_ranking(coop.tender)[-1].bid
    with clock.frozen(contracts.when(coop.tender, 1)):
        award.file_challenge(None, coop.tender, loser, "资格有误")
        with pytest.raises(DomainError, match="暂停签订合同"):
            services.sign_agreement(contracts.leader, agreement, agreement.content_hash)
    assert Signature.query.count() == 0


def test_only_one_cooperation_per_tender(contracts):
    coop = contracts.cooperation()
    with pytest.raises(DomainError, match="重复"):
        services.create_cooperation(contracts.manager, coop.tender, university=contracts.university,
                                    start_date=coop.start_date, end_date=coop.end_date,
                                    justification="x")


def test_renewal_waits_for_the_years_grade_and_a_fail_loses_it(contracts):
    coop = contracts.in_force()
    first = coop.agreements[0]
    second = services.draft_renewal(contracts.manager, first)
    assert second.year_no == 2 and second.start_date == rules.add_years(first.start_date, 1)
    assert contracts.budget_of(second) == contracts.budget_of(first)
    with clock.frozen(contracts.when(coop.tender, 300)):
        with pytest.raises(DomainError, match="尚未确定"):
            services.sign_agreement(contracts.leader, second, second.content_hash)
        first.annual_grade = Grade.FAIL
        with pytest.raises(DomainError, match="不合格"):
            services.sign_agreement(contracts.leader, second, second.content_hash)
        first.annual_grade = Grade.GOOD
    contracts.sign_all(second, days=300)
    assert second.state is DocumentState.IN_FORCE
    assert services.renewal_block(second) is None


def test_renewal_only_from_an_agreement_in_force_and_within_the_cooperation(contracts):
    coop = contracts.cooperation(years=1, justification=None)
    with pytest.raises(DomainError, match="已生效"):
        services.draft_renewal(contracts.manager, coop.agreements[0])
    contracts.sign_all(coop.agreements[0])
    with pytest.raises(DomainError, match="最后一年"):
        services.draft_renewal(contracts.manager, coop.agreements[0])


def test_evaluation_weights_total_100_percent_and_bands_in_order(contracts):
    agreement = contracts.cooperation().agreements[0]
    weights = {EvaluationSource.STREET_OFFICE: Decimal("0.5"),
               EvaluationSource.RESIDENTS: Decimal("0.4")}
    bands = {Grade.EXCELLENT: Decimal(90), Grade.GOOD: Decimal(80), Grade.PASS: Decimal(60)}
    with pytest.raises(DomainError, match="100%"):
        services.update_evaluation(contracts.manager, agreement, weights=weights, bands=bands)
    weights[EvaluationSource.COMMITTEE] = Decimal("0.1")
    with pytest.raises(DomainError, match="分数线"):
        services.update_evaluation(contracts.manager, agreement, weights=weights,
                                   bands={**bands, Grade.GOOD: Decimal(95)})
    services.update_evaluation(contracts.manager, agreement, weights=weights, bands=bands)
    assert agreement.evaluation_weights == {"street_office": "0.5", "residents": "0.4",
                                            "committee": "0.1"}
    assert rules.grade_for(Decimal("79.99"), {Grade(k): Decimal(v) for k, v in
                                              agreement.grade_bands.items()}) is Grade.PASS


def test_changing_an_agreement_in_force_needs_an_amendment(contracts):
    agreement = contracts.in_force().agreements[0]
    with pytest.raises(InvalidTransition):
        services.update_duties(contracts.manager, agreement,
                               {p.org_id: "新职责" for p in agreement.parties})


def amend_training(contracts, agreement, delta=600_000):
    budget = contracts.budget_of(agreement)
    community_id = next(iter(budget))
    budget[community_id][A] -= delta
    budget[community_id][T] += delta
    return changes.propose_amendment(contracts.manager, agreement, reason="增加培训",
                                     end_date=agreement.end_date,
                                     amounts=contracts.amounts_of(agreement), budget=budget)


def test_an_amendment_takes_effect_only_when_every_party_has_signed(contracts):
    coop = contracts.in_force()
    agreement = coop.agreements[0]
    training = next(line for line in agreement.budget_lines if line.category is T)
    before = training.amount_fen
    amendment = amend_training(contracts, agreement)
    name = agreement.communities[0].community.name
    assert {c["label"]: (c["before"], c["after"]) for c in amendment.changes} == {
        f"{name}培训费": (before, before + 600_000),
        f"{name}活动费": (next(line.amount_fen for line in agreement.budget_lines
                            if line.category is A),
                       next(line.amount_fen for line in agreement.budget_lines
                            if line.category is A) - 600_000)}
    signers = contracts.signers(coop)
    with clock.frozen(contracts.when(coop.tender, 5)):
        for user in signers[:-1]:
            changes.sign_amendment(user, amendment, amendment.content_hash)
    assert training.amount_fen == before and amendment.state is DocumentState.SIGNING
    with clock.frozen(contracts.when(coop.tender, 5)):
        changes.sign_amendment(signers[-1], amendment, amendment.content_hash)
    assert amendment.state is DocumentState.IN_FORCE
    assert training.amount_fen == before + 600_000
    assert sum(line.amount_fen for line in agreement.budget_lines) == agreement.amount_fen
    assert AuditEntry.query.filter_by(action="agreement.amend").count() == 1


def test_an_amendment_must_change_something_add_up_and_wait_for_the_open_one(contracts):
    agreement = contracts.in_force().agreements[0]
    with pytest.raises(DomainError, match="没有任何变更"):
        changes.propose_amendment(contracts.manager, agreement, reason="无", end_date=agreement.end_date,
                                  amounts=contracts.amounts_of(agreement),
                                  budget=contracts.budget_of(agreement))
    budget = contracts.budget_of(agreement)
    next(iter(budget.values()))[T] += 1
    with pytest.raises(DomainError, match="不符"):
        changes.propose_amendment(contracts.manager, agreement, reason="错", end_date=agreement.end_date,
                                  amounts=contracts.amounts_of(agreement), budget=budget)
    assert Amendment.query.count() == 0
    amend_training(contracts, agreement)
    with pytest.raises(DomainError, match="签署中"):
        amend_training(contracts, agreement, delta=100)


def test_no_amendment_before_the_agreement_is_in_force(contracts):
    agreement = contracts.cooperation().agreements[0]
    with pytest.raises(DomainError, match="生效后"):
        amend_training(contracts, agreement)


def test_special_agreement_has_its_own_budget_and_signatures(contracts):
    coop = contracts.in_force()
    agreement = coop.agreements[0]
    with pytest.raises(DomainError, match="预算"):
        changes.create_special(contracts.manager, agreement, title="台风灾后排查", content="入户排查",
                               budget={}, start_date=agreement.start_date,
                               end_date=agreement.start_date)
    special = changes.create_special(
        contracts.manager, agreement, title="台风灾后排查", content="入户排查受灾情况",
        budget={W: 2_000_000, A: 1_000_000}, start_date=agreement.start_date,
        end_date=agreement.start_date + timedelta(days=30))
    assert special.amount_fen == 3_000_000 and special.state is DocumentState.DRAFT
    contracts.sign_all(special)
    assert special.state is DocumentState.IN_FORCE
    assert SpecialAgreement.query.count() == 1


def test_cancel_an_unsigned_amendment_with_a_reason(contracts):
    agreement = contracts.in_force().agreements[0]
    amendment = amend_training(contracts, agreement)
    with pytest.raises(DomainError, match="作废原因"):
        changes.cancel(contracts.manager, amendment, "")
    changes.cancel(contracts.manager, amendment, "另行协商")
    assert amendment.state is DocumentState.CANCELLED
    amend_training(contracts, agreement)  # a new one may now be proposed


def test_termination_needs_a_reason_and_ends_the_cooperation(contracts):
    coop = contracts.in_force()
    with pytest.raises(DomainError, match="原因"):
        services.terminate(contracts.manager, coop, " ")
    services.terminate(contracts.manager, coop, "承包方严重违约")
    assert coop.state is CooperationState.TERMINATED
    with pytest.raises(DomainError, match="已终止"):
        services.draft_renewal(contracts.manager, coop.agreements[0])


def test_the_cooperation_ends_after_its_last_day(contracts):
    coop = contracts.in_force(years=1, justification=None)
    with clock.frozen(contracts.when(coop.tender, 5)):
        assert not services.end_if_expired(None, coop)
    after = datetime.combine(coop.end_date + timedelta(days=1), datetime.min.time(), SHANGHAI)
    with clock.frozen(after):
        assert services.end_if_expired(None, coop)
    assert coop.state is CooperationState.ENDED


def test_the_daily_command_closes_cooperations_past_their_last_day(contracts, app):
    contracts.tenders.started(800)  # a tender of two years ago, so its one-year term is over
    coop = contracts.in_force(years=1, justification=None)
    result = app.test_cli_runner().invoke(args=["contracts", "close-expired"])
    assert result.exit_code == 0 and coop.number in result.output
    assert coop.state is CooperationState.ENDED
    again = app.test_cli_runner().invoke(args=["contracts", "close-expired"])
    assert "没有到期的合作" in again.output


def test_termination_cancels_what_was_being_signed_and_nothing_more_can_be_signed(contracts):
    coop = contracts.in_force()
    first = coop.agreements[0]
    amendment = amend_training(contracts, first)
    second = services.draft_renewal(contracts.manager, first)
    services.terminate(contracts.manager, coop, "财政资金调整")
    assert amendment.state is DocumentState.CANCELLED and second.state is DocumentState.CANCELLED
    assert first.state is DocumentState.IN_FORCE  # a signed year stays what it was
    with pytest.raises(DomainError):
        services.update_duties(contracts.manager, second, {p.org_id: "x" for p in second.parties})
    with clock.frozen(contracts.when(coop.tender, 300)), pytest.raises(DomainError):
        services.sign_agreement(contracts.leader, second, second.content_hash)
