"""The contract pages: a contract manager turns an awarded tender into a cooperation and its
first annual agreement, edits the draft, and each party signs the version on screen. Refused
input is shown with the service's message and writes nothing; other organisations see
nothing and sign nothing; the auditor reads but never posts.

Pages run on the real clock, so every test first moves the tender timeline relative to now
with `contracts.tenders.started(days_ago)`."""
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from conftest import row_counts
from contract_builder import TRAINING, WAGES
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.contracts import rules, services, signing
from procurement.contracts.models import (Agreement, AgreementCommunity, AgreementParty,
                                          BudgetLine, Cooperation, Signature, SubContract)
from procurement.contracts.states import (BudgetCategory, CooperationState, DocumentState,
                                          EvaluationSource, Grade)
from procurement.core import clock
from procurement.core.calendar import local_today
from procurement.core.money import from_fen
from procurement.extensions import db as _db
from procurement.orgs.models import OrgKind
from procurement.tenders import award, evaluation


def _counts():
    return row_counts(Cooperation, Agreement, AgreementParty, AgreementCommunity, BudgetLine,
                      SubContract, Signature, AuditEntry)


def _reload(obj):
    _db.session.refresh(obj)
    return obj


def _yuan(fen: int) -> str:
    return f"{from_fen(fen):.2f}"


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def recent(contracts):
    """The award notice went out a week ago: the 30-day signing period is running."""
    contracts.tenders.started(30)
    return contracts


def _create_data(contracts, years=3, justification="服务稳定持续，资金有保障", amount="400000",
                 start=None):
    start = start or local_today().replace(day=1) + timedelta(days=40)
    end = rules.year_end(start, years)
    return {"university": str(contracts.university.id), "start_date": start.isoformat(),
            "end_date": end.isoformat(), "justification": justification, "amount": amount}


def _terms_data(agreement, contracts):
    """The terms form as the page fills it."""
    data = {"start_date": agreement.start_date.isoformat(),
            "end_date": agreement.end_date.isoformat()}
    budget = contracts.budget_of(agreement)
    for community_id, amount in contracts.amounts_of(agreement).items():
        data[f"amount_{community_id}"] = _yuan(amount)
        for category in BudgetCategory:
            data[f"budget_{community_id}_{category.value}"] = _yuan(
                budget[community_id].get(category, 0))
    return data


def _shown_hash(html: str) -> str:
    match = re.search(r'name="shown_hash"[^>]*value="([0-9a-f]{64})"', html) or re.search(
        r'value="([0-9a-f]{64})"[^>]*name="shown_hash"', html)
    assert match, "no sign form on the page"
    return match.group(1)


def _sign_on_page(sign_in, user, agreement):
    """Open the agreement page as the user and sign the version it shows."""
    client = sign_in(user)
    html = _text(client.get(f"/contracts/agreements/{agreement.id}"))
    return client, client.post(f"/contracts/agreements/{agreement.id}/sign",
                               data={"shown_hash": _shown_hash(html)}, follow_redirects=True)


# --- creating a cooperation --------------------------------------------------------------


def test_manager_creates_a_cooperation_from_an_awarded_tender(recent, sign_in):
    tender = recent.awarded()
    client = sign_in(recent.manager)
    index = _text(client.get("/contracts/"))
    assert "已定标、尚未建立合作的项目" in index and tender.number in index
    assert f"/contracts/new/{tender.id}" in index
    form = _text(client.get(f"/contracts/new/{tender.id}"))
    assert recent.university.name in form and "400000.00" in form
    assert f"{services.sign_due(tender):%Y-%m-%d}" in form

    response = client.post(f"/contracts/new/{tender.id}", data=_create_data(recent))
    assert response.status_code == 302, _text(response)
    cooperation = _db.session.scalar(sa.select(Cooperation).where(Cooperation.tender_id == tender.id))
    assert response.headers["Location"].endswith(f"/contracts/{cooperation.id}")
    assert cooperation.university_id == recent.university.id
    assert cooperation.justification == "服务稳定持续，资金有保障"
    first = cooperation.agreements[0]
    assert [c.amount_fen for c in first.communities] == [40_000_000]
    assert {p.org_id for p in first.parties} == {
        recent.tenders.office.id, recent.tenders.community.committee_id, recent.university.id,
        cooperation.agency_id}

    page = _text(client.get(response.headers["Location"]))
    assert cooperation.number in page and "下一步" in page and "第 1 年度" in page
    assert f"{first.sign_due:%Y-%m-%d}" in page
    assert tender.number not in _text(client.get("/contracts/")).split("合同编号")[0]


