"""Who may see, manage and sign contracts. Every party sees its own cooperation; nobody
signs for another organisation (signing.sign checks the signer's own organisation)."""
from procurement.accounts.roles import Role
from procurement.contracts.models import Cooperation
from procurement.contracts.signing import SIGNING_ROLE, parties_of

OFFICE_READERS = (Role.CONTRACT_MANAGER, Role.LEADER, Role.FINANCE_OFFICER, Role.TENDER_OFFICER)


def party_org_ids(cooperation: Cooperation) -> set[int]:
    ids = {cooperation.street_office_id, cooperation.agency_id, cooperation.university_id}
    for agreement in cooperation.agreements:
        ids |= {p.org_id for p in agreement.parties}
    return ids


def can_manage(user, cooperation: Cooperation) -> bool:
    return user.has_role(Role.CONTRACT_MANAGER) and user.org_id == cooperation.street_office_id


def can_create(user, tender) -> bool:
    return user.has_role(Role.CONTRACT_MANAGER) and user.org_id == tender.street_office_id


def can_view(user, cooperation: Cooperation) -> bool:
    if user.has_role(Role.AUDITOR):
        return True
    if user.org_id == cooperation.street_office_id:
        return user.has_role(*OFFICE_READERS)
    if user.org_id in party_org_ids(cooperation):
        return user.has_role(Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.UNIVERSITY_EVALUATOR)
    return False


def can_sign(user, document) -> bool:
    """Shows the sign button; the service re-checks everything on the POST."""
    role = SIGNING_ROLE.get(user.org.kind)
    return (role is not None and user.has_role(role)
            and user.org_id in {o.id for o in parties_of(document)})
