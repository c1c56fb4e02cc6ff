"""Many clicks at one instalment at the same moment (PostgreSQL): 24 approvals give one
approval, 24 payments give exactly one payment, and the ledger still reconciles."""
from datetime import timedelta

import sqlalchemy as sa

from conftest import Factory, agreement_past_its_first_quarter, at_once
from contracts.contract_builder import ContractBuilder
from disbursements.test_disbursements import accept_quarter
from procurement.accounts.models import User
from procurement.accounts.roles import Role
from procurement.audit.services import verify_chain
from procurement.core import clock
from procurement.core.calendar import now_utc
from procurement.disbursements import ledger, services
from procurement.disbursements.models import Account, Instalment, Movement
from procurement.disbursements.states import InstalmentState
from procurement.evaluations import plan
from procurement.extensions import db
from tenders.tender_builder import TenderBuilder


def requested(app) -> dict:
    """An agreement whose first quarter was accepted, and its first instalment requested."""
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
        services.request(contracts.manager, instalment)
        approvers = [contracts.leader] + [factory.user(Role.FINANCE_OFFICER, org=office)
                                          for _ in range(3)]
        ids = {"instalment": instalment.id, "agreement": agreement.id,
               "approvers": [u.id for u in approvers],
               "finance": [u.id for u in approvers[1:]]}
        db.session.commit()
        return ids


def test_simultaneous_approvals_and_payments_pay_exactly_once(committed_app):
    ids = requested(committed_app)

    def approve(i):
        user = db.session.get(User, ids["approvers"][i % len(ids["approvers"])])
        services.approve(user, db.session.get(Instalment, ids["instalment"]))

    def pay(i):
        user = db.session.get(User, ids["finance"][i % len(ids["finance"])])
        services.pay(user, db.session.get(Instalment, ids["instalment"]),
                     paid_on=clock.today(), voucher_no=f"LY-{i:04d}")

    approvals = at_once(committed_app, approve, n=24)
    assert approvals.count("ok") == 1, approvals
    assert not [r for r in approvals if r.startswith("error")], approvals
    payments = at_once(committed_app, pay, n=24)
    assert payments.count("ok") == 1, payments
    assert not [r for r in payments if r.startswith("error")], payments

    with committed_app.app_context():
        instalment = db.session.get(Instalment, ids["instalment"])
        assert instalment.state is InstalmentState.PAID
        movements = db.session.scalars(sa.select(Movement)).all()
        assert len(movements) == 1 and movements[0].amount_fen == instalment.payable_fen
        from procurement.contracts.models import Agreement
        books = ledger.ledger(db.session.get(Agreement, ids["agreement"]))
        assert all(book.reconciles() for book in books)
        assert sum(book.paid for book in books) == instalment.payable_fen
        assert verify_chain().ok