def test_an_empty_amount_splits_the_winning_price(recent, sign_in):
    tender = recent.awarded()
    response = sign_in(recent.manager).post(f"/contracts/new/{tender.id}",
                                            data=_create_data(recent, amount=""))
    assert response.status_code == 302
    cooperation = _db.session.scalar(sa.select(Cooperation).where(Cooperation.tender_id == tender.id))
    assert cooperation.agreements[0].amount_fen == tender.awarded_bid.price_fen


def test_create_is_refused_while_a_challenge_may_change_the_result(recent, sign_in):
    tender = recent.awarded()
    loser = evaluation.final_ranking(tender)[-1].bid
    with clock.frozen(recent.when(tender, 1)):
        award.file_challenge(None, tender, loser, "评分有误")
    client = sign_in(recent.manager)
    index = _text(client.get("/contracts/"))
    assert "可能影响中标结果的质疑尚未处理" in index
    assert f"/contracts/new/{tender.id}" not in index  # no create link, the reason instead
    before = _counts()
    response = client.post(f"/contracts/new/{tender.id}", data=_create_data(recent))
    assert response.status_code == 200
    assert "可能影响中标结果的质疑尚未处理" in _text(response)
    assert _counts() == before


@pytest.mark.parametrize("years, justification, message", [
    (4, "服务稳定持续，资金有保障", "合作期最长 3 年"),
    (3, "", "须写明理由"),
])
def test_term_limits_are_refused_and_nothing_written(recent, sign_in, years, justification,
                                                     message):
    tender = recent.awarded()
    client = sign_in(recent.manager)  # signing in is audited: count after it
    before = _counts()
    response = client.post(f"/contracts/new/{tender.id}",
                           data=_create_data(recent, years, justification))
    assert response.status_code == 200
    assert message in _text(response)
    assert _counts() == before


def test_only_the_offices_contract_manager_creates(recent, factory, sign_in):
    tender = recent.awarded()
    stranger = factory.user(Role.CONTRACT_MANAGER, org=factory.org(OrgKind.STREET_OFFICE))
    assert sign_in(stranger).post(f"/contracts/new/{tender.id}",
                                  data=_create_data(recent)).status_code == 403
    assert sign_in(recent.leader).get(f"/contracts/new/{tender.id}").status_code == 403
    assert Cooperation.query.count() == 0


# --- the cooperation page ---------------------------------------------------------------


def test_signing_deadline_is_shown_and_warned_when_passed(contracts, sign_in):
    contracts.tenders.started(60)  # the notice went out more than 30 days ago
    cooperation = contracts.cooperation()
    page = _text(sign_in(contracts.manager).get(f"/contracts/{cooperation.id}"))
    due = cooperation.agreements[0].sign_due
    assert due < local_today()
    assert f"签订期限 {due:%Y-%m-%d} 已过" in page


def test_signing_deadline_warns_when_a_week_or_less_is_left(contracts, sign_in):
    contracts.tenders.started(50)  # the notice went out about 27 days ago
    cooperation = contracts.cooperation()
    left = (cooperation.agreements[0].sign_due - local_today()).days
    assert 0 <= left <= rules.SIGN_WARNING_DAYS
    page = _text(sign_in(contracts.leader).get(f"/contracts/{cooperation.id}"))
    assert f"只剩 {left} 天" in page


def test_manager_finds_amendments_and_special_agreements_from_the_cooperation(recent, factory,
                                                                              sign_in):
    cooperation = recent.in_force()
    page = _text(sign_in(recent.manager).get(f"/contracts/{cooperation.id}"))
    assert "提出变更" in page and "新建专项服务合作协议" in page
    auditor = factory.user(Role.AUDITOR, org=factory.org(OrgKind.GOVERNMENT))
    page = _text(sign_in(auditor).get(f"/contracts/{cooperation.id}"))
    assert "提出变更" not in page and "新建专项服务合作协议" not in page
    assert "终止原因" not in page and "起草下一年度协议" not in page


