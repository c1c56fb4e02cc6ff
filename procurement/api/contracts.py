"""Annual agreements (the contracts the work and the money hang on), scoped with the same
`visible_agreements` query as the grid-work pages."""
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from procurement.accounts.roles import Role
from procurement.api import bp, datetime_arg, int_arg, load, money, paged, respond, stamp, who
from procurement.api import spec as s
from procurement.contracts.models import Agreement, AgreementCommunity, Cooperation
from procurement.core.permissions import allow
from procurement.tasks.permissions import can_view_agreement_work, visible_agreements

READERS = (Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
           Role.FINANCE_OFFICER, Role.UNIVERSITY_EVALUATOR, Role.AUDITOR)

AGREEMENT = s.obj(
    id=s.integer(), number=s.string(), cooperation_id=s.integer(),
    cooperation_number=s.string(), title=s.string(), agency=s.string(),
    street_office=s.string(), year_no=s.integer(), start_date=s.string("date"),
    end_date=s.string("date"), state=s.string(), state_label=s.string(),
    in_force_at=s.string("date-time", nullable=True),
    communities=s.array(s.obj(id=s.integer(), name=s.string(), amount=s.MONEY)),
    total=s.MONEY, updated_at=s.string("date-time"))


def agreement_json(agreement: Agreement) -> dict:
    coop = agreement.cooperation
    rows = agreement.communities
    return {
        "id": agreement.id, "number": agreement.number, "cooperation_id": coop.id,
        "cooperation_number": coop.number, "title": coop.title, "agency": coop.agency.name,
        "street_office": coop.street_office.name, "year_no": agreement.year_no,
        "start_date": stamp(agreement.start_date), "end_date": stamp(agreement.end_date),
        "state": agreement.state.value, "state_label": agreement.state.label,
        "in_force_at": stamp(agreement.in_force_at),
        "communities": [{"id": r.community_id, "name": r.community.name,
                         "amount": money(r.amount_fen)} for r in rows],
        "total": money(sum(r.amount_fen for r in rows)),
        "updated_at": stamp(agreement.updated_at),
    }


def readable_agreement(agreement_id: int) -> Agreement:
    """The agreement, or 404 for one the caller may not read (its existence is not told)."""
    return load(Agreement, agreement_id, can_view_agreement_work)


@bp.route("/agreements")
@allow(*READERS)
@s.operation("年度协议列表", s.page_of(AGREEMENT), tag="合同",
             params=(*s.PAGINATED, s.UPDATED_SINCE, s.COMMUNITY, s.YEAR))
def agreements():
    query = visible_agreements(who())
    since = datetime_arg("updated_since")
    if since is not None:
        query = query.where(Agreement.updated_at > since)
    community_id = int_arg("community_id")
    if community_id is not None:
        query = query.where(Agreement.id.in_(sa.select(AgreementCommunity.agreement_id).where(
            AgreementCommunity.community_id == community_id)))
    year = int_arg("year", minimum=2000, maximum=2100)
    if year is not None:
        from datetime import date
        query = query.where(Agreement.start_date <= date(year, 12, 31),
                            Agreement.end_date >= date(year, 1, 1))
    query = query.options(
        selectinload(Agreement.communities).joinedload(AgreementCommunity.community),
        selectinload(Agreement.cooperation).joinedload(Cooperation.agency),
    ).order_by(Agreement.start_date.desc(), Agreement.id.desc())
    return respond(paged(query, agreement_json))


@bp.route("/agreements/<int:agreement_id>")
@allow(*READERS)
@s.operation("年度协议详情", s.obj(data=AGREEMENT), tag="合同")
def agreement(agreement_id: int):
    return respond({"data": agreement_json(readable_agreement(agreement_id))})
