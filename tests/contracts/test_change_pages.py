"""Amendments (变更) and special-service agreements (专项服务合作协议) through the pages:
the contract manager proposes or drafts them, every party signs the version on screen, and
only then does an amendment change the agreement. Refusals write nothing; other
organisations see nothing; the auditor reads but never posts."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from conftest import row_counts
from contract_builder import TRAINING, WAGES
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.contracts import changes
from procurement.contracts.models import Amendment, Signature, SpecialAgreement
from procurement.contracts.states import BudgetCategory, DocumentState
from procurement.core.money import from_fen
from procurement.extensions import db as _db
from procurement.orgs.models import OrgKind

MOVED_FEN = 500_000  # 5,000 yuan moved from wages to training


def _yuan(fen: int) -> str:
    return f"{from_fen(fen):.2f}"


def _amendment_data(agreement, contracts, reason="培训需求增加，调整预算科目。", moved=MOVED_FEN,
                    end_date=None):
    """The form as the page fills it, with `moved` fen taken from wages into training for the
    first community (both lines change, the sum stays exact when `moved` is balanced)."""
    data = {"reason": reason, "end_date": (end_date or agreement.end_date).isoformat()}
    budget = contracts.budget_of(agreement)
    for community_id, amount in contracts.amounts_of(agreement).items():
        data[f"amount_{community_id}"] = _yuan(amount)
        for category, fen in budget[community_id].items():
            data[f"budget_{community_id}_{category.value}"] = _yuan(fen)
    first = agreement.communities[0].community_id
    data[f"budget_{first}_{TRAINING.value}"] = _yuan(budget[first][TRAINING] + moved)
    data[f"budget_{first}_{WAGES.value}"] = _yuan(budget[first][WAGES] - MOVED_FEN)
    return data


def _new_amendment_url(agreement):
    return f"/contracts/agreements/{agreement.id}/amendments/new"


def _propose(sign_in, contracts, agreement, **kwargs):
    response = sign_in(contracts.manager).post(_new_amendment_url(agreement),
                                               data=_amendment_data(agreement, contracts, **kwargs))
    assert response.status_code == 302, response.get_data(as_text=True)
    amendment = _db.session.scalar(
        sa.select(Amendment).where(Amendment.agreement_id == agreement.id)
        .order_by(Amendment.number.desc()))
    assert response.headers["Location"].endswith(f"/contracts/amendments/{amendment.id}")
    return amendment


def _sign(client, kind, document, shown_hash=None):
    return client.post(f"/contracts/{kind}/{document.id}/sign",
                       data={"shown_hash": shown_hash or document.content_hash})


def _actions(action):
    return list(_db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def _special_data(agreement, **overrides):
    data = {"title": "防汛应急值守", "content": "汛期组织社工参与防汛应急值守和受灾居民走访。",
            "start_date": agreement.start_date.isoformat(),
            "end_date": (agreement.start_date + timedelta(days=60)).isoformat(),
            f"budget_{BudgetCategory.WAGES.value}": "20000",
            f"budget_{BudgetCategory.ACTIVITIES.value}": "5,000.50",
            f"budget_{BudgetCategory.TAX.value}": ""}
    data.update(overrides)
    return data


# --- amendments ----------------------------------------------------------------------------


def test_amendment_changes_the_agreement_only_after_all_four_parties_signed_on_the_pages(
        contracts, sign_in):
    coop = contracts.in_force()
    agreement = coop.agreements[0]
    community = agreement.communities[0].community_id
    budget_before = contracts.budget_of(agreement)
    hash_before = agreement.content_hash

    form = sign_in(contracts.manager).get(_new_amendment_url(agreement)).get_data(as_text=True)
    # Prefilled with the current values.
    assert f'value="{_yuan(budget_before[community][TRAINING])}"' in form
    assert f'value="{agreement.end_date.isoformat()}"' in form

    amendment = _propose(sign_in, contracts, agreement)
    assert amendment.number == 1 and amendment.state is DocumentState.DRAFT
    assert {c["field"] for c in amendment.changes} == {f"budget:{community}:training",
                                                       f"budget:{community}:wages"}

    signers = contracts.signers(coop)
    assert len(signers) == 4
    page = sign_in(signers[0]).get(f"/contracts/amendments/{amendment.id}").get_data(as_text=True)
    assert "培训需求增加" in page
    assert "培训费" in page and "工资福利" in page
    before_training, after_training = (budget_before[community][TRAINING],
                                       budget_before[community][TRAINING] + MOVED_FEN)
    assert f"¥{from_fen(before_training):,.2f}" in page
    assert f"¥{from_fen(after_training):,.2f}" in page
    assert amendment.content_hash in page and 'name="shown_hash"' in page
    assert "下一步" in page

    for user in signers[:-1]:
        assert _sign(sign_in(user), "amendments", amendment).status_code == 302
        _db.session.refresh(amendment)
        assert amendment.state is DocumentState.SIGNING
        assert contracts.budget_of(agreement) == budget_before  # not yet in force
        assert agreement.content_hash == hash_before
    assert not _actions("agreement.amend")
    page = sign_in(signers[-1]).get(f"/contracts/amendments/{amendment.id}").get_data(as_text=True)
    assert "尚未签署" in page and contracts.agency_user(coop).org.name in page

    assert _sign(sign_in(signers[-1]), "amendments", amendment).status_code == 302
    _db.session.refresh(amendment)
    assert amendment.state is DocumentState.IN_FORCE
    budget_after = contracts.budget_of(agreement)
    assert budget_after[community][TRAINING] == after_training
    assert budget_after[community][WAGES] == budget_before[community][WAGES] - MOVED_FEN
    assert sum(budget_after[community].values()) == contracts.amounts_of(agreement)[community]
    assert agreement.content_hash != hash_before
    entries = _actions("agreement.amend")
    assert len(entries) == 1 and entries[0].object_id == str(agreement.id)
    assert entries[0].after["amendment"] == 1
    page = sign_in(contracts.leader).get(f"/contracts/amendments/{amendment.id}")
    assert "已生效" in page.get_data(as_text=True)
    assert 'name="shown_hash"' not in page.get_data(as_text=True)


def test_amendment_whose_lines_do_not_add_up_is_refused_and_nothing_written(contracts, sign_in):
    agreement = contracts.in_force().agreements[0]
    budget = contracts.budget_of(agreement)
    manager = sign_in(contracts.manager)
    before = row_counts(Amendment, AuditEntry)
    response = manager.post(
        _new_amendment_url(agreement),
        data=_amendment_data(agreement, contracts, moved=MOVED_FEN + 1))  # one fen too many
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "须分毫不差" in html and "多 ¥0.01" in html
    assert row_counts(Amendment, AuditEntry) == before
    assert contracts.budget_of(agreement) == budget


def test_amendment_that_changes_nothing_is_refused(contracts, sign_in):
    agreement = contracts.in_force().agreements[0]
    manager = sign_in(contracts.manager)
    before = row_counts(Amendment, AuditEntry)
    response = manager.post(
        _new_amendment_url(agreement), data=_amendment_data(agreement, contracts, moved=0)
        | {f"budget_{agreement.communities[0].community_id}_{WAGES.value}":
           _yuan(contracts.budget_of(agreement)[agreement.communities[0].community_id][WAGES])})
    assert response.status_code == 200
    assert "没有任何变更内容" in response.get_data(as_text=True)
    assert row_counts(Amendment, AuditEntry) == before


def test_amendment_of_an_agreement_not_yet_in_force_is_refused(contracts, sign_in):
    agreement = contracts.cooperation().agreements[0]  # nobody has signed yet
    manager = sign_in(contracts.manager)
    before = row_counts(Amendment, AuditEntry)
    response = manager.post(_new_amendment_url(agreement),
                                               data=_amendment_data(agreement, contracts))
    assert response.status_code == 200
    assert "年度协议生效后才能变更" in response.get_data(as_text=True)
    assert row_counts(Amendment, AuditEntry) == before


def test_a_second_open_amendment_is_refused(contracts, sign_in):
    agreement = contracts.in_force().agreements[0]
    first = _propose(sign_in, contracts, agreement)
    manager = sign_in(contracts.manager)
    before = row_counts(Amendment, AuditEntry)
    response = manager.post(
        _new_amendment_url(agreement),
        data=_amendment_data(agreement, contracts,
                             end_date=agreement.end_date - timedelta(days=30)))
    assert response.status_code == 200
    assert "已有一份变更在签署中" in response.get_data(as_text=True)
    assert row_counts(Amendment, AuditEntry) == before

    # Once the first is cancelled (作废) a new one may be proposed.
    refused = manager.post(f"/contracts/amendments/{first.id}/cancel", data={"reason": ""})
    assert refused.status_code == 200 and "请填写作废原因" in refused.get_data(as_text=True)
    assert manager.post(f"/contracts/amendments/{first.id}/cancel",
                        data={"reason": "方案调整"}).status_code == 302
    _db.session.refresh(first)
    assert first.state is DocumentState.CANCELLED
    assert _actions("amendment.cancel")
    second = _propose(sign_in, contracts, agreement)
    assert second.number == 2


def test_a_stale_shown_hash_is_refused(contracts, sign_in):
    coop = contracts.in_force()
    agreement = coop.agreements[0]
    amendment = _propose(sign_in, contracts, agreement)
    client = sign_in(contracts.leader)
    before = row_counts(Signature, AuditEntry)
    response = _sign(client, "amendments", amendment, shown_hash=agreement.content_hash)
    assert response.status_code == 302
    assert "不是最新版本" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert row_counts(Signature, AuditEntry) == before
    _db.session.refresh(amendment)
    assert amendment.state is DocumentState.DRAFT


def test_nobody_signs_twice_and_a_non_signer_gets_no_button(contracts, sign_in):
    coop = contracts.in_force()
    amendment = _propose(sign_in, contracts, coop.agreements[0])
    manager_page = sign_in(contracts.manager).get(f"/contracts/amendments/{amendment.id}")
    assert 'name="shown_hash"' not in manager_page.get_data(as_text=True)
    assert 'name="reason"' in manager_page.get_data(as_text=True)  # the manager may cancel
    client = sign_in(contracts.professor)
    assert _sign(client, "amendments", amendment).status_code == 302
    before = row_counts(Signature, AuditEntry)
    assert _sign(client, "amendments", amendment).status_code == 302
    assert row_counts(Signature, AuditEntry) == before
    page = client.get(f"/contracts/amendments/{amendment.id}").get_data(as_text=True)
    assert 'name="shown_hash"' not in page and "贵单位已签署本版本" in page


# --- special agreements --------------------------------------------------------------------


def test_special_agreement_with_its_budget_signed_by_all_is_in_force(contracts, sign_in):
    coop = contracts.in_force()
    agreement = coop.agreements[0]
    response = sign_in(contracts.manager).post(
        f"/contracts/agreements/{agreement.id}/specials/new", data=_special_data(agreement))
    assert response.status_code == 302, response.get_data(as_text=True)
    special = _db.session.scalar(sa.select(SpecialAgreement).where(
        SpecialAgreement.cooperation_id == coop.id))
    assert response.headers["Location"].endswith(f"/contracts/specials/{special.id}")
    assert special.amount_fen == 2_500_050
    assert special.budget == {"wages": 2_000_000, "activities": 500_050}

    page = sign_in(contracts.leader).get(f"/contracts/specials/{special.id}").get_data(as_text=True)
    assert "防汛应急值守" in page and "¥25,000.50" in page
    assert "贰万伍仟元伍角" in page  # the total in 大写
    assert "活动费" in page and "服务税费" not in page

    for user in contracts.signers(coop):
        assert _sign(sign_in(user), "specials", special).status_code == 302
    _db.session.refresh(special)
    assert special.state is DocumentState.IN_FORCE
    page = sign_in(contracts.committee_user).get(f"/contracts/specials/{special.id}")
    assert page.status_code == 200 and "已生效" in page.get_data(as_text=True)


def test_special_agreement_without_a_budget_is_refused_and_nothing_written(contracts, sign_in):
    agreement = contracts.in_force().agreements[0]
    manager = sign_in(contracts.manager)
    before = row_counts(SpecialAgreement, AuditEntry)
    data = _special_data(agreement, **{f"budget_{c.value}": "" for c in BudgetCategory})
    response = manager.post(
        f"/contracts/agreements/{agreement.id}/specials/new", data=data)
    assert response.status_code == 200
    assert "请填写专项服务的预算" in response.get_data(as_text=True)
    assert row_counts(SpecialAgreement, AuditEntry) == before


# --- who may see and do what -----------------------------------------------------------------


@pytest.fixture
def documents(contracts, sign_in):
    coop = contracts.in_force()
    agreement = coop.agreements[0]
    amendment = _propose(sign_in, contracts, agreement)
    special = changes.create_special(
        contracts.manager, agreement, title="应急防疫", content="协助开展应急防疫工作。",
        budget={BudgetCategory.WAGES: 1_000_000}, start_date=agreement.start_date,
        end_date=agreement.start_date + timedelta(days=30))
    return coop, agreement, amendment, special


def test_another_organisation_gets_403_and_cannot_sign(contracts, factory, sign_in, documents):
    coop, agreement, amendment, special = documents
    losing_agency = next(u for u in contracts.tenders.agency_users
                         if u.org_id != coop.agency_id)
    other_office = factory.org(OrgKind.STREET_OFFICE)
    outsiders = [losing_agency, factory.user(Role.LEADER, org=other_office),
                 factory.user(Role.CONTRACT_MANAGER, org=other_office),
                 factory.user(Role.COMMITTEE_STAFF, org=factory.community().committee),
                 factory.user(Role.UNIVERSITY_EVALUATOR)]
    clients = [(user, sign_in(user)) for user in outsiders]
    before = row_counts(Signature, Amendment, SpecialAgreement, AuditEntry)
    for user, client in clients:
        assert client.get(f"/contracts/amendments/{amendment.id}").status_code == 403, user
        assert client.get(f"/contracts/specials/{special.id}").status_code == 403, user
        if user.has_role(Role.CONTRACT_MANAGER):
            assert client.get(_new_amendment_url(agreement)).status_code == 403
            assert client.post(_new_amendment_url(agreement), data=_amendment_data(
                agreement, contracts, end_date=agreement.end_date)).status_code == 403
            assert client.post(f"/contracts/amendments/{amendment.id}/cancel",
                               data={"reason": "x"}).status_code == 403
            assert client.post(f"/contracts/agreements/{agreement.id}/specials/new",
                               data=_special_data(agreement)).status_code == 403
        else:
            assert _sign(client, "amendments", amendment).status_code == 403, user
            assert _sign(client, "specials", special).status_code == 403, user
    assert row_counts(Signature, Amendment, SpecialAgreement, AuditEntry) == before
    # The office's own tender officer reads, but manages nothing.
    officer = sign_in(contracts.tenders.officer)
    assert officer.get(f"/contracts/amendments/{amendment.id}").status_code == 200
    assert officer.get(_new_amendment_url(agreement)).status_code == 403


def test_auditor_can_view_but_not_post(contracts, factory, sign_in, documents):
    coop, agreement, amendment, special = documents
    auditor = sign_in(factory.user(Role.AUDITOR))
    page = auditor.get(f"/contracts/amendments/{amendment.id}")
    assert page.status_code == 200
    assert 'name="shown_hash"' not in page.get_data(as_text=True)
    assert 'name="reason"' not in page.get_data(as_text=True)
    assert auditor.get(f"/contracts/specials/{special.id}").status_code == 200
    before = row_counts(Signature, Amendment, SpecialAgreement, AuditEntry)
    assert _sign(auditor, "amendments", amendment).status_code == 403
    assert _sign(auditor, "specials", special).status_code == 403
    assert auditor.post(f"/contracts/amendments/{amendment.id}/cancel",
                        data={"reason": "x"}).status_code == 403
    assert auditor.post(f"/contracts/specials/{special.id}/cancel",
                        data={"reason": "x"}).status_code == 403
    assert auditor.get(_new_amendment_url(agreement)).status_code == 403
    assert auditor.post(f"/contracts/agreements/{agreement.id}/specials/new",
                        data=_special_data(agreement)).status_code == 403
    assert row_counts(Signature, Amendment, SpecialAgreement, AuditEntry) == before


def test_unknown_ids_are_404(contracts, sign_in):
    manager = sign_in(contracts.manager)
    for url in ("/contracts/amendments/999999", "/contracts/specials/999999",
                "/contracts/agreements/999999/amendments/new",
                "/contracts/agreements/999999/specials/new"):
        assert manager.get(url).status_code == 404, url
    assert manager.post("/contracts/specials/999999/cancel",
                        data={"reason": "x"}).status_code == 404
