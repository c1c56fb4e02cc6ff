"""The printable annual agreement (年度服务协议): everything the parties sign, gathered for
templates/pdf/contract.html.

A fixed handful of queries whatever the number of parties, communities, sub-contracts and
amendments: the agreement with its cooperation and organisations, then its lists (parties,
communities, budget lines, sub-contracts, amendments) and the signatures of its current
version. The route decides who may print it (contracts.permissions.can_view).
"""
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from procurement.contracts import rules
from procurement.contracts.models import (Agreement, AgreementCommunity, AgreementParty,
                                          Cooperation, Signature)
from procurement.contracts.states import (BudgetCategory, DocumentState, EvaluationSource,
                                          Grade, PartyRole)
from procurement.core.numbers import format_percent
from procurement.core.money import format_fen, from_fen, in_words, split_evenly
from procurement.extensions import db

# 甲方, 乙方, … in the order the parties are listed.
STEMS = "甲乙丙丁戊己庚辛壬癸"


def money(fen: int) -> dict:
    """¥400,000.00 and 人民币肆拾万元整."""
    return {"fen": fen, "text": format_fen(fen), "words": in_words(from_fen(fen))}


def cn_date(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def designation(position: int) -> str:
    return f"{STEMS[position - 1]}方" if 1 <= position <= len(STEMS) else f"第{position}方"


def term_years(start: date, end: date) -> int:
    """How many annual agreements a term holds (2016-05-01 … 2019-04-30 → 3)."""
    years = 1
    while rules.year_end(start, years) < end:
        years += 1
    return years


@dataclass
class PartyView:
    designation: str        # 甲方
    role: str               # 委托方（购买方）
    role_value: str
    name: str
    address: str | None
    contact: str | None
    duties: str


@dataclass
class SignatureView:
    designation: str
    role: str
    org: str
    signed: bool
    signer: str | None = None
    signer_title: str | None = None
    signed_at: datetime | None = None
    version: int | None = None
    content_hash: str | None = None


@dataclass
class AmendmentView:
    number: int
    reason: str
    in_force_at: datetime | None
    changes: list[dict]     # {"label", "before", "after"}


def _load(agreement_id: int) -> Agreement:
    """The agreement and everything printed about it, in a few queries."""
    return db.session.scalars(
        sa.select(Agreement).where(Agreement.id == agreement_id)
        .options(
            joinedload(Agreement.cooperation).options(
                joinedload(Cooperation.street_office), joinedload(Cooperation.agency),
                joinedload(Cooperation.university), joinedload(Cooperation.tender)),
            selectinload(Agreement.parties).joinedload(AgreementParty.org),
            selectinload(Agreement.communities).joinedload(AgreementCommunity.community),
            selectinload(Agreement.budget_lines),
            selectinload(Agreement.sub_contracts),
            selectinload(Agreement.amendments))).one()


def _signatures(agreement: Agreement) -> dict[int, Signature]:
    rows = db.session.scalars(sa.select(Signature).where(
        Signature.document_kind == agreement.kind, Signature.document_id == agreement.id,
        Signature.version == agreement.version).order_by(Signature.signed_at))
    return {s.org_id: s for s in rows}


def _contact(org) -> str | None:
    parts = [p for p in (org.contact_person, org.contact_phone) if p]
    return "　".join(parts) or None


def _budget(agreement: Agreement, communities: list[dict]) -> dict:
    """Rows per category with a column per community and the total, plus the column totals."""
    by_cell = {(line.community_id, line.category): line.amount_fen
               for line in agreement.budget_lines}
    used = {line.category for line in agreement.budget_lines}
    rows = []
    for category in BudgetCategory:
        if category not in used:
            continue
        cells = [by_cell.get((c["id"], category), 0) for c in communities]
        rows.append({"label": category.label, "cells": [format_fen(v) for v in cells],
                     "total": format_fen(sum(cells))})
    totals = [sum(v for (cid, _), v in by_cell.items() if cid == c["id"]) for c in communities]
    # Column batches of four communities, so the table fits the page however many there are.
    batches = [list(range(i, min(i + 4, len(communities))))
               for i in range(0, len(communities), 4)]
    return {"rows": rows, "totals": [format_fen(v) for v in totals],
            "total": format_fen(sum(totals)), "batches": batches}


def _quarters(agreement: Agreement) -> list[dict]:
    """The year's quarters and each one's base amount: each community's amount split
    evenly, to the fen, then added up."""
    periods = rules.quarters(agreement.start_date, agreement.end_date)
    shares = [split_evenly(c.amount_fen, len(periods)) for c in agreement.communities]
    return [{"label": period.label, "start": cn_date(period.start), "end": cn_date(period.end),
             "amount": money(sum(share[i] for share in shares))}
            for i, period in enumerate(periods)]


def _evaluation(agreement: Agreement) -> dict:
    weights = [{"label": EvaluationSource(k).label, "weight": format_percent(v)}
               for k, v in sorted(agreement.evaluation_weights.items(),
                                  key=lambda kv: list(EvaluationSource).index(EvaluationSource(kv[0])))]
    bands = {Grade(k): Decimal(str(v)).normalize() for k, v in agreement.grade_bands.items()}
    rows = []
    upper = None
    for grade, note in ((Grade.EXCELLENT, ""), (Grade.GOOD, ""),
                        (Grade.PASS, "须限期整改"), (Grade.FAIL, "不再续签下一年度协议")):
        low = bands.get(grade)
        if grade is Grade.FAIL:
            limit = f"低于 {upper:f} 分" if upper is not None else "—"
        elif low is None:
            continue
        elif upper is None:
            limit = f"{low:f} 分及以上"
        else:
            limit = f"{low:f} 分（含）至 {upper:f} 分"
        rows.append({"label": grade.label, "range": limit, "note": note})
        if low is not None:
            upper = low
    return {"weights": weights, "bands": rows}


def amendments_in_force(agreement: Agreement) -> list[AmendmentView]:
    """The amendments that took effect, each change as printed: before → after."""
    result = []
    for amendment in agreement.amendments:
        if amendment.state is not DocumentState.IN_FORCE:
            continue
        changes = []
        for change in amendment.changes:
            before, after = change.get("shown") or (change.get("before"), change.get("after"))
            if change.get("field") == "end_date":
                before, after = (cn_date(date.fromisoformat(v)) if v else v
                                 for v in (before, after))
            changes.append({"label": change.get("label", ""), "before": before, "after": after})
        result.append(AmendmentView(number=amendment.number, reason=amendment.reason,
                                    in_force_at=amendment.in_force_at, changes=changes))
    return result


def contract_context(agreement: Agreement) -> dict:
    """The context for templates/pdf/contract.html."""
    identity = sa.inspect(agreement).identity  # no refresh of an expired instance
    agreement = _load(identity[0] if identity else agreement.id)
    coop = agreement.cooperation
    signed = _signatures(agreement)

    parties, signature_blocks = [], []
    for index, party in enumerate(agreement.parties, start=1):
        org = party.org
        mark = designation(index)
        parties.append(PartyView(designation=mark, role=party.role.label,
                                 role_value=party.role.value, name=org.name,
                                 address=org.address, contact=_contact(org),
                                 duties=party.duties))
        signature = signed.get(org.id)
        block = SignatureView(designation=mark, role=party.role.label, org=org.name,
                              signed=signature is not None)
        if signature is not None:
            block.signer = signature.signer.name
            block.signer_title = signature.signer.title
            block.signed_at = signature.signed_at
            block.version = signature.version
            block.content_hash = signature.content_hash
        signature_blocks.append(block)
    by_role = {}
    for party in parties:
        by_role.setdefault(party.role_value, []).append(party)

    communities = [{"id": c.community_id, "name": c.community.name, "amount": money(c.amount_fen)}
                   for c in agreement.communities]
    total = money(agreement.amount_fen)
    years = term_years(coop.start_date, coop.end_date)
    span = (f"{agreement.start_date.year}年度" if agreement.start_date.year == agreement.end_date.year
            else f"{agreement.start_date.year}—{agreement.end_date.year}年度")
    amendments = amendments_in_force(agreement)
    return {
        "title": f"{span}服务协议",
        "project": coop.title,
        "facts": {
            "number": agreement.number,
            "span": span,
            "cooperation_number": coop.number,
            "tender_number": coop.tender.number,
            "year_no": agreement.year_no,
            "version": agreement.version,
            "content_hash": agreement.content_hash,
            "state": agreement.state.label,
            "in_force": agreement.state is DocumentState.IN_FORCE,
            "in_force_at": agreement.in_force_at,
            "start": cn_date(agreement.start_date),
            "end": cn_date(agreement.end_date),
            "coop_start": cn_date(coop.start_date),
            "coop_end": cn_date(coop.end_date),
            "coop_years": years,
            "justification": coop.justification,
            "sign_due": cn_date(agreement.sign_due),
            "purchaser": coop.street_office.name,
            "agency": coop.agency.name,
            "university": coop.university.name,
            "awarded_at": coop.tender.notice_published_at,
        },
        "parties": parties,
        "purchaser": by_role.get(PartyRole.PURCHASER.value, []),
        "supervisors": by_role.get(PartyRole.SUPERVISOR.value, []),
        "contractor": by_role.get(PartyRole.CONTRACTOR.value, []),
        "sub_contracts": [{"number": s.number, "kind": s.kind.label, "title": s.title,
                           "content": s.content} for s in agreement.sub_contracts],
        "communities": communities,
        "total": total,
        "budget": _budget(agreement, communities),
        "quarters": _quarters(agreement),
        "evaluation": _evaluation(agreement),
        "amendments": amendments,
        "amended": bool(amendments),
        "signatures": signature_blocks,
    }