def test_signing_deadline_without_warning_while_far(recent, sign_in):
    cooperation = recent.cooperation()
    page = _text(sign_in(recent.manager).get(f"/contracts/{cooperation.id}"))
    assert f"签订期限：{cooperation.agreements[0].sign_due:%Y-%m-%d}" in page
    assert "已过" not in page and "只剩" not in page


def test_terminate_needs_a_reason(recent, sign_in):
    cooperation = recent.in_force()
    client = sign_in(recent.manager)
    before = _counts()
    response = client.post(f"/contracts/{cooperation.id}/terminate", data={"reason": ""})
    assert "请填写终止原因" in _text(response)
    assert _counts() == before and _reload(cooperation).state is CooperationState.ACTIVE
    response = client.post(f"/contracts/{cooperation.id}/terminate",
                           data={"reason": "承包方严重违约"}, follow_redirects=True)
    assert _reload(cooperation).state is CooperationState.TERMINATED
    assert "承包方严重违约" in _text(response)


def test_renewal_is_drafted_from_the_page_and_waits_for_the_grade(recent, sign_in):
    cooperation = recent.in_force()
    first = cooperation.agreements[0]
    client = sign_in(recent.manager)
    assert f"/contracts/agreements/{first.id}/renew" in _text(client.get(f"/contracts/{cooperation.id}"))
    response = client.post(f"/contracts/agreements/{first.id}/renew")
    assert response.status_code == 302
    renewal = _reload(cooperation).agreements[1]
    assert renewal.year_no == 2 and renewal.state is DocumentState.DRAFT
    page = _text(client.get(response.headers["Location"]))
    assert "上一年度的评估结果尚未确定" in page
    # A signer sees the gate instead of the sign button, and a posted signature is refused.
    leader = sign_in(recent.leader)
    html = _text(leader.get(f"/contracts/agreements/{renewal.id}"))
    assert "上一年度的评估结果尚未确定" in html and "shown_hash" not in html
    signed = leader.post(f"/contracts/agreements/{renewal.id}/sign",
                         data={"shown_hash": renewal.content_hash}, follow_redirects=True)
    assert "上一年度的评估结果尚未确定" in _text(signed)
    assert signing.signatures(renewal) == []
    first.annual_grade = Grade.GOOD
    _db.session.commit()
    assert "上一年度的评估结果尚未确定" not in _text(client.get(response.headers["Location"]))
    _, signed = _sign_on_page(sign_in, recent.leader, renewal)
    assert len(signing.signatures(_reload(renewal))) == 1


# --- the agreement page -------------------------------------------------------------------


def test_agreement_page_shows_parties_money_budget_settings_and_version(recent, sign_in):
    cooperation = recent.cooperation()
    agreement = cooperation.agreements[0]
    page = _text(sign_in(recent.manager).get(f"/contracts/agreements/{agreement.id}"))
    for party in agreement.parties:
        assert party.org.name in page and party.role.label in page
        assert party.duties[:10] in page
    for sub in agreement.sub_contracts:
        assert sub.title in page
    assert "¥400,000.00" in page and "人民币肆拾万元整" in page
    assert BudgetCategory.WAGES.label in page and "合计" in page
    assert "街道办事处评价" in page and "30%" in page and "90 分及以上" in page
    assert agreement.content_hash in page and "第 1 版" in page
    assert f"/contracts/agreements/{agreement.id}.pdf" in page
    assert "shown_hash" not in page  # the manager does not sign


def test_each_party_signs_through_the_page(recent, sign_in):
    cooperation = recent.cooperation()
    agreement = cooperation.agreements[0]
    signers = recent.signers(cooperation)
    for n, user in enumerate(signers, start=1):
        _, response = _sign_on_page(sign_in, user, agreement)
        assert "已代表" in _text(response)
        assert len(signing.signatures(_reload(agreement))) == n
    assert agreement.state is DocumentState.IN_FORCE
    assert _reload(cooperation).state is CooperationState.ACTIVE
    page = _text(sign_in(recent.manager).get(f"/contracts/agreements/{agreement.id}"))
    assert all(user.name in page for user in signers)
    assert "未签署" not in page
    # Nothing left to sign: no button, and a second click is refused.
    client = sign_in(recent.leader)
    assert "shown_hash" not in _text(client.get(f"/contracts/agreements/{agreement.id}"))
    before = _counts()
    client.post(f"/contracts/agreements/{agreement.id}/sign",
                data={"shown_hash": agreement.content_hash})
    assert _counts() == before


