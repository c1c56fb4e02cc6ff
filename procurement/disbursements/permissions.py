"""Who reads the disbursements: the agency its own agreements, the street office (contract
manager, finance officer, leader) its own, a residents' committee the account of its own
community only, auditors everything. Lists and totals scope in SQL with the same rule.
Who may take a step is the services' rule, never decided here."""
import sqlalchemy as sa

from procurement.accounts.roles import Role
from procurement.contracts.models import Agreement, Cooperation
from procurement.disbursements.models import Account
from procurement.orgs.models import Community

OFFICE = (Role.CONTRACT_MANAGER, Role.LEADER, Role.FINANCE_OFFICER)


def reads_all_accounts(user, agreement: Agreement) -> bool:
    cooperation = agreement.cooperation
    return (user.has_role(Role.AUDITOR)
            or (user.has_role(Role.AGENCY_STAFF) and user.org_id == cooperation.agency_id)
            or (user.has_role(*OFFICE) and user.org_id == cooperation.street_office_id))


def can_view_disbursements(user, agreement: Agreement) -> bool:
    """The agreement's ledger page: all of it, or a committee's own community in it."""
    if reads_all_accounts(user, agreement):
        return True
    return user.has_role(Role.COMMITTEE_STAFF) and any(
        row.community.committee_id == user.org_id for row in agreement.communities)


def can_view_account(user, account: Account) -> bool:
    if reads_all_accounts(user, account.agreement):
        return True
    return (user.has_role(Role.COMMITTEE_STAFF) and account.community_id is not None
            and account.community.committee_id == user.org_id)


def visible_account_condition(user):
    """`can_view_account` as a SQL condition on Account (joined to nothing)."""
    if user.has_role(Role.AUDITOR):
        return sa.true()
    conditions = []
    agencies_and_offices = []
    if user.has_role(Role.AGENCY_STAFF):
        agencies_and_offices.append(Cooperation.agency_id == user.org_id)
    if user.has_role(*OFFICE):
        agencies_and_offices.append(Cooperation.street_office_id == user.org_id)
    if agencies_and_offices:
        conditions.append(Account.agreement_id.in_(
            sa.select(Agreement.id).join(Cooperation, Cooperation.id == Agreement.cooperation_id)
            .where(sa.or_(*agencies_and_offices))))
    if user.has_role(Role.COMMITTEE_STAFF):
        conditions.append(Account.community_id.in_(
            sa.select(Community.id).where(Community.committee_id == user.org_id)))
    return sa.or_(*conditions) if conditions else sa.false()


def visible_accounts(user):
    return sa.select(Account).where(visible_account_condition(user))

