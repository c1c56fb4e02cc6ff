"""Public notices (公告): procurement is public (法 11). Anyone, signed in or not, reads the
tender notice of a published tender, the award notice (with the committee, now no longer
confidential, 87号令 47) and the notice of a failed tender. Nothing here reveals a bid before
the opening: the notice shows the winner and the winning price only once awarded."""
import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request
from sqlalchemy.orm import joinedload, selectinload

from procurement.contracts.document import amendments_in_force
from procurement.contracts.models import (Agreement, AgreementParty, Cooperation,
                                          SpecialAgreement)
from procurement.contracts.states import DocumentState
from procurement.core.pages import paginate
from procurement.core.permissions import public
from procurement.extensions import db
from procurement.tenders import evaluation, services
from procurement.tenders.models import Tender
from procurement.tenders.states import TenderMethod, TenderState

bp = Blueprint("notices", __name__, url_prefix="/notices")


def _published():
    # A cancelled tender that was never published stays private.
    return sa.select(Tender).where(Tender.published_at.is_not(None))


@bp.route("/")
@public
def index():
    query = _published()
    kind = request.args.get("kind", "")
    if kind == "award":
        query = query.where(Tender.state == TenderState.AWARDED)
    elif kind == "failed":
        query = query.where(Tender.state.in_([TenderState.FAILED, TenderState.CANCELLED]))
    query = query.options(selectinload(Tender.communities), joinedload(Tender.street_office)) \
        .order_by(Tender.published_at.desc())
    return render_template("notices/index.html", page=paginate(query), kind=kind)


@bp.route("/<int:tender_id>")
@public
def show(tender_id: int):
    tender = db.session.scalars(_published().where(Tender.id == tender_id)).first()
    if tender is None:
        abort(404)
    awarded = tender.state is TenderState.AWARDED
    committee = evaluation.members(tender) if awarded else []
    invited = tender.method is TenderMethod.INVITED
    return render_template("notices/show.html", tender=tender, awarded=awarded,
                           committee=committee, invited=invited,
                           ranking=evaluation.final_ranking(tender) if awarded else [],
                           schedule=services.schedule(tender))


# --- contracts (public notices) ---------------------------------------------------------
# A signed contract is published (102号令 23): its parties, amount and term, and the
# amendments that took effect. Only documents in force: never a draft or one being signed,
# and nothing internal (no content hash, no signers beyond their organisations).

def _agreement_options():
    return (joinedload(Agreement.cooperation).options(
                joinedload(Cooperation.street_office), joinedload(Cooperation.agency),
                joinedload(Cooperation.university)),
            selectinload(Agreement.parties).joinedload(AgreementParty.org),
            selectinload(Agreement.communities))


@bp.route("/contracts")
@public
def contracts():
    kind = "special" if request.args.get("kind") == "special" else ""
    if kind:
        query = (sa.select(SpecialAgreement)
                 .where(SpecialAgreement.state == DocumentState.IN_FORCE)
                 .options(joinedload(SpecialAgreement.cooperation).options(
                              joinedload(Cooperation.street_office),
                              joinedload(Cooperation.agency)),
                          joinedload(SpecialAgreement.agreement).options(*_agreement_options()[1:]))
                 .order_by(SpecialAgreement.in_force_at.desc(), SpecialAgreement.id.desc()))
    else:
        query = (sa.select(Agreement).where(Agreement.state == DocumentState.IN_FORCE)
                 .options(*_agreement_options())
                 .order_by(Agreement.in_force_at.desc(), Agreement.id.desc()))
    return render_template("notices/contracts.html", page=paginate(query), kind=kind)


@bp.route("/contracts/<int:agreement_id>")
@public
def contract(agreement_id: int):
    agreement = db.session.scalars(
        sa.select(Agreement).where(Agreement.id == agreement_id,
                                   Agreement.state == DocumentState.IN_FORCE)
        .options(*_agreement_options(), selectinload(Agreement.amendments))).first()
    if agreement is None:
        abort(404)
    cooperation = agreement.cooperation
    years = db.session.scalars(
        sa.select(Agreement).where(Agreement.cooperation_id == cooperation.id,
                                   Agreement.state == DocumentState.IN_FORCE,
                                   Agreement.id != agreement.id)
        .order_by(Agreement.year_no)).all()
    specials = db.session.scalars(
        sa.select(SpecialAgreement).where(SpecialAgreement.agreement_id == agreement.id,
                                          SpecialAgreement.state == DocumentState.IN_FORCE)
        .order_by(SpecialAgreement.number)).all()
    tender = db.session.get(Tender, cooperation.tender_id)
    return render_template("notices/contract.html", agreement=agreement, cooperation=cooperation,
                           amendments=amendments_in_force(agreement), other_years=years,
                           specials=specials,
                           award_notice=tender if tender.published_at is not None else None)