def test_a_challenge_after_the_draft_stops_signing_on_the_page(recent, sign_in):
    cooperation = recent.cooperation()
    agreement = cooperation.agreements[0]
    loser = evaluation.final_ranking(cooperation.tender)[-1].bid
    with clock.frozen(recent.when(cooperation.tender, 1)):
        award.file_challenge(None, cooperation.tender, loser, "资格有误")
    _db.session.commit()
    client = sign_in(recent.leader)
    html = _text(client.get(f"/contracts/agreements/{agreement.id}"))
    assert "暂停签订合同" in html and "shown_hash" not in html
    before = _counts()
    response = client.post(f"/contracts/agreements/{agreement.id}/sign",
                           data={"shown_hash": agreement.content_hash}, follow_redirects=True)
    assert "暂停签订合同" in _text(response)
    assert _counts() == before


def test_a_stale_shown_hash_is_refused(recent, sign_in):
    agreement = recent.cooperation().agreements[0]
    client = sign_in(recent.leader)
    stale = _shown_hash(_text(client.get(f"/contracts/agreements/{agreement.id}")))
    with clock.frozen(recent.when(agreement.cooperation.tender, 3)):
        services.update_duties(recent.manager, agreement,
                               {p.org_id: p.duties + "（补充）" for p in agreement.parties})
    _db.session.commit()
    before = _counts()
    response = client.post(f"/contracts/agreements/{agreement.id}/sign",
                           data={"shown_hash": stale}, follow_redirects=True)
    assert "不是最新版本" in _text(response)
    assert _counts() == before


def test_another_organisation_can_neither_sign_nor_view(recent, factory, sign_in):
    cooperation = recent.cooperation()
    agreement = cooperation.agreements[0]
    loser_index = next(i for i, a in enumerate(recent.tenders.agencies)
                       if a.id != cooperation.agency_id)
    outsiders = [factory.user(Role.LEADER, org=factory.org(OrgKind.STREET_OFFICE)),
                 factory.user(Role.CONTRACT_MANAGER, org=factory.org(OrgKind.STREET_OFFICE)),
                 recent.tenders.agency_users[loser_index],
                 factory.user(Role.UNIVERSITY_EVALUATOR, org=factory.org(OrgKind.UNIVERSITY))]
    clients = [(user, sign_in(user)) for user in outsiders]
    before = _counts()
    for user, client in clients:
        assert client.get(f"/contracts/{cooperation.id}").status_code == 403
        assert client.get(f"/contracts/agreements/{agreement.id}").status_code == 403
        assert cooperation.number not in _text(client.get("/contracts/"))
        if not user.has_role(Role.CONTRACT_MANAGER):
            response = client.post(f"/contracts/agreements/{agreement.id}/sign",
                                   data={"shown_hash": agreement.content_hash})
            assert response.status_code == 403
    assert _counts() == before


def test_each_party_sees_its_own_cooperation_in_the_list(recent, sign_in):
    cooperation = recent.cooperation()
    for user in recent.signers(cooperation):
        client = sign_in(user)
        assert cooperation.number in _text(client.get("/contracts/"))
        assert client.get(f"/contracts/{cooperation.id}").status_code == 200


def test_editing_after_a_signature_clears_the_signatures(recent, sign_in):
    agreement = recent.cooperation().agreements[0]
    _sign_on_page(sign_in, recent.leader, agreement)
    assert _reload(agreement).state is DocumentState.SIGNING
    client = sign_in(recent.manager)
    form = _text(client.get(f"/contracts/agreements/{agreement.id}/duties"))
    assert "保存后这些签署将全部作废" in form and recent.tenders.office.name in form
    data = {f"duties_{p.org_id}": p.duties for p in agreement.parties}
    data[f"duties_{agreement.parties[0].org_id}"] += "每季度召开一次联席会议。"
    response = client.post(f"/contracts/agreements/{agreement.id}/duties", data=data,
                           follow_redirects=True)
    assert "原有签署已作废" in _text(response)
    assert _reload(agreement).version == 2 and agreement.state is DocumentState.DRAFT
    page = _text(client.get(f"/contracts/agreements/{agreement.id}"))
    assert "第 2 版" in page and page.count("未签署") == len(agreement.parties)
    assert "已作废的签署" in page and recent.leader.name in page
    assert signing.signatures(agreement) == []


