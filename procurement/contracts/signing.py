"""Signing: each party's authorised user signs the exact version on screen. A document is
in force when every party has signed its current version; any change after a signature makes
a new version, and the old version's signatures no longer count."""
import hashlib
import json

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from procurement.accounts.models import User
from procurement.accounts.roles import Role
from procurement.audit import record
from procurement.contracts.models import Agreement, Amendment, Signature, SpecialAgreement
from procurement.contracts.states import DOCUMENT, EDITABLE, DocumentState
from procurement.core import clock
from procurement.core.errors import DomainError
from procurement.extensions import db
from procurement.orgs.models import OrgKind

# Who signs for each kind of party.
SIGNING_ROLE = {OrgKind.STREET_OFFICE: Role.LEADER,
                OrgKind.RESIDENTS_COMMITTEE: Role.COMMITTEE_STAFF,
                OrgKind.UNIVERSITY: Role.UNIVERSITY_EVALUATOR,
                OrgKind.AGENCY: Role.AGENCY_STAFF}

Document = Agreement | Amendment | SpecialAgreement


def parties_of(document: Document):
    agreement = document if isinstance(document, Agreement) else document.agreement
    return [p.org for p in agreement.parties]


def content(document: Document) -> dict:
    """Everything a signer agrees to, as plain data; its hash is what a signature binds."""
    if isinstance(document, Agreement):
        return {
            "kind": "agreement", "number": document.number, "version": document.version,
            "year": document.year_no, "start": document.start_date.isoformat(),
            "end": document.end_date.isoformat(),
            "parties": [[p.org.name, p.role.value, p.duties] for p in document.parties],
            "amounts": [[c.community.name, c.amount_fen] for c in document.communities],
            "budget": [[line.community_id, line.category.value, line.amount_fen]
                       for line in document.budget_lines],
            "sub_contracts": [[s.number, s.kind.value, s.title, s.content]
                              for s in document.sub_contracts],
            "weights": document.evaluation_weights, "bands": document.grade_bands,
        }
    if isinstance(document, Amendment):
        return {"kind": "amendment", "agreement": document.agreement.number,
                "number": document.number, "version": document.version,
                "reason": document.reason, "changes": document.changes}
    return {"kind": "special", "cooperation": document.cooperation.number,
            "number": document.number, "version": document.version, "title": document.title,
            "content": document.content, "amount": document.amount_fen, "budget": document.budget,
            "start": document.start_date.isoformat(), "end": document.end_date.isoformat(),
            "parties": [o.name for o in parties_of(document)]}


def compute_hash(document: Document) -> str:
    text = json.dumps(content(document), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def signatures(document: Document, version: int | None = None) -> list[Signature]:
    return list(db.session.scalars(sa.select(Signature).where(
        Signature.document_kind == document.kind, Signature.document_id == document.id,
        Signature.version == (version or document.version)).order_by(Signature.signed_at)
        .options(joinedload(Signature.signer).lazyload(User.role_rows))))  # names, not roles


def changed(document: Document) -> bool:
    """Call after editing a document: a change after any signature makes a new version and
    the signatures start over. Returns whether the version moved on."""
    DOCUMENT.require_in(document, EDITABLE, "修改")
    db.session.flush()
    bumped = False
    if signatures(document):
        document.version += 1
        DOCUMENT.move(document, DocumentState.DRAFT, "修改")
        bumped = True
    document.content_hash = compute_hash(document)
    db.session.flush()
    return bumped


def sign(actor, document: Document, *, shown_hash: str, gate=None) -> Signature:
    """Sign the version the signer read. `gate()` may refuse (renewal, pending challenge)."""
    DOCUMENT.require_in(document, EDITABLE, "签署")
    org = actor.org
    if org.id not in {o.id for o in parties_of(document)}:
        raise DomainError("贵单位不是本协议的当事方，不能签署。")
    role = SIGNING_ROLE.get(org.kind)
    if role is None or not actor.has_role(role):
        raise DomainError(f"只有{org.kind.label}的{role.label if role else ''}可以代表本单位签署。")
    if shown_hash != document.content_hash:
        raise DomainError("协议内容已更新，您看到的不是最新版本，请重新阅读后再签署。")
    if gate is not None:
        reason = gate()
        if reason:
            raise DomainError(reason)
    if any(s.org_id == org.id for s in signatures(document)):
        raise DomainError(f"{org.name}已签署本版本。")
    now = clock.now()
    signature = Signature(document_kind=document.kind, document_id=document.id,
                          version=document.version, content_hash=document.content_hash,
                          org_id=org.id, org=org, signer_id=actor.id, signer=actor, signed_at=now)
    db.session.add(signature)
    db.session.flush()
    signed = {s.org_id for s in signatures(document)}
    complete = signed >= {o.id for o in parties_of(document)}
    DOCUMENT.move(document, DocumentState.IN_FORCE if complete else DocumentState.SIGNING, "签署")
    if complete:
        document.in_force_at = now
    db.session.flush()
    record(actor, f"{document.kind.value}.sign", document, None,
           {"org": org.name, "version": document.version, "hash": document.content_hash,
            "in_force": complete}, label=str(document))
    return signature


def missing_parties(document: Document):
    signed = {s.org_id for s in signatures(document)}
    return [o for o in parties_of(document) if o.id not in signed]
