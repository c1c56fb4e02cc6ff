"""One instalment worked on from many threads at the same moment (PostgreSQL): a request is
made once, request/approve/pay raced together move it one step at a time and pay at most
once, releases never pay out more than was withheld, and a reversal racing releases neither
deadlocks nor leaves the account's running total different from its movements.

Invariants checked after every race: no thread failed with an error (only refusals), the
account's paid total equals the sum of its movements and lies within 0..limit, the ledger
reconciles and the audit chain verifies."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from conftest import Factory, agreement_past_its_first_quarter, at_once
from contracts.contract_builder import ContractBuilder
from disbursements.test_disbursements import _instalment, accept_quarter
from procurement.accounts.models import User
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.audit.services import verify_chain
from procurement.contracts.models import Agreement
from procurement.core import clock
from procurement.core.calendar import now_utc
from procurement.core.errors import DomainError
from procurement.disbursements import ledger, services
from procurement.disbursements.models import Account, Instalment, Movement, MovementKind
from procurement.disbursements.states import InstalmentState
from procurement.extensions import db
from procurement.evaluations import plan
from tenders.tender_builder import TenderBuilder

HELD_BACK = 40_000  # 400 yuan paid less than payable, with a reason: withheld until released


def prepared(app, *, requested=False, approved=False, paid_short=False) -> dict:
    """An agreement whose first quarter was accepted (优秀: payable is the full amount), its
    first instalment taken as far as asked, and several people for each office role."""
    with app.app_context():
        factory = Factory()
        tenders = TenderBuilder(factory, start=now_utc() - timedelta(days=160))
        contracts = ContractBuilder(factory, tenders)
        agreement = agreement_past_its_first_quarter(contracts)
        coop = agreement.cooperation
        community = agreement.communities[0].community
        office = coop.street_office
        a = {"agreement": agreement, "community": community,
             "quarter": plan.periods(agreement)[0], "agency": contracts.agency_user(coop),
             "committee": contracts.committee_user, "manager": contracts.manager,
             "professor": contracts.professor}
        accept_quarter(a)
        instalment = db.session.scalar(sa.select(Instalment).join(Account).where(
            Account.agreement_id == agreement.id, Account.community_id == community.id,
            Instalment.number == 1))
        managers = [contracts.manager] + [factory.user(Role.CONTRACT_MANAGER, org=office)
                                          for _ in range(2)]
        finance = [factory.user(Role.FINANCE_OFFICER, org=office) for _ in range(3)]
        approvers = [contracts.leader, *finance]
        if requested:
            services.request(contracts.manager, instalment)
        if approved:
            services.approve(contracts.leader, instalment)
        if paid_short:
            services.pay(finance[0], instalment, paid_on=clock.today(), voucher_no="LY-0001",
                         amount_fen=instalment.payable_fen - HELD_BACK,
                         reason="活动照片不全，整改验收后补拨。")
        ids = {"instalment": instalment.id, "agreement": agreement.id,
               "account": instalment.account_id, "managers": [u.id for u in managers],
               "approvers": [u.id for u in approvers], "finance": [u.id for u in finance],
               "payment": db.session.scalar(sa.select(Movement.id).where(
                   Movement.instalment_id == instalment.id))}
        db.session.commit()
        return ids


def user(ids, role: str, i: int) -> User:
    people = ids[role]
    return db.session.get(User, people[i % len(people)])


def instalment_of(ids) -> Instalment:
    return db.session.get(Instalment, ids["instalment"])


def errors(results):
    return [r for r in results if r.startswith("error")]


def audit_count(action: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == action))


def assert_books_hold(app, ids):
    """The account's running total is its movements' sum, within 0..limit; the ledger
    reconciles; the chain verifies."""
    with app.app_context():
        account = db.session.get(Account, ids["account"])
        moved = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Movement.amount_fen), 0))
                                  .join(Instalment).where(Instalment.account_id == account.id))
        assert account.paid_fen == moved
        assert 0 <= account.paid_fen <= account.limit_fen
        assert all(book.reconciles() for book in ledger.ledger(db.session.get(Agreement,
                                                                              ids["agreement"])))
        assert verify_chain().ok


def test_simultaneous_requests_of_one_instalment_request_it_once(committed_app):
    ids = prepared(committed_app)

    results = at_once(committed_app,
                      lambda i: services.request(user(ids, "managers", i), instalment_of(ids)))
    assert results.count("ok") == 1, results
    assert not errors(results), results
    with committed_app.app_context():
        assert instalment_of(ids).state is InstalmentState.REQUESTED
        assert audit_count("disbursement.requested") == 1
    assert_books_hold(committed_app, ids)


def test_request_approve_and_pay_raced_together_take_one_step_each_and_pay_at_most_once(
        committed_app):
    ids = prepared(committed_app)

    def step(i):
        instalment = instalment_of(ids)
        if i % 3 == 0:
            services.request(user(ids, "managers", i), instalment)
        elif i % 3 == 1:
            services.approve(user(ids, "approvers", i), instalment)
        else:
            services.pay(user(ids, "finance", i), instalment, paid_on=clock.today(),
                         voucher_no=f"LY-{i:04d}")

    results = at_once(committed_app, step, n=24)
    assert not errors(results), results
    assert results.count("ok") <= 3, results
    with committed_app.app_context():
        instalment = instalment_of(ids)
        steps = {"requested": 1, "approved": 2, "paid": 3}
        done = [audit_count(f"disbursement.{s}") for s in steps]
        assert all(n <= 1 for n in done), done
        # Each step happened at most once, in order, and the state is the last one taken.
        assert done == sorted(done, reverse=True)
        assert results.count("ok") == sum(done)
        reached = [InstalmentState.SCHEDULED, InstalmentState.REQUESTED,
                   InstalmentState.APPROVED, InstalmentState.PAID][sum(done)]
        assert instalment.state is reached
        payments = db.session.scalars(sa.select(Movement).where(
            Movement.instalment_id == ids["instalment"])).all()
        if instalment.state is InstalmentState.PAID:
            assert [m.amount_fen for m in payments] == [instalment.payable_fen]
        else:
            assert payments == []
    assert_books_hold(committed_app, ids)


def test_simultaneous_releases_never_release_more_than_was_withheld(committed_app):
    ids = prepared(committed_app, requested=True, approved=True, paid_short=True)
    part = HELD_BACK // 4

    results = at_once(committed_app, lambda i: services.release(
        user(ids, "approvers", i), instalment_of(ids), amount_fen=part, paid_on=clock.today(),
        voucher_no=f"BB-{i:04d}", reason="整改验收合格。"))
    assert results.count("ok") == 4, results
    assert not errors(results), results
    with committed_app.app_context():
        instalment = instalment_of(ids)
        assert instalment.withheld_fen == 0
        releases = db.session.scalars(sa.select(Movement.amount_fen).where(
            Movement.instalment_id == ids["instalment"],
            Movement.kind == MovementKind.RELEASE)).all()
        assert releases == [part] * 4
        assert db.session.get(Account, ids["account"]).paid_fen == instalment.amount_fen
        assert audit_count("disbursement.release") == 4
    assert_books_hold(committed_app, ids)


def test_a_reversal_racing_releases_neither_deadlocks_nor_unbalances_the_account(committed_app):
    """The reversal locks the payment, the account and the instalment; a release locks the
    instalment and the account: taken in different orders these deadlock."""
    ids = prepared(committed_app, requested=True, approved=True, paid_short=True)

    def work(i):
        if i % 2:
            services.reverse(user(ids, "finance", i), db.session.get(Movement, ids["payment"]),
                             reason="凭证号录入错误。")
        else:
            services.release(user(ids, "approvers", i), instalment_of(ids),
                             amount_fen=HELD_BACK // 4, paid_on=clock.today(),
                             voucher_no=f"BB-{i:04d}", reason="整改验收合格。")

    results = at_once(committed_app, work, n=12)
    assert not errors(results), results
    with committed_app.app_context():
        payment = db.session.get(Movement, ids["payment"])
        reversals = db.session.scalars(sa.select(Movement).where(
            Movement.reverses_id == payment.id)).all()
        releases = db.session.scalars(sa.select(Movement).where(
            Movement.instalment_id == payment.instalment_id,
            Movement.kind == MovementKind.RELEASE)).all()
        if payment.reversed:
            # The reversal came first: it reopened the instalment, no release came after.
            assert audit_count("disbursement.reverse") == 1 and not releases
            assert [m.amount_fen for m in reversals] == [-payment.amount_fen]
        else:
            # A release came first: the payment stands, each reversal was refused for it.
            assert releases and not reversals and audit_count("disbursement.reverse") == 0
            assert results.count("该期已有补拨款，请先冲正补拨，再冲正原拨付。") == 6
    assert_books_hold(committed_app, ids)


def test_an_approval_clicked_on_a_paid_instalment_is_refused(appraised, factory):
    """PAID -> APPROVED is the reversal's move only: an approval on a paid instalment (a
    stale page, a second approver) must not reopen it to a second payment. Found by the
    request/approve/pay race above; it happens one click after another too."""
    a = appraised
    accept_quarter(a)
    instalment = _instalment(a)
    finance = factory.user(Role.FINANCE_OFFICER, org=a["agreement"].cooperation.street_office)
    services.request(a["manager"], instalment)
    services.approve(a["leader"], instalment)
    services.pay(finance, instalment, paid_on=clock.today(), voucher_no="LY-0001")
    with pytest.raises(DomainError, match="已拨付"):
        services.approve(finance, instalment)
    assert instalment.state is InstalmentState.PAID
    with pytest.raises(DomainError, match="已拨付"):
        services.pay(finance, instalment, paid_on=clock.today(), voucher_no="LY-0002")
