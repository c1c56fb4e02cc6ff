"""States and kinds of grid work."""
from flask_babel import lazy_gettext as _l

from procurement.core.states import LabelledEnum as Labelled, StateMachine


class CaseState(Labelled):
    REPORTED = "reported"
    VERIFIED = "verified"
    CANCELLED = "cancelled"
    ESCALATED = "escalated"
    HANDLED = "handled"
    FED_BACK = "fed_back"
    CLOSED = "closed"
    RATED = "rated"


class CaseCategory(Labelled):
    SAFETY = "safety"
    SANITATION = "sanitation"
    ILLEGAL_BUILDING = "illegal_building"
    DISPUTE = "dispute"
    FACILITIES = "facilities"
    POPULATION = "population"
    OTHER = "other"


class Urgency(Labelled):
    NORMAL = "normal"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class TeamRole(Labelled):
    CHIEF_SUPERVISOR = "chief_supervisor"
    SUPERVISOR = "supervisor"
    PROJECT_LEAD = "project_lead"
    GRID_WORKER = "grid_worker"


# Roles tied to one grid; the others serve the whole community.
GRID_ROLES = frozenset({TeamRole.SUPERVISOR, TeamRole.GRID_WORKER})

_LABELLED = [
    (TeamRole.CHIEF_SUPERVISOR, _l("总督导")),
    (TeamRole.SUPERVISOR, _l("网格督导")),
    (TeamRole.PROJECT_LEAD, _l("专业社工（项目负责人）")),
    (TeamRole.GRID_WORKER, _l("网格社工")),
    (CaseState.REPORTED, _l("已上报")),
    (CaseState.VERIFIED, _l("已核实")),
    (CaseState.CANCELLED, _l("已撤销")),
    (CaseState.ESCALATED, _l("已上报街道部门")),
    (CaseState.HANDLED, _l("已处置")),
    (CaseState.FED_BACK, _l("已反馈上报人")),
    (CaseState.CLOSED, _l("已核查办结")),
    (CaseState.RATED, _l("已评价")),
    (CaseCategory.SAFETY, _l("安全隐患")),
    (CaseCategory.SANITATION, _l("环境卫生")),
    (CaseCategory.ILLEGAL_BUILDING, _l("两违（违法建设、违法用地）")),
    (CaseCategory.DISPUTE, _l("矛盾纠纷")),
    (CaseCategory.FACILITIES, _l("公共设施")),
    (CaseCategory.POPULATION, _l("人口与计生")),
    (CaseCategory.OTHER, _l("其他")),
    (Urgency.NORMAL, _l("一般")),
    (Urgency.URGENT, _l("紧急")),
    (Urgency.EMERGENCY, _l("特急")),
]
LABELS = {(type(member), member.value): label for member, label in _LABELLED}

S = CaseState
# RULES.md "Grid work": reported → verified (or cancelled) → handled on the spot or
# escalated → result reported back → checked and closed by someone else → rated.
CASE = StateMachine("网格事件", {
    S.REPORTED: {S.VERIFIED, S.CANCELLED},
    S.VERIFIED: {S.HANDLED, S.ESCALATED},
    S.ESCALATED: {S.HANDLED},
    S.HANDLED: {S.FED_BACK},
    S.FED_BACK: {S.CLOSED},
    S.CLOSED: {S.RATED},
})
OPEN_CASES = frozenset({S.REPORTED, S.VERIFIED, S.ESCALATED, S.HANDLED, S.FED_BACK})
