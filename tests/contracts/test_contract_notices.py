"""Public contract notices (合同公示): anyone reads the key facts of a signed contract; a
draft or a contract still being signed is not public, nor anything internal to signing."""
from datetime import timedelta

from procurement.contracts import changes, services
from procurement.contracts.states import BudgetCategory, DocumentState
from procurement.core import clock
from procurement.core.money import format_fen


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def amend(contracts, agreement, amount_fen=42_000_000, reason="增加社区工作者培训场次"):
    community_id = agreement.communities[0].community_id
    budget = contracts.budget_of(agreement)
    budget[community_id][BudgetCategory.TRAINING] += amount_fen - agreement.communities[0].amount_fen
    with clock.frozen(contracts.when(agreement.cooperation.tender, 5)):
        return changes.propose_amendment(contracts.manager, agreement, reason=reason,
                                         end_date=agreement.end_date,
                                         amounts={community_id: amount_fen}, budget=budget)


def test_anyone_sees_a_signed_agreement_with_its_parties_amount_and_term(contracts, client):
    cooperation = contracts.in_force()
    agreement = cooperation.agreements[0]

    listing = page(client, "/notices/contracts")
    assert agreement.number in listing and cooperation.title in listing
    assert cooperation.agency.name in listing and cooperation.street_office.name in listing
    assert cooperation.university.name in listing
    assert contracts.tenders.community.committee.name in listing
    assert format_fen(40_000_000) in listing and str(agreement.start_date) in listing

    html = page(client, f"/notices/contracts/{agreement.id}")
    assert agreement.number in html and format_fen(40_000_000) in html
    assert "人民币肆拾万元整" in html
    assert str(agreement.start_date) in html and str(agreement.end_date) in html
    assert str(cooperation.end_date) in html
    for party in agreement.parties:
        assert party.org.name in html
    # A link back to the tender's award notice.
    assert f'href="/notices/{cooperation.tender_id}"' in html


def test_the_notice_shows_nothing_internal_to_signing(contracts, client):
    cooperation = contracts.in_force()
    agreement = cooperation.agreements[0]
    html = page(client, f"/notices/contracts/{agreement.id}")
    listing = page(client, "/notices/contracts")
    assert agreement.content_hash not in html and agreement.content_hash[:12] not in html
    for signer in contracts.signers(cooperation):
        assert signer.name not in html and signer.name not in listing


def test_drafts_and_agreements_being_signed_are_not_public(contracts, client):
    draft = contracts.cooperation().agreements[0]
    assert client.get(f"/notices/contracts/{draft.id}").status_code == 404

    with clock.frozen(contracts.when(draft.cooperation.tender, 3)):
        services.sign_agreement(contracts.leader, draft, draft.content_hash)
    assert draft.state is DocumentState.SIGNING
    assert client.get(f"/notices/contracts/{draft.id}").status_code == 404
    listing = page(client, "/notices/contracts")
    assert draft.number not in listing and "暂无已生效的协议" in listing


def test_an_unknown_agreement_is_not_found(client):
    assert client.get("/notices/contracts/999999").status_code == 404


def test_amendments_in_force_are_published_and_pending_ones_are_not(contracts, client):
    cooperation = contracts.in_force()
    agreement = cooperation.agreements[0]
    amendment = amend(contracts, agreement)

    html = page(client, f"/notices/contracts/{agreement.id}")
    assert "增加社区工作者培训场次" not in html and format_fen(40_000_000) in html
    assert format_fen(42_000_000) not in html

    contracts.sign_all(amendment, days=6)
    html = page(client, f"/notices/contracts/{agreement.id}")
    assert "第 1 号变更" in html and "增加社区工作者培训场次" in html
    assert format_fen(40_000_000) in html and format_fen(42_000_000) in html  # before, after
    assert "人民币肆拾贰万元整" in html  # the amount in force now
    assert format_fen(42_000_000) in page(client, "/notices/contracts")


def test_special_agreements_in_force_are_listed_and_drafts_are_not(contracts, client):
    cooperation = contracts.in_force()
    agreement = cooperation.agreements[0]
    start = agreement.start_date
    with clock.frozen(contracts.when(cooperation.tender, 5)):
        signed = changes.create_special(
            contracts.manager, agreement, title="防汛应急值守", content="汛期应急值守与转移安置协助。",
            budget={BudgetCategory.WAGES: 3_000_000, BudgetCategory.ACTIVITIES: 500_000},
            start_date=start, end_date=start + timedelta(days=30))
    contracts.sign_all(signed, days=6)
    with clock.frozen(contracts.when(cooperation.tender, 7)):
        changes.create_special(
            contracts.manager, agreement, title="人口普查入户协助", content="协助入户登记。",
            budget={BudgetCategory.WAGES: 1_000_000}, start_date=start, end_date=start)
    assert signed.state is DocumentState.IN_FORCE

    listing = page(client, "/notices/contracts?kind=special")
    assert "防汛应急值守" in listing and format_fen(3_500_000) in listing
    assert cooperation.agency.name in listing
    assert "人口普查入户协助" not in listing
    html = page(client, f"/notices/contracts/{agreement.id}")
    assert "防汛应急值守" in html and "人口普查入户协助" not in html
    assert "防汛应急值守" not in page(client, "/notices/contracts")  # not an annual agreement
