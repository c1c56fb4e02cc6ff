"""Quarterly disbursements: the schedule adds up to the fen, the acceptance gate, the payable
share by grade, approval by someone else, payment once, partial withholding and its release,
reversal, re-planning after an amendment, and a ledger that reconciles to the fen."""
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from procurement.contracts.states import EvaluationSource as Src, Grade
from procurement.core import clock
from procurement.core.calendar import SHANGHAI
from procurement.core.errors import DomainError
from procurement.disbursements import ledger, schedule, services, spending
from procurement.disbursements.models import Account, Instalment, Movement
from procurement.disbursements.states import InstalmentState as S
from procurement.evaluations import plan, scoring, sheets
from procurement.evaluations.models import Survey, SurveyResponse
from procurement.extensions import db


def _day(period, days):
    day = period.end_date + timedelta(days=days)
    return clock.frozen(datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI))


def accept_quarter(a, share="0.95", survey=True, accept_self=True, finalise=True):
    """Every source rates the first quarter at `share` of each maximum, then it is finalised."""
    period, community = a["quarter"], a["community"]
    raters = {Src.SELF: a["agency"], Src.COMMITTEE: a["committee"],
              Src.STREET_OFFICE: a["manager"], Src.UNIVERSITY: a["professor"]}
    with _day(period, 3):
        for source, rater in raters.items():
            indicators = plan.indicator_set(period.agreement, source).indicators
            sheet = sheets.save(rater, period, community, source, narrative="意见",
                                opinions="居民意见",
                                scores={i.id: str((i.max_score * Decimal(share))
                                                  .quantize(Decimal("0.1"))) for i in indicators})
            sheets.submit(rater, sheet)
            if source is Src.SELF and accept_self:
                sheets.accept(a["manager"], sheet)
        if survey:
            s = Survey(period_id=period.id, community_id=community.id, size=10,
                       closes_at=clock.now(), created_by_id=a["manager"].id)
            db.session.add(s)
            db.session.flush()
            db.session.add(SurveyResponse(survey_id=s.id, answers={}, score=Decimal(share) * 100))
            db.session.flush()
    if finalise:
        with _day(period, 10):
            scoring.finalise(a["manager"], period, community,
                             reweight_reason=None if survey else "本季度未开展满意度调查")


def _instalment(a, number=1):
    account = db.session.scalar(sa.select(Account).where(
        Account.agreement_id == a["agreement"].id, Account.community_id == a["community"].id))
    return next(i for i in account.instalments if i.number == number)


@pytest.fixture
def finance(appraised, factory):
    from procurement.accounts.roles import Role
    office = appraised["agreement"].cooperation.street_office
    return factory.user(Role.FINANCE_OFFICER, org=office)


def test_signing_schedules_four_instalments_that_add_up_to_the_fen(appraised):
    agreement = appraised["agreement"]
    for account in schedule.accounts_of(agreement):
        amounts = [i.amount_fen for i in account.instalments]
        assert len(amounts) == 4 and sum(amounts) == account.limit_fen
    # An amount that does not divide by four: the last instalment absorbs the fen.
    row = agreement.communities[0]
    assert schedule.schedule(appraised["manager"], agreement)  # idempotent
    assert len(schedule.accounts_of(agreement)) == len(agreement.communities)
    from procurement.core.money import split_evenly
    assert split_evenly(40_000_001, 4) == [10_000_000, 10_000_000, 10_000_000, 10_000_001]
    assert row.amount_fen == sum(i.amount_fen for i in _instalment(appraised).account.instalments)


def test_an_instalment_waits_for_the_quarters_acceptance(appraised):
    a = appraised
    instalment = _instalment(a)
    with _day(a["quarter"], 12), pytest.raises(DomainError, match="机构自评尚未通过审核"):
        services.request(a["manager"], instalment)
    accept_quarter(a, accept_self=True, finalise=False)
    with _day(a["quarter"], 12), pytest.raises(DomainError, match="评估结果尚未确定"):
        services.request(a["manager"], instalment)


def test_a_quarter_finalised_without_the_survey_does_not_open_payment(appraised):
    a = appraised
    accept_quarter(a, survey=False)
    with _day(a["quarter"], 12), pytest.raises(DomainError, match="居民满意度"):
        services.request(a["manager"], _instalment(a))


