"""Who sees grid work: the agency serving a community its own, the residents' committee its
own community, the street office all of its own communities, auditors everything. Lists
scope in SQL with the same rule."""
import sqlalchemy as sa

from procurement.accounts.roles import Role
from procurement.contracts.models import Agreement, AgreementCommunity, Cooperation
from procurement.contracts.states import DocumentState
from procurement.extensions import db
from procurement.orgs.models import Community
from procurement.tasks.models import GridCase

OFFICE_READERS = (Role.CONTRACT_MANAGER, Role.LEADER, Role.FINANCE_OFFICER)


def can_view_case(user, case: GridCase) -> bool:
    if user.has_role(Role.AUDITOR):
        return True
    if user.has_role(Role.AGENCY_STAFF) and user.org_id == case.agency_id:
        return True
    if user.has_role(Role.COMMITTEE_STAFF) and user.org_id == case.community.committee_id:
        return True
    return user.has_role(*OFFICE_READERS) and user.org_id == case.community.street_office_id


def visible_cases(user):
    """The same rule as a query, for lists: scoped in SQL, never filtered afterwards."""
    query = sa.select(GridCase)
    if user.has_role(Role.AUDITOR):
        return query
    conditions = []
    if user.has_role(Role.AGENCY_STAFF):
        conditions.append(GridCase.agency_id == user.org_id)
    if user.has_role(Role.COMMITTEE_STAFF):
        conditions.append(GridCase.community_id.in_(
            sa.select(Community.id).where(Community.committee_id == user.org_id)))
    if user.has_role(*OFFICE_READERS):
        conditions.append(GridCase.community_id.in_(
            sa.select(Community.id).where(Community.street_office_id == user.org_id)))
    return query.where(sa.or_(*conditions)) if conditions else query.where(sa.false())


# --- a community's grid work: task list, registers, records, completion -------------------


def _agency_communities(agency_id: int):
    """Communities an agency serves or served under any signed agreement."""
    return (sa.select(AgreementCommunity.community_id)
            .join(Agreement, Agreement.id == AgreementCommunity.agreement_id)
            .join(Cooperation, Cooperation.id == Agreement.cooperation_id)
            .where(Cooperation.agency_id == agency_id,
                   Agreement.state.in_((DocumentState.SIGNING, DocumentState.IN_FORCE))))


def visible_community_ids(user):
    """The communities whose grid work a user may read, as a select of ids: the agency the
    ones it serves, a residents' committee its own, the street office its own, auditors all."""
    query = sa.select(Community.id)
    if user.has_role(Role.AUDITOR):
        return query
    conditions = []
    if user.has_role(Role.AGENCY_STAFF):
        conditions.append(Community.id.in_(_agency_communities(user.org_id)))
    if user.has_role(Role.COMMITTEE_STAFF):
        conditions.append(Community.committee_id == user.org_id)
    if user.has_role(*OFFICE_READERS):
        conditions.append(Community.street_office_id == user.org_id)
    return query.where(sa.or_(*conditions)) if conditions else query.where(sa.false())


def can_view_community_work(user, community: Community) -> bool:
    return db.session.scalar(
        visible_community_ids(user).where(Community.id == community.id).limit(1)) is not None


def can_view_agreement_work(user, agreement: Agreement) -> bool:
    """The task list, team and completion of an agreement: its agency, the street office,
    the university evaluating it, the committees of its communities, auditors."""
    cooperation = agreement.cooperation
    if user.has_role(Role.AUDITOR):
        return True
    if user.has_role(Role.AGENCY_STAFF) and user.org_id == cooperation.agency_id:
        return True
    if user.has_role(*OFFICE_READERS) and user.org_id == cooperation.street_office_id:
        return True
    if user.has_role(Role.UNIVERSITY_EVALUATOR) and user.org_id == cooperation.university_id:
        return True
    return user.has_role(Role.COMMITTEE_STAFF) and any(
        row.community.committee_id == user.org_id for row in agreement.communities)


def serving_agreement(community_id: int, day) -> Agreement | None:
    """The annual agreement in force that covers this community on this day."""
    return db.session.scalar(
        sa.select(Agreement).join(AgreementCommunity,
                                  AgreementCommunity.agreement_id == Agreement.id)
        .where(AgreementCommunity.community_id == community_id,
               Agreement.state == DocumentState.IN_FORCE,
               Agreement.start_date <= day, Agreement.end_date >= day)
        .limit(1))


def is_serving_agency(user, community_id: int, day) -> bool:
    """Agency staff of the agency whose agreement covers the community on the day."""
    if not user.has_role(Role.AGENCY_STAFF):
        return False
    agreement = serving_agreement(community_id, day)
    return agreement is not None and agreement.cooperation.agency_id == user.org_id


# --- registers (households, enterprises and shops) -----------------------------------------


def can_edit_register(user, community: Community) -> bool:
    """Import into a community's registers and take rows out of them: the agency serving
    the community today, or a contract manager of its street office."""
    from procurement.core import clock

    if user.has_role(Role.CONTRACT_MANAGER) and user.org_id == community.street_office_id:
        return True
    return is_serving_agency(user, community.id, clock.today())


# --- progress records (records) -------------------------------------------------------------


def can_view_record(user, record) -> bool:
    """A progress record is read by whoever may read its community's grid work."""
    return can_view_community_work(user, record.community)


def can_change_record(user, record) -> bool:
    """Correct or withdraw: staff of the agency whose agreement the record belongs to."""
    return (user.has_role(Role.AGENCY_STAFF)
            and user.org_id == record.agreement.cooperation.agency_id)


def visible_agreements(user):
    """`can_view_agreement_work` as a query, for lists."""
    query = sa.select(Agreement).join(Cooperation, Cooperation.id == Agreement.cooperation_id)
    if user.has_role(Role.AUDITOR):
        return query
    conditions = []
    if user.has_role(Role.AGENCY_STAFF):
        conditions.append(Cooperation.agency_id == user.org_id)
    if user.has_role(*OFFICE_READERS):
        conditions.append(Cooperation.street_office_id == user.org_id)
    if user.has_role(Role.UNIVERSITY_EVALUATOR):
        conditions.append(Cooperation.university_id == user.org_id)
    if user.has_role(Role.COMMITTEE_STAFF):
        conditions.append(Agreement.id.in_(
            sa.select(AgreementCommunity.agreement_id)
            .join(Community, Community.id == AgreementCommunity.community_id)
            .where(Community.committee_id == user.org_id)))
    return query.where(sa.or_(*conditions)) if conditions else query.where(sa.false())


def reads_every_community(user, agreement: Agreement) -> bool:
    """Everyone who reads an agreement's evaluations reads all its communities, except a
    residents' committee, which reads its own."""
    cooperation = agreement.cooperation
    return (user.has_role(Role.AUDITOR)
            or (user.has_role(Role.AGENCY_STAFF) and user.org_id == cooperation.agency_id)
            or (user.has_role(Role.CONTRACT_MANAGER, Role.LEADER, Role.FINANCE_OFFICER)
                and user.org_id == cooperation.street_office_id)
            or (user.has_role(Role.UNIVERSITY_EVALUATOR)
                and user.org_id == cooperation.university_id))