# --- editing the draft ----------------------------------------------------------------------


def test_budget_lines_not_adding_up_are_refused_and_nothing_written(recent, sign_in):
    agreement = recent.cooperation().agreements[0]
    data = _terms_data(agreement, recent)
    community_id = agreement.communities[0].community_id
    wages = recent.budget_of(agreement)[community_id][WAGES]
    data[f"budget_{community_id}_{WAGES.value}"] = _yuan(wages - 1)  # one fen short
    client = sign_in(recent.manager)
    before, version = _counts(), agreement.version
    budget = recent.budget_of(agreement)
    response = client.post(f"/contracts/agreements/{agreement.id}/terms", data=data)
    assert response.status_code == 200
    assert "须分毫不差" in _text(response) and "少 ¥0.01" in _text(response)
    assert _counts() == before
    assert recent.budget_of(_reload(agreement)) == budget and agreement.version == version


def test_terms_save_the_amount_and_its_budget(recent, sign_in):
    agreement = recent.cooperation().agreements[0]
    community_id = agreement.communities[0].community_id
    data = _terms_data(agreement, recent)
    data[f"amount_{community_id}"] = "41万"
    budget = recent.budget_of(agreement)[community_id]
    data[f"budget_{community_id}_{TRAINING.value}"] = _yuan(budget[TRAINING] + 1_000_000)
    response = sign_in(recent.manager).post(f"/contracts/agreements/{agreement.id}/terms", data=data)
    assert response.status_code == 302, _text(response)
    assert recent.amounts_of(_reload(agreement)) == {community_id: 41_000_000}
    assert recent.budget_of(agreement)[community_id][TRAINING] == budget[TRAINING] + 1_000_000


def test_an_agreement_longer_than_a_year_is_refused(recent, sign_in):
    agreement = recent.cooperation().agreements[0]
    data = _terms_data(agreement, recent)
    data["end_date"] = (agreement.start_date + timedelta(days=400)).isoformat()
    client = sign_in(recent.manager)
    before = _counts()
    response = client.post(f"/contracts/agreements/{agreement.id}/terms", data=data)
    assert "年度协议最长 1 年" in _text(response)
    assert _counts() == before


def test_sub_contracts_blank_rows_are_ignored(recent, sign_in):
    agreement = recent.cooperation().agreements[0]
    client = sign_in(recent.manager)
    form = _text(client.get(f"/contracts/agreements/{agreement.id}/sub-contracts"))
    assert all(s.title in form for s in agreement.sub_contracts)
    data = {}
    for i in range(8):
        data[f"sub_contracts-{i}-kind"] = "grid"
        data[f"sub_contracts-{i}-title"] = ""
        data[f"sub_contracts-{i}-content"] = ""
    data.update({"sub_contracts-0-title": "网格走访", "sub_contracts-0-content": "入户走访。",
                 "sub_contracts-3-kind": "centre", "sub_contracts-3-title": "中心窗口",
                 "sub_contracts-3-content": "窗口受理。"})
    response = client.post(f"/contracts/agreements/{agreement.id}/sub-contracts", data=data)
    assert response.status_code == 302, _text(response)
    assert [(s.number, s.kind.value, s.title) for s in _reload(agreement).sub_contracts] == [
        (1, "grid", "网格走访"), (2, "centre", "中心窗口")]


def test_a_sub_contract_without_content_is_refused(recent, sign_in):
    agreement = recent.cooperation().agreements[0]
    client = sign_in(recent.manager)
    before = _counts()
    response = client.post(
        f"/contracts/agreements/{agreement.id}/sub-contracts",
        data={"sub_contracts-0-kind": "grid", "sub_contracts-0-title": "网格走访",
              "sub_contracts-0-content": ""})
    assert "请填写子合同内容" in _text(response)
    assert _counts() == before


