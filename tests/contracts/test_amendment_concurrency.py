"""Signatures and changes at the same moment (PostgreSQL), beyond test_signing_concurrency.py:
every party signing an amendment at once applies it once, every party signing a special
agreement at once schedules its instalment once, proposals and special agreements created at
once get one open amendment and distinct numbers, and an edit racing the signatures never
brings a version into force that was not signed by every party."""
from datetime import timedelta

import sqlalchemy as sa

from conftest import Factory, at_once
from contracts.contract_builder import ContractBuilder
from procurement.accounts.models import User
from procurement.audit.models import AuditEntry
from procurement.audit.services import verify_chain
from procurement.contracts import changes, services, signing
from procurement.contracts.models import Agreement, Amendment, SpecialAgreement
from procurement.contracts.states import BudgetCategory, DocumentState
from procurement.core.calendar import now_utc
from procurement.disbursements.models import Account
from procurement.extensions import db
from tenders.tender_builder import TenderBuilder

A, T, W = BudgetCategory.ACTIVITIES, BudgetCategory.TRAINING, BudgetCategory.WAGES
DELTA = 600_000


def setup(app, *, in_force=True, amendment=False, special=False) -> dict:
    with app.app_context():
        contracts = ContractBuilder(Factory(), TenderBuilder(
            Factory(), start=now_utc() - timedelta(days=30)))
        coop = contracts.in_force() if in_force else contracts.cooperation()
        agreement = coop.agreements[0]
        ids = {"agreement": agreement.id, "cooperation": coop.id,
               "manager": contracts.manager.id,
               "signers": [u.id for u in contracts.signers(coop)]}
        if amendment:
            ids["amendment"] = changes.propose_amendment(
                contracts.manager, agreement, reason="增加培训", end_date=agreement.end_date,
                amounts=contracts.amounts_of(agreement), budget=moved_budget(contracts, agreement)).id
        if special:
            ids["special"] = changes.create_special(
                contracts.manager, agreement, title="台风灾后排查", content="入户排查受灾情况",
                budget={W: 2_000_000, A: 1_000_000}, start_date=agreement.start_date,
                end_date=agreement.start_date + timedelta(days=30)).id
        ids["training"] = training_fen(agreement)
        db.session.commit()
        return ids


def moved_budget(contracts, agreement):
    budget = contracts.budget_of(agreement)
    community_id = next(iter(budget))
    budget[community_id][A] -= DELTA
    budget[community_id][T] += DELTA
    return budget


def training_fen(agreement) -> int:
    return sum(line.amount_fen for line in agreement.budget_lines if line.category is T)


def person(ids, i: int, key="signers") -> User:
    people = ids[key] if isinstance(ids[key], list) else [ids[key]]
    return db.session.get(User, people[i % len(people)])


def errors(results):
    return [r for r in results if r.startswith("error")]


def count(action: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == action))


def test_every_party_signing_an_amendment_at_once_applies_it_once(committed_app):
    ids = setup(committed_app, amendment=True)

    def sign(i):
        amendment = db.session.get(Amendment, ids["amendment"])
        changes.sign_amendment(person(ids, i), amendment, amendment.content_hash)

    results = at_once(committed_app, sign)  # each of the four parties three times
    assert results.count("ok") == 4 and not errors(results), results
    with committed_app.app_context():
        amendment = db.session.get(Amendment, ids["amendment"])
        agreement = db.session.get(Agreement, ids["agreement"])
        assert amendment.state is DocumentState.IN_FORCE
        assert training_fen(agreement) == ids["training"] + DELTA
        assert sum(line.amount_fen for line in agreement.budget_lines) == agreement.amount_fen
        assert count("agreement.amend") == 1 and count("amendment.sign") == 4
        assert verify_chain().ok


def test_simultaneous_proposals_leave_one_amendment_open(committed_app):
    ids = setup(committed_app)

    def propose(i):
        agreement = db.session.get(Agreement, ids["agreement"])
        budget = {}
        for line in agreement.budget_lines:
            budget.setdefault(line.community_id, {})[line.category] = line.amount_fen
        community_id = next(iter(budget))
        budget[community_id][A] -= 1000 * (i + 1)
        budget[community_id][T] += 1000 * (i + 1)
        changes.propose_amendment(person(ids, i, "manager"), agreement, reason=f"调整{i}",
                                  end_date=agreement.end_date,
                                  amounts={c.community_id: c.amount_fen
                                           for c in agreement.communities}, budget=budget)

    results = at_once(committed_app, propose)
    assert results.count("ok") == 1 and not errors(results), results
    assert all("签署中" in r for r in results if r != "ok"), results
    with committed_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Amendment)) == 1
        assert verify_chain().ok


def test_every_party_signing_a_special_agreement_at_once_schedules_it_once(committed_app):
    ids = setup(committed_app, special=True)

    def sign(i):
        special = db.session.get(SpecialAgreement, ids["special"])
        changes.sign_special(person(ids, i), special, special.content_hash)

    results = at_once(committed_app, sign)
    assert results.count("ok") == 4 and not errors(results), results
    with committed_app.app_context():
        assert db.session.get(SpecialAgreement, ids["special"]).state is DocumentState.IN_FORCE
        accounts = db.session.scalars(sa.select(Account).where(
            Account.special_agreement_id == ids["special"])).all()
        assert len(accounts) == 1 and len(accounts[0].instalments) == 1
        assert accounts[0].limit_fen == 3_000_000
        assert verify_chain().ok


def test_special_agreements_created_at_once_get_distinct_numbers(committed_app):
    ids = setup(committed_app)

    def create(i):
        agreement = db.session.get(Agreement, ids["agreement"])
        changes.create_special(person(ids, i, "manager"), agreement, title=f"专项{i}",
                               content="入户排查", budget={W: 100_000 * (i + 1)},
                               start_date=agreement.start_date,
                               end_date=agreement.start_date + timedelta(days=30))

    results = at_once(committed_app, create, n=6)
    assert results == ["ok"] * 6, results
    with committed_app.app_context():
        numbers = db.session.scalars(sa.select(SpecialAgreement.number)).all()
        assert sorted(numbers) == [1, 2, 3, 4, 5, 6]
        assert verify_chain().ok


def test_an_edit_racing_the_signatures_never_brings_an_unsigned_version_into_force(committed_app):
    ids = setup(committed_app, in_force=False)
    with committed_app.app_context():
        shown = db.session.get(Agreement, ids["agreement"]).content_hash

    def work(i):
        agreement = db.session.get(Agreement, ids["agreement"])
        if i % 3 == 2:  # the contract manager edits the duties while the parties sign
            services.update_duties(person(ids, i, "manager"), agreement,
                                   {p.org_id: f"职责第{i}稿" for p in agreement.parties})
        else:  # each party signs what it read before any edit
            services.sign_agreement(person(ids, i), agreement, shown)

    results = at_once(committed_app, work)
    assert not errors(results), results
    with committed_app.app_context():
        agreement = db.session.get(Agreement, ids["agreement"])
        current = signing.signatures(agreement)
        assert all(s.content_hash == agreement.content_hash == signing.compute_hash(agreement)
                   for s in current)
        assert len({s.org_id for s in current}) == len(current)
        parties = {p.org_id for p in agreement.parties}
        if agreement.state is DocumentState.IN_FORCE:
            assert {s.org_id for s in current} == parties
            assert agreement.content_hash == shown  # only the version they all read
        else:
            assert {s.org_id for s in current} < parties
        assert verify_chain().ok
