"""Who sees grid cases: the agency serving the community its own, the residents' committee
its own community, the street office all of its own communities, auditors everything."""
import sqlalchemy as sa

from procurement.accounts.roles import Role
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
