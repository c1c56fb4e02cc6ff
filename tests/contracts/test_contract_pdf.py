"""The printable annual agreement (年度服务协议): Chinese text that extracts from the file,
amounts in figures and 大写, the budget, amendments in force and who signed which version."""
import io
from datetime import date, timedelta

import sqlalchemy as sa
from pypdf import PdfReader

from procurement.accounts.roles import Role
from procurement.contracts import changes, defaults, rules, services
from procurement.contracts.document import contract_context
from procurement.contracts.states import BudgetCategory, DocumentState
from procurement.core import clock
from procurement.core.money import format_fen
from procurement.documents.pdf import render_pdf
from procurement.extensions import db


def pdf_text(agreement) -> tuple[str, int]:
    data = render_pdf("pdf/contract.html", **contract_context(agreement))
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages)
    return "".join(text.split()), len(reader.pages)  # line wraps may fall inside a name


def lingyuan_like(contracts, factory):
    """Two communities at 400,000.00 each, signed by all five organisations."""
    tenders = contracts.tenders
    second = factory.community(street_office=tenders.office)
    tender = tenders.awarded(communities=[tenders.community, second])
    notice = tender.notice_published_at.date()
    start = (date(notice.year, notice.month, 1) + timedelta(days=40)).replace(day=1)
    with clock.frozen(contracts.when(tender)):
        cooperation = services.create_cooperation(
            contracts.manager, tender, university=contracts.university, start_date=start,
            end_date=rules.year_end(start, 3), justification="服务稳定持续，资金有保障",
            amount_per_community_fen=40_000_000)
    agreement = cooperation.agreements[0]
    signers = [*contracts.signers(cooperation),
               factory.user(Role.COMMITTEE_STAFF, org=second.committee)]
    with clock.frozen(contracts.when(tender, 3)):
        for user in signers:
            services.sign_agreement(user, agreement, agreement.content_hash)
    assert agreement.state is DocumentState.IN_FORCE
    return agreement, signers


def test_pdf_shows_parties_amounts_in_words_budget_and_signers(contracts, factory):
    agreement, signers = lingyuan_like(contracts, factory)
    text, pages = pdf_text(agreement)

    assert "年度服务协议" in text and agreement.number in text
    for heading in ("协议各方", "合作期限与本年度协议期限", "服务内容", "各方职责", "服务经费",
                    "经费预算", "考核评估", "经费拨付", "各方签署"):
        assert heading in text, heading
    for party in agreement.parties:
        assert party.org.name in text
    assert "委托方（购买方）" in text and "承包方（服务督导方）" in text
    # 400,000.00 per community and 800,000.00 in all, in figures and in words.
    assert text.count("人民币肆拾万元整") >= 2 and "人民币捌拾万元整" in text
    assert format_fen(80_000_000) in text
    # A budget line of the default split, and the six sub-contracts.
    wages = defaults.budget_for(40_000_000)[BudgetCategory.WAGES]
    assert "工资福利" in text and format_fen(wages) in text and format_fen(2 * wages) in text
    assert all(title in text for _, title, _ in defaults.SUB_CONTRACTS)
    assert "经费按季度拨付" in text and format_fen(20_000_000) in text  # a quarter of 800,000
    # Every organisation signed this version: each signer is named.
    assert all(user.name in text for user in signers)
    assert "尚未签署" not in text and "未生效" not in text
    assert agreement.content_hash in text
    assert pages <= 6


def test_parties_who_have_not_signed_get_a_blank_line(contracts):
    cooperation = contracts.cooperation()
    agreement = cooperation.agreements[0]
    with clock.frozen(contracts.when(cooperation.tender, 3)):
        services.sign_agreement(contracts.leader, agreement, agreement.content_hash)
    text, _ = pdf_text(agreement)

    assert contracts.leader.name in text
    assert contracts.professor.name not in text
    assert contracts.agency_user(cooperation).name not in text
    assert text.count("尚未签署") == 3 and "未生效" in text


def test_signatures_of_an_older_version_are_not_printed(contracts):
    cooperation = contracts.cooperation()
    agreement = cooperation.agreements[0]
    with clock.frozen(contracts.when(cooperation.tender, 3)):
        services.sign_agreement(contracts.leader, agreement, agreement.content_hash)
        services.update_duties(contracts.manager, agreement,
                               {p.org_id: p.duties + "（修订）" for p in agreement.parties})
    assert agreement.version == 2
    text, _ = pdf_text(agreement)

    assert contracts.leader.name not in text and text.count("尚未签署") == 4
    assert "第2版" in text and "（修订）" in text


def test_amendment_in_force_is_printed_with_its_reason_and_before_and_after(contracts):
    cooperation = contracts.in_force()
    agreement = cooperation.agreements[0]
    community_id = agreement.communities[0].community_id
    budget = contracts.budget_of(agreement)
    budget[community_id][BudgetCategory.TRAINING] += 2_000_000
    with clock.frozen(contracts.when(cooperation.tender, 5)):
        amendment = changes.propose_amendment(
            contracts.manager, agreement, reason="增加社区工作者培训场次",
            end_date=agreement.end_date, amounts={community_id: 42_000_000}, budget=budget)
    contracts.sign_all(amendment, days=6)
    assert amendment.state is DocumentState.IN_FORCE
    text, _ = pdf_text(agreement)

    assert "第1号变更" in text and "增加社区工作者培训场次" in text
    assert f"{format_fen(40_000_000)}{format_fen(42_000_000)}" in text  # before → after
    assert "人民币肆拾贰万元整" in text  # the amount now in force, in words


def test_amendment_not_yet_signed_is_not_printed(contracts):
    cooperation = contracts.in_force()
    agreement = cooperation.agreements[0]
    community_id = agreement.communities[0].community_id
    budget = contracts.budget_of(agreement)
    budget[community_id][BudgetCategory.TRAINING] += 2_000_000
    with clock.frozen(contracts.when(cooperation.tender, 5)):
        changes.propose_amendment(contracts.manager, agreement, reason="增加社区工作者培训场次",
                                  end_date=agreement.end_date,
                                  amounts={community_id: 42_000_000}, budget=budget)
    text, _ = pdf_text(agreement)

    assert "增加社区工作者培训场次" not in text and "本协议未经变更" in text
    assert "人民币肆拾贰万元整" not in text and "人民币肆拾万元整" in text


def test_context_takes_a_few_queries_whatever_the_size(contracts, factory):
    agreement, _ = lingyuan_like(contracts, factory)
    statements = []
    db.session.expire_all()

    def count(*args):
        statements.append(args[2])

    engine = db.session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        context = contract_context(agreement)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(context["signatures"]) == 5 and len(context["sub_contracts"]) == 6
    assert len(statements) <= 10, statements