def test_good_work_is_paid_in_full_by_someone_other_than_the_requester(appraised, finance):
    a = appraised
    accept_quarter(a, "0.95")
    instalment = _instalment(a)
    with _day(a["quarter"], 12):
        services.request(a["manager"], instalment)
        assert (instalment.grade, instalment.payable_fen) == (Grade.EXCELLENT,
                                                              instalment.amount_fen)
        assert "按 100% 拨付" in instalment.computation
        with pytest.raises(DomainError):
            services.approve(a["agency"], instalment)
        services.approve(a["leader"], instalment)
        services.pay(finance, instalment, paid_on=clock.today(), voucher_no="LY2016-0001")
        with pytest.raises(DomainError, match="不能登记拨付"):
            services.pay(finance, instalment, paid_on=clock.today(), voucher_no="LY2016-0002")
    assert instalment.state is S.PAID
    assert db.session.query(Movement).count() == 1


def test_the_requester_cannot_approve_their_own_request(appraised, factory):
    from procurement.accounts.roles import Role
    a = appraised
    accept_quarter(a)
    both = factory.user(Role.CONTRACT_MANAGER, Role.LEADER,
                        org=a["agreement"].cooperation.street_office)
    instalment = _instalment(a)
    with _day(a["quarter"], 12):
        services.request(both, instalment)
        with pytest.raises(DomainError, match="申请人本人"):
            services.approve(both, instalment)


def test_a_pass_grade_pays_90_percent_and_the_rest_is_released_after_rectification(
        appraised, finance):
    a = appraised
    accept_quarter(a, "0.7")  # 基本合格
    instalment = _instalment(a)
    with _day(a["quarter"], 12):
        services.request(a["manager"], instalment)
        assert instalment.grade is Grade.PASS and instalment.share == Decimal("0.9")
        assert instalment.payable_fen == instalment.amount_fen * 9 // 10
        services.approve(a["leader"], instalment)
        services.pay(finance, instalment, paid_on=clock.today(), voucher_no="LY-0001")
    withheld = instalment.amount_fen - instalment.payable_fen
    assert instalment.withheld_fen == withheld
    with _day(a["quarter"], 40):
        with pytest.raises(DomainError, match="补拨理由"):
            services.release(finance, instalment, amount_fen=withheld, paid_on=clock.today(),
                             voucher_no="LY-0002", reason="")
        with pytest.raises(DomainError, match="补拨金额"):
            services.release(finance, instalment, amount_fen=withheld + 1,
                             paid_on=clock.today(), voucher_no="LY-0002", reason="整改合格")
        services.release(finance, instalment, amount_fen=withheld, paid_on=clock.today(),
                         voucher_no="LY-0002", reason="整改已验收合格")
    book = next(b for b in ledger.ledger(a["agreement"]) if b.account.id == instalment.account_id)
    assert book.paid == instalment.amount_fen and book.withheld == 0 and book.reconciles()


def test_a_payment_whose_withholding_was_released_is_reversed_only_after_the_release(
        appraised, finance):
    a = appraised
    accept_quarter(a, "0.7")  # 基本合格: 90% paid, the rest released later
    instalment = _instalment(a)
    with _day(a["quarter"], 12):
        services.request(a["manager"], instalment)
        services.approve(a["leader"], instalment)
        services.pay(finance, instalment, paid_on=clock.today(), voucher_no="LY-0001")
    withheld = instalment.withheld_fen
    payment, = instalment.movements
    with _day(a["quarter"], 40):
        release = services.release(finance, instalment, amount_fen=withheld,
                                   paid_on=clock.today(), voucher_no="LY-0002", reason="整改合格")
        with pytest.raises(DomainError, match="请先冲正补拨"):
            services.reverse(finance, payment, reason="金额录错")
        services.reverse(finance, release, reason="补拨凭证有误")
        services.reverse(finance, payment, reason="金额录错")
    assert instalment.state is S.APPROVED and instalment.withheld_fen == withheld
    book = next(b for b in ledger.ledger(a["agreement"]) if b.account.id == instalment.account_id)
    assert book.paid == 0 and book.reconciles()


def test_a_fail_grade_withholds_it_all(appraised, finance):
    a = appraised
    accept_quarter(a, "0.5")
    instalment = _instalment(a)
    with _day(a["quarter"], 12):
        services.request(a["manager"], instalment)
        assert instalment.payable_fen == 0 and instalment.grade is Grade.FAIL
        services.approve(a["leader"], instalment)
        services.pay(finance, instalment, paid_on=clock.today(), voucher_no="", amount_fen=0)
    assert instalment.state is S.WITHHELD and instalment.withheld_fen == instalment.amount_fen
    assert db.session.query(Movement).count() == 0


