"""Public notices (公告): procurement is public (法 11). Anyone, signed in or not, reads the
tender notice of a published tender, the award notice (with the committee, now no longer
confidential, 87号令 47) and the notice of a failed tender. Nothing here reveals a bid before
the opening: the notice shows the winner and the winning price only once awarded."""
import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request
from sqlalchemy.orm import selectinload

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
    query = query.options(selectinload(Tender.communities)).order_by(Tender.published_at.desc())
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
