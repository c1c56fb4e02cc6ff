"""Parties signing at the same moment (PostgreSQL): every signature counts once, the agreement
comes into force once, and a double click never signs twice."""
from datetime import timedelta

import sqlalchemy as sa

from conftest import Factory, at_once
from contracts.contract_builder import ContractBuilder
from procurement.accounts.models import User
from procurement.audit.models import AuditEntry
from procurement.audit.services import verify_chain
from procurement.contracts import services
from procurement.contracts.models import Agreement, Signature
from procurement.contracts.states import CooperationState, DocumentState
from procurement.core.calendar import now_utc
from procurement.extensions import db
from tenders.tender_builder import TenderBuilder



def in_draft(app):
    with app.app_context():
        tenders = TenderBuilder(Factory(), start=now_utc() - timedelta(days=30))
        contracts = ContractBuilder(Factory(), tenders)
        coop = contracts.cooperation()
        ids = {"agreement": coop.agreements[0].id,
               "signers": [u.id for u in contracts.signers(coop)]}
        db.session.commit()
        return ids


def sign_as(ids, user_id):
    agreement = db.session.get(Agreement, ids["agreement"])
    services.sign_agreement(db.session.get(User, user_id), agreement, agreement.content_hash)


def test_all_parties_signing_at_once_bring_the_agreement_into_force_once(committed_app):
    ids = in_draft(committed_app)
    signers = ids["signers"] * 3  # each party clicks three times

    results = at_once(committed_app, lambda i: sign_as(ids, signers[i]), n=len(signers))
    assert results.count("ok") == len(ids["signers"]), results
    assert not [r for r in results if r.startswith("error")], results
    with committed_app.app_context():
        agreement = db.session.get(Agreement, ids["agreement"])
        assert agreement.state is DocumentState.IN_FORCE
        assert agreement.cooperation.state is CooperationState.ACTIVE
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 4
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "cooperation.activate")) == 1
        assert verify_chain().ok