def test_evaluation_percentages_are_saved_as_fractions(recent, sign_in):
    agreement = recent.cooperation().agreements[0]
    client = sign_in(recent.manager)
    data = {"weight_street_office": "25", "weight_committee": "25", "weight_university": "30",
            "weight_residents": "20", "weight_self": "", "band_excellent": "90",
            "band_good": "75", "band_pass": "60"}
    response = client.post(f"/contracts/agreements/{agreement.id}/evaluation", data=data)
    assert response.status_code == 302, _text(response)
    weights = _reload(agreement).evaluation_weights
    assert {k: float(v) for k, v in weights.items()} == {
        "street_office": 0.25, "committee": 0.25, "university": 0.3, "residents": 0.2}
    assert float(agreement.grade_bands[Grade.GOOD.value]) == 75
    form = _text(client.get(f"/contracts/agreements/{agreement.id}/evaluation"))
    assert 'value="25"' in form and EvaluationSource.SELF.label in form


def test_weights_not_totalling_100_percent_are_refused(recent, sign_in):
    agreement = recent.cooperation().agreements[0]
    weights = dict(agreement.evaluation_weights)
    client = sign_in(recent.manager)
    before = _counts()
    response = client.post(
        f"/contracts/agreements/{agreement.id}/evaluation",
        data={"weight_street_office": "30", "weight_committee": "30", "band_excellent": "90",
              "band_good": "80", "band_pass": "60"})
    assert "权重之和必须为 100%" in _text(response)
    assert _counts() == before and _reload(agreement).evaluation_weights == weights


def test_an_agreement_in_force_is_not_edited_directly(recent, sign_in):
    agreement = recent.in_force().agreements[0]
    client = sign_in(recent.manager)
    before = _counts()
    response = client.post(f"/contracts/agreements/{agreement.id}/terms",
                           data=_terms_data(agreement, recent), follow_redirects=True)
    assert "请通过变更" in _text(response)
    assert _counts() == before and _reload(agreement).version == 1


# --- the auditor, the export and the PDF ------------------------------------------------------


def test_auditor_reads_but_cannot_post(recent, factory, sign_in):
    cooperation = recent.cooperation()
    agreement = cooperation.agreements[0]
    client = sign_in(factory.user(Role.AUDITOR, org=factory.org(OrgKind.GOVERNMENT)))
    assert cooperation.number in _text(client.get("/contracts/"))
    assert client.get(f"/contracts/{cooperation.id}").status_code == 200
    page = _text(client.get(f"/contracts/agreements/{agreement.id}"))
    assert agreement.content_hash in page and "shown_hash" not in page
    assert f"/contracts/agreements/{agreement.id}/terms" not in page
    before = _counts()
    for url, data in [(f"/contracts/agreements/{agreement.id}/sign",
                       {"shown_hash": agreement.content_hash}),
                      (f"/contracts/agreements/{agreement.id}/terms", _terms_data(agreement, recent)),
                      (f"/contracts/{cooperation.id}/terminate", {"reason": "审计"}),
                      (f"/contracts/new/{cooperation.tender_id}", _create_data(recent))]:
        assert client.post(url, data=data).status_code == 403, url
    assert _counts() == before


def test_export_lists_the_visible_cooperations(recent, sign_in):
    cooperation = recent.in_force()
    response = sign_in(recent.manager).get("/contracts/export.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("合同编号", "项目名称", "承包方（社工机构）")
    row = next(r for r in rows[1:] if r[0] == cooperation.number)
    assert row[2] == cooperation.agency.name
    assert row[3] == recent.tenders.community.name
    assert float(row[6]) == 400000 and row[7] == CooperationState.ACTIVE.label


def test_export_of_another_office_is_empty(recent, factory, sign_in):
    recent.cooperation()
    stranger = factory.user(Role.CONTRACT_MANAGER, org=factory.org(OrgKind.STREET_OFFICE))
    rows = list(load_workbook(io.BytesIO(sign_in(stranger).get("/contracts/export.xlsx").data))
                .active.iter_rows(values_only=True))
    assert len(rows) == 1  # the headers only


def test_agreement_pdf_is_served_to_a_party(recent, sign_in):
    pytest.importorskip("procurement.contracts.document")
    cooperation = recent.cooperation()
    agreement = cooperation.agreements[0]
    response = sign_in(recent.committee_user).get(f"/contracts/agreements/{agreement.id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
