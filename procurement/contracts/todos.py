"""Home-page to-dos of the contract side: what the street office's contract manager has to
do next (a cooperation to create from an award, signatures to collect, next year's agreement
to draft), and what each party has to sign (the street office's leader, each residents'
committee, the university, the agency). Every query is scoped to the user's organisation.
Deadlines follow the business clock, the same one the services check.

Registered by importing this module (procurement/home/views.py imports the providers).
"""
from datetime import date, timedelta

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from procurement.accounts.roles import Role
from procurement.contracts import rules, services, signing
from procurement.contracts.models import (Agreement, AgreementParty, Amendment, Cooperation,
                                          Signature, SpecialAgreement)
from procurement.contracts.states import (EDITABLE, CooperationState, DocumentKind,
                                          DocumentState, Grade)
from procurement.core import clock
from procurement.extensions import db
from procurement.home.todos import Todo, provides
from procurement.orgs.models import OrgKind
from procurement.tenders.award import signing_block
from procurement.tenders.models import Tender
from procurement.tenders.states import TenderState

# The next year's agreement is drafted in the last 60 days of the current one.
RENEWAL_WINDOW = timedelta(days=60)
LIVE = (CooperationState.DRAFT, CooperationState.ACTIVE)


def _agreement_url(agreement: Agreement) -> str:
    return url_for("contracts.agreement", agreement_id=agreement.id)


def _cooperation_url(agreement: Agreement) -> str:
    """The cooperation page, where the next year is drafted and a cooperation terminated."""
    return url_for("contracts.show", cooperation_id=agreement.cooperation_id)


def _document_url(document) -> str:
    if isinstance(document, Agreement):
        return _agreement_url(document)
    if isinstance(document, Amendment):
        return url_for("contracts.amendment", amendment_id=document.id)
    return url_for("contracts.special", special_id=document.id)


def _near(due: date | None, today: date) -> bool:
    """Urgent: the deadline is at most SIGN_WARNING_DAYS away, or passed."""
    return due is not None and (due - today).days <= rules.SIGN_WARNING_DAYS


def _names(orgs) -> str:
    return "、".join(o.name for o in orgs)


# --- the street office's contract manager -------------------------------------------------


@provides(Role.CONTRACT_MANAGER)
def manager_todos(user) -> list[Todo]:
    if user.org.kind is not OrgKind.STREET_OFFICE:
        return []
    today = clock.today()
    return (_awards_without_cooperation(user, today) + _signatures_to_collect(user, today)
            + _renewals(user, today))


def _awards_without_cooperation(user, today: date) -> list[Todo]:
    started = sa.select(Cooperation.tender_id)
    tenders = db.session.scalars(
        sa.select(Tender).where(Tender.street_office_id == user.org_id,
                                Tender.state == TenderState.AWARDED,
                                Tender.id.not_in(started))
        .options(selectinload(Tender.challenges)).order_by(Tender.notice_published_at, Tender.id))
    items = []
    for tender in tenders:
        if tender.notice_published_at is None:
            continue
        due = services.sign_due(tender)
        block = signing_block(tender)
        if block:
            detail = _("暂不能签订合同：%(reason)s", reason=block)
        elif due < today:
            detail = _("已超过中标通知书发出之日起 %(n)s 日的签约期限（87号令第七十一条），请尽快签订。",
                       n=rules.SIGN_WITHIN_DAYS)
        else:
            detail = _("中标人为%(winner)s；请建立合作并起草第一年度协议，在中标通知书发出之日起 "
                       "%(n)s 日内签订（87号令第七十一条）。",
                       winner=tender.awarded_bid.agency.name, n=rules.SIGN_WITHIN_DAYS)
        items.append(Todo(_("已定标，待签订合同：%(tender)s", tender=f"{tender.number} {tender.title}"),
                          url_for("contracts.create", tender_id=tender.id),
                          detail, due=due, urgent=_near(due, today)))
    return items


def _office_documents(model, user):
    """Documents of the office's live cooperations still being signed."""
    query = sa.select(model)
    if model is Agreement:
        query = query.join(Cooperation, Agreement.cooperation_id == Cooperation.id)
    elif model is Amendment:
        query = (query.join(Agreement, Amendment.agreement_id == Agreement.id)
                 .join(Cooperation, Agreement.cooperation_id == Cooperation.id))
    else:
        query = query.join(Cooperation, SpecialAgreement.cooperation_id == Cooperation.id)
    return db.session.scalars(
        query.where(Cooperation.street_office_id == user.org_id, Cooperation.state.in_(LIVE),
                    model.state.in_(EDITABLE)).order_by(model.id))


def _signatures_to_collect(user, today: date) -> list[Todo]:
    items = []
    for model in (Agreement, Amendment, SpecialAgreement):
        for document in _office_documents(model, user):
            missing = signing.missing_parties(document)
            if not missing:
                continue
            due = document.sign_due if isinstance(document, Agreement) else None
            if document.state is DocumentState.DRAFT and not signing.signatures(document):
                title = _("%(kind)s待签署：%(document)s", kind=document.kind.label,
                          document=str(document))
            else:
                title = _("%(kind)s签署中：%(document)s", kind=document.kind.label,
                          document=str(document))
            detail = _("尚未签署：%(parties)s。", parties=_names(missing))
            block = _gate(document)
            if block:
                detail += block
            items.append(Todo(title, _document_url(document), detail, due=due,
                              urgent=_near(due, today) and not block))
    return items


