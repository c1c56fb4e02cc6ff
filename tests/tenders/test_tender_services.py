"""Preparing a tender: creation, invitations, the witnessed draw, publishing, clarifications."""
import random
from datetime import timedelta
from decimal import Decimal

import pytest

from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.core import clock
from procurement.core.errors import DomainError, InvalidTransition
from procurement.orgs.models import OrgKind
from procurement.tenders import services
from procurement.tenders.models import Criterion, Invitation, PoolDraw, Tender
from procurement.tenders.rules import CriterionSpec
from procurement.tenders.states import CriterionKind, TenderMethod, TenderState
from conftest import row_counts
from tender_builder import PDF, Upload


def test_create_tender_stores_criteria_and_audits(builder):
    tender = builder.draft(invite=0)
    assert tender.state is TenderState.DRAFT
    assert tender.number.startswith("ZB2026-")
    assert [c.name for c in tender.criteria] == ["服务方案", "团队配置", "同类项目经验", "投标报价"]
    assert tender.opening_time == tender.bid_deadline
    entry = AuditEntry.query.filter_by(action="tender.create", object_id=str(tender.id)).one()
    assert entry.after["budget_fen"] == 80_000_000


def test_bad_weights_refuse_the_tender_and_write_nothing(builder):
    bad = [CriterionSpec("服务方案", CriterionKind.SUBJECTIVE, Decimal(40), Decimal("0.75")),
           CriterionSpec("投标报价", CriterionKind.PRICE, Decimal(100), Decimal("0.20"))]
    before = row_counts(Tender, Criterion, AuditEntry)
    with pytest.raises(DomainError, match="100%"):
        builder.draft(criteria=bad)
    assert row_counts(Tender, Criterion, AuditEntry) == before


def test_consultation_price_weight_over_30_percent_is_refused(builder):
    crit = [CriterionSpec("服务方案", CriterionKind.SUBJECTIVE, Decimal(40), Decimal("0.60")),
            CriterionSpec("投标报价", CriterionKind.PRICE, Decimal(100), Decimal("0.40"))]
    with pytest.raises(DomainError, match="10% 至 30%"):
        builder.draft(method=TenderMethod.CONSULTATION, criteria=crit)


def test_communities_must_belong_to_the_tenders_street_office(builder, factory):
    other = factory.community()
    with pytest.raises(DomainError, match="本街道"):
        builder.draft(communities=[other])


def test_deposit_over_two_percent_is_refused(builder):
    with pytest.raises(DomainError, match="2%"):
        builder.draft(deposit_fen=1_600_001)


def test_update_is_allowed_only_in_draft(builder):
    tender = builder.published()
    with pytest.raises(InvalidTransition, match="已发布"):
        services.update_tender(builder.officer, tender, **builder.fields(title="改名"))


def test_publish_checks_the_deadlines_from_the_day_of_issue(builder):
    tender = builder.draft(documents_until=builder.at(days=14).date())
    # Issuing 5 days later leaves fewer than 20 days to the deadline.
    with clock.frozen(builder.at(days=5)), pytest.raises(DomainError, match="20 日"):
        services.publish(builder.officer, tender)
    assert tender.state is TenderState.DRAFT


def test_invited_tender_needs_three_invitations_to_publish(builder):
    tender = builder.draft(invite=2)
    with clock.frozen(builder.start), pytest.raises(DomainError, match="不少于 3 家"):
        services.publish(builder.officer, tender)
    with clock.frozen(builder.start):
        services.invite(builder.officer, tender, [builder.agencies[2].id])
        services.publish(builder.officer, tender)
    assert tender.state is TenderState.PUBLISHED


def test_all_invitations_go_out_together_when_published(builder):
    tender = builder.draft(invite=4)
    assert all(i.sent_at is None for i in tender.invitations)
    with clock.frozen(builder.at(hours=1)):
        services.publish(builder.officer, tender)
    assert {i.sent_at for i in tender.invitations} == {builder.at(hours=1)}


def test_invitations_cannot_be_added_after_publishing(builder):
    tender = builder.published(invite=3)
    with pytest.raises(InvalidTransition):
        services.invite(builder.officer, tender, [builder.agencies[4].id])


def test_only_agencies_can_be_invited(builder, factory):
    tender = builder.draft(invite=0)
    university = factory.org(OrgKind.UNIVERSITY)
    with pytest.raises(DomainError, match="社工机构"):
        services.invite(builder.officer, tender, [university.id])


def test_draw_needs_a_pool_twice_the_draw_and_two_witnesses(builder):
    tender = builder.draft(invite=0)
    pool = [a.id for a in builder.agencies[:5]]
    with clock.frozen(builder.start):
        with pytest.raises(DomainError, match="两倍"):
            services.draw_invitees(builder.officer, tender, pool_ids=pool, count=3,
                                   witnesses=builder.witnesses)
        with pytest.raises(DomainError, match="两名"):
            services.draw_invitees(builder.officer, tender, pool_ids=pool + [builder.agencies[5].id],
                                   count=3, witnesses=builder.witnesses[:1])
        with pytest.raises(DomainError, match="见证人"):
            services.draw_invitees(builder.officer, tender, pool_ids=pool + [builder.agencies[5].id],
                                   count=3, witnesses=[builder.witnesses[0], builder.officer])
    assert PoolDraw.query.count() == 0 and not tender.invitations


