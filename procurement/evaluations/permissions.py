"""Who rates what, and who reads it. Each source is rated only by its own people, for the
organisations and periods they are entitled to: the agency its self-assessment, a residents'
committee its own community, the street office and the university the agreements they are
party to. Readers are those of the agreement's work (tasks.permissions); a committee reads
its own community only; a draft is read only by those who may rate it."""
from procurement.accounts.roles import Role
from procurement.contracts.models import Agreement
from procurement.contracts.states import EvaluationSource as Src
from procurement.evaluations.states import SheetState
from procurement.tasks.permissions import can_view_agreement_work, reads_every_community

OFFICE_RATERS = (Role.CONTRACT_MANAGER, Role.LEADER)


def covers(agreement: Agreement, community) -> bool:
    return any(row.community_id == community.id for row in agreement.communities)


def can_rate(user, agreement: Agreement, community, source: Src) -> bool:
    if not covers(agreement, community):
        return False
    cooperation = agreement.cooperation
    if source is Src.SELF:
        return user.has_role(Role.AGENCY_STAFF) and user.org_id == cooperation.agency_id
    if source is Src.COMMITTEE:
        return user.has_role(Role.COMMITTEE_STAFF) and user.org_id == community.committee_id
    if source is Src.STREET_OFFICE:
        return user.has_role(*OFFICE_RATERS) and user.org_id == cooperation.street_office_id
    if source is Src.UNIVERSITY:
        return (user.has_role(Role.UNIVERSITY_EVALUATOR)
                and user.org_id == cooperation.university_id)
    return False  # residents answer the survey, without an account


def can_manage(user, agreement: Agreement) -> bool:
    """The street office runs the evaluation: reviews self-assessments, runs surveys,
    finalises periods."""
    return (user.has_role(*OFFICE_RATERS)
            and user.org_id == agreement.cooperation.street_office_id)


def can_view(user, agreement: Agreement, community=None) -> bool:
    if not can_view_agreement_work(user, agreement):
        return False
    if community is None or reads_every_community(user, agreement):
        return True
    return community.committee_id == user.org_id


def can_view_sheet(user, sheet) -> bool:
    agreement = sheet.period.agreement
    if not can_view(user, agreement, sheet.community):
        return False
    if sheet.state is SheetState.DRAFT:
        return can_rate(user, agreement, sheet.community, sheet.source)
    return True


def can_plan(user, agreement: Agreement) -> bool:
    """Set the indicators and schedule the mid-term and final evaluations: the street
    office's contract manager (plan.update_indicators and plan.add_review check again)."""
    return (user.has_role(Role.CONTRACT_MANAGER)
            and user.org_id == agreement.cooperation.street_office_id)