def _gate(document) -> str | None:
    """Why nobody can sign this agreement yet (a pending challenge, the renewal gate)."""
    if not isinstance(document, Agreement):
        return None
    return services.first_agreement_block(document) or services.renewal_block(document)


def _renewals(user, today: date) -> list[Todo]:
    agreements = db.session.scalars(
        sa.select(Agreement).join(Cooperation, Agreement.cooperation_id == Cooperation.id)
        .where(Cooperation.street_office_id == user.org_id,
               Cooperation.state == CooperationState.ACTIVE,
               Agreement.state == DocumentState.IN_FORCE,
               Agreement.end_date <= today + RENEWAL_WINDOW)
        .options(selectinload(Agreement.cooperation).selectinload(Cooperation.agreements))
        .order_by(Agreement.end_date, Agreement.id))
    items = []
    for agreement in agreements:
        coop = agreement.cooperation
        if any(a.year_no == agreement.year_no + 1 for a in coop.agreements):
            continue  # already drafted: the signing to-do takes over
        if rules.add_years(agreement.start_date, 1) > coop.end_date:
            continue  # the last year: the cooperation ends with it
        due = agreement.end_date
        if agreement.annual_grade is Grade.FAIL:
            items.append(Todo(
                _("年度评估不合格，不能续签：%(document)s", document=str(agreement)),
                _cooperation_url(agreement),
                _("合作将于本年度协议到期后结束；如需提前结束，请写明原因终止合作。"),
                due=due, urgent=_near(due, today)))
            continue
        if agreement.annual_grade is None:
            detail = _("请起草下一年度协议；上一年度评估结果确定后方可签署。")
        else:
            detail = _("本年度评估结果为“%(grade)s”，请起草并签订下一年度协议。",
                       grade=agreement.annual_grade.label)
        items.append(Todo(_("可起草下一年度协议：%(document)s", document=str(agreement)),
                          _cooperation_url(agreement), detail, due=due,
                          urgent=_near(due, today)))
    return items


# --- the parties: street office leader, residents' committee, university, agency ----------


@provides(Role.LEADER, Role.COMMITTEE_STAFF, Role.UNIVERSITY_EVALUATOR, Role.AGENCY_STAFF)
def party_todos(user) -> list[Todo]:
    """Agreements, amendments and special agreements my organisation is a party to and has
    not signed in their current version; only for the user who may sign for it."""
    role = signing.SIGNING_ROLE.get(user.org.kind)
    if role is None or not user.has_role(role):
        return []
    today = clock.today()
    items = []
    for document in _unsigned(user):
        due = document.sign_due if isinstance(document, Agreement) else None
        block = _gate(document)
        signed = len(signing.signatures(document))
        if block:
            detail = block
        elif signed:
            detail = _("已有 %(n)s 方签署本版本；请阅读最新内容后代表%(org)s签署。", n=signed,
                       org=user.org.name)
        else:
            detail = _("请阅读协议内容后代表%(org)s签署。", org=user.org.name)
        items.append(Todo(_("%(kind)s待您单位签署：%(document)s", kind=document.kind.label,
                            document=str(document)),
                          _document_url(document), detail, due=due,
                          urgent=_near(due, today) and not block))
    return items


def _not_signed_by(org_id: int, kind: DocumentKind, model):
    return ~sa.exists().where(Signature.document_kind == kind,
                              Signature.document_id == model.id,
                              Signature.version == model.version, Signature.org_id == org_id)


def _unsigned(user) -> list:
    """Documents still being signed whose agreement lists my organisation as a party."""
    party = sa.select(AgreementParty.agreement_id).where(AgreementParty.org_id == user.org_id)
    live = sa.select(Cooperation.id).where(Cooperation.state.in_(LIVE))
    agreements = db.session.scalars(
        sa.select(Agreement).where(Agreement.id.in_(party), Agreement.state.in_(EDITABLE),
                                   Agreement.cooperation_id.in_(live),
                                   _not_signed_by(user.org_id, DocumentKind.AGREEMENT, Agreement))
        .order_by(Agreement.id))
    amendments = db.session.scalars(
        sa.select(Amendment).join(Agreement, Amendment.agreement_id == Agreement.id)
        .where(Amendment.agreement_id.in_(party), Amendment.state.in_(EDITABLE),
               Agreement.cooperation_id.in_(live),
               _not_signed_by(user.org_id, DocumentKind.AMENDMENT, Amendment))
        .order_by(Amendment.id))
    specials = db.session.scalars(
        sa.select(SpecialAgreement).where(
            SpecialAgreement.agreement_id.in_(party), SpecialAgreement.state.in_(EDITABLE),
            SpecialAgreement.cooperation_id.in_(live),
            _not_signed_by(user.org_id, DocumentKind.SPECIAL, SpecialAgreement))
        .order_by(SpecialAgreement.id))
    return [*agreements, *amendments, *specials]