def test_witnesses_must_be_staff_of_the_purchaser(builder, factory):
    tender = builder.draft(invite=0)
    outsider = factory.user(Role.CONTRACT_MANAGER)
    with clock.frozen(builder.start), pytest.raises(DomainError, match="本街道"):
        services.draw_invitees(builder.officer, tender, pool_ids=[a.id for a in builder.agencies],
                               count=3, witnesses=[builder.witnesses[0], outsider])


def test_draw_is_recorded_with_its_seed_and_witnesses_and_can_be_rechecked(builder):
    tender = builder.draft(invite=0)
    with clock.frozen(builder.start):
        draw = services.draw_invitees(builder.officer, tender,
                                      pool_ids=[a.id for a in builder.agencies], count=3,
                                      witnesses=builder.witnesses)
    assert len(draw.drawn) == 3 and len(draw.pool) == 6
    assert [w["id"] for w in draw.witnesses] == [w.id for w in builder.witnesses]
    # Re-running the draw from the recorded seed over the recorded pool gives the same agencies.
    candidates = sorted(builder.agencies, key=lambda a: a.id)
    assert [a.id for a in random.Random(draw.seed).sample(candidates, 3)] == draw.drawn
    assert {i.agency_id for i in tender.invitations if i.drawn} == set(draw.drawn)
    entry = AuditEntry.query.filter_by(action="tender.draw").one()
    assert entry.after["seed"] == draw.seed and len(entry.after["witnesses"]) == 2


def test_drawn_invitations_cannot_be_removed(builder):
    tender = builder.draft(invite=0)
    with clock.frozen(builder.start):
        services.draw_invitees(builder.officer, tender, pool_ids=[a.id for a in builder.agencies],
                               count=3, witnesses=builder.witnesses)
    with pytest.raises(DomainError, match="随机抽取"):
        services.uninvite(builder.officer, tender, tender.invitations[0])
    assert Invitation.query.count() == 3


def test_clarification_affecting_bids_late_moves_deadline_and_opening(builder):
    tender = builder.published()
    deadline = tender.bid_deadline
    with clock.frozen(deadline - timedelta(days=10)):
        c = services.clarify(builder.officer, tender, content="服务范围增加灵水社区", affects_bids=True)
    assert c.moved_deadline and tender.bid_deadline > deadline
    assert tender.opening_time == tender.bid_deadline
    assert tender.state is TenderState.CLARIFIED
    assert (tender.bid_deadline - (deadline - timedelta(days=10))).days >= 15


def test_clarification_not_affecting_bids_keeps_the_deadline(builder):
    tender = builder.published()
    deadline = tender.bid_deadline
    with clock.frozen(deadline - timedelta(days=3)):
        c = services.clarify(builder.officer, tender, content="更正联系电话", affects_bids=False)
    assert not c.moved_deadline and tender.bid_deadline == deadline


def test_clarification_with_fifteen_days_left_keeps_the_deadline(builder):
    tender = builder.published()
    deadline = tender.bid_deadline
    with clock.frozen(deadline - timedelta(days=16)):
        services.clarify(builder.officer, tender, content="补充评分细则", affects_bids=True)
    assert tender.bid_deadline == deadline


def test_clarification_after_the_deadline_is_refused(builder):
    tender = builder.published()
    with clock.frozen(tender.bid_deadline), pytest.raises(DomainError, match="截止"):
        services.clarify(builder.officer, tender, content="x", affects_bids=True)


def test_tender_documents_are_stored_outside_static_and_only_in_draft(builder, app):
    tender = builder.draft()
    document = services.attach_document(builder.officer, tender, Upload("招标文件.pdf", PDF))
    assert "static" not in app.config["UPLOAD_DIR"]
    assert document.file.original_name == "招标文件.pdf" and document.file.size == len(PDF)
    with clock.frozen(builder.start):
        services.publish(builder.officer, tender)
    with pytest.raises(InvalidTransition):
        services.attach_document(builder.officer, tender, Upload("补充.pdf", PDF))


def test_illegal_transitions_are_refused_with_a_message(builder):
    tender = builder.draft()
    with pytest.raises(InvalidTransition, match="草稿"):
        services.fail(builder.officer, tender, "理由")
    with clock.frozen(builder.start):
        services.publish(builder.officer, tender)
        with pytest.raises(InvalidTransition, match="已发布"):
            services.publish(builder.officer, tender)


def test_fail_before_the_deadline_is_refused_but_cancel_is_allowed(builder):
    tender = builder.published()
    with clock.frozen(builder.at(days=1)):
        with pytest.raises(DomainError, match="尚未截止"):
            services.fail(builder.officer, tender, "只有两家")
        with pytest.raises(DomainError, match="原因"):
            services.cancel(builder.officer, tender, "  ")
        services.cancel(builder.officer, tender, "采购需求变更")
    assert tender.state is TenderState.CANCELLED and tender.end_reason == "采购需求变更"
    with pytest.raises(InvalidTransition):
        services.cancel(builder.officer, tender, "再次")


def test_tender_number_is_unique(builder):
    tender = builder.draft(invite=0)
    with pytest.raises(DomainError, match="已被使用"):
        services.create_tender(builder.officer, street_office=builder.office,
                               number=tender.number, **builder.fields())