def test_paying_less_than_payable_needs_a_reason(appraised, finance):
    a = appraised
    accept_quarter(a)
    instalment = _instalment(a)
    with _day(a["quarter"], 12):
        services.request(a["manager"], instalment)
        services.approve(a["leader"], instalment)
        with pytest.raises(DomainError, match="暂扣原因"):
            services.pay(finance, instalment, paid_on=clock.today(), voucher_no="V1",
                         amount_fen=instalment.payable_fen - 100)
        services.pay(finance, instalment, paid_on=clock.today(), voucher_no="V1",
                     amount_fen=instalment.payable_fen - 100, reason="发票未齐")
    assert instalment.withheld_fen == 100


def test_a_payment_is_reversed_by_a_recorded_correction_never_edited(appraised, finance):
    a = appraised
    accept_quarter(a)
    instalment = _instalment(a)
    with _day(a["quarter"], 12):
        services.request(a["manager"], instalment)
        services.approve(a["leader"], instalment)
        services.pay(finance, instalment, paid_on=clock.today(), voucher_no="WRONG-1")
        payment = db.session.scalar(sa.select(Movement).where(
            Movement.instalment_id == instalment.id))
        correction = services.reverse(finance, payment, reason="凭证号录错")
        assert instalment.state is S.APPROVED and payment.reversed
        services.pay(finance, instalment, paid_on=clock.today(), voucher_no="LY-0001")
        with pytest.raises(DomainError, match="已冲正"):
            services.reverse(finance, payment, reason="再次冲正")
    amounts = list(db.session.scalars(sa.select(Movement.amount_fen).where(
        Movement.instalment_id == instalment.id).order_by(Movement.id)))
    assert amounts == [instalment.payable_fen, -instalment.payable_fen, instalment.payable_fen]
    assert correction.reverses_id == payment.id
    assert instalment.account.paid_fen == instalment.payable_fen


def test_the_database_refuses_a_second_standing_payment_and_an_overpayment(appraised, finance):
    a = appraised
    instalment = _instalment(a)
    account = instalment.account
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        for voucher in ("A", "B"):
            db.session.add(Movement(instalment_id=instalment.id, kind="payment", amount_fen=1,
                                    paid_on=a["quarter"].end_date, voucher_no=voucher,
                                    recorded_by_id=finance.id))
            db.session.flush()
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.execute(sa.update(Account).where(Account.id == account.id)
                           .values(paid_fen=account.limit_fen + 1))


def test_an_amendment_replans_the_instalments_not_yet_requested(appraised, finance, contracts):
    from procurement.contracts import changes
    a = appraised
    agreement = a["agreement"]
    accept_quarter(a)
    first = _instalment(a)
    with _day(a["quarter"], 12):
        services.request(a["manager"], first)
    row = next(c for c in agreement.communities if c.community_id == a["community"].id)
    new_amount = row.amount_fen + 3_000_001  # 30,000.01 yuan more
    budget = contracts.budget_of(agreement)
    budget[row.community_id][next(iter(budget[row.community_id]))] += 3_000_001
    with _day(a["quarter"], 13):
        amendment = changes.propose_amendment(
            a["manager"], agreement, reason="增加服务内容", end_date=agreement.end_date,
            amounts={c.community_id: (new_amount if c.community_id == row.community_id
                                      else c.amount_fen) for c in agreement.communities},
            budget=budget)
        contracts.sign_all(amendment, days=0)
    account = first.account
    assert account.limit_fen == new_amount
    assert sum(i.amount_fen for i in account.instalments) == new_amount
    assert first.amount_fen == row.amount_fen // 4 or first.state is S.REQUESTED
    assert all("第1号变更" in (i.note or "") for i in account.instalments if i.number > 1)


def test_spending_is_compared_with_the_budget(appraised):
    a = appraised
    agreement, community = a["agreement"], a["community"]
    budget = {line.category: line.amount_fen for line in agreement.budget_lines
              if line.community_id == community.id}
    category = next(iter(budget))
    with _day(a["quarter"], 5):
        with pytest.raises(DomainError):
            spending.report(a["manager"], agreement, community, 1, {category: 100})
        spending.report(a["agency"], agreement, community, 1, {category: budget[category] + 1})
    rows = {r.category: r for r in ledger.execution(agreement, community.id)}
    assert rows[category].over and rows[category].spent == budget[category] + 1
