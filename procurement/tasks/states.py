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


# --- the task list, registers and progress records -----------------------------------------


class TaskKind(Labelled):
    """What a task on the service list is (DOMAIN.md 4)."""
    HOUSEHOLD_VISIT = "household_visit"
    VULNERABLE_VISIT = "vulnerable_visit"
    INFO_COLLECTION = "info_collection"
    GRID_CASES = "grid_cases"
    ENTERPRISE_INSPECTION = "enterprise_inspection"
    SHOP_INSPECTION = "shop_inspection"
    FAMILY_PLANNING = "family_planning"
    SANITATION = "sanitation"
    PATROL = "patrol"
    SOCIAL_ORGANISATION = "social_organisation"
    WINDOW_SERVICE = "window_service"
    HOME_HANDLING = "home_handling"
    ACTIVITY = "activity"
    TRAINING = "training"
    SUPERVISION = "supervision"
    JOINT_MEETING = "joint_meeting"


class TaskGroup(Labelled):
    GRID = "grid"
    CENTRE = "centre"
    ROUTINE = "routine"  # activities, trainings, supervision and meetings


class Measure(Labelled):
    """How a task's completion is computed from the records."""
    COVERAGE = "coverage"  # every item of a register covered once per period
    RAMP = "ramp"          # a share of a register per week, cumulative, until all of it
    COUNT = "count"        # so many records per period
    SHARE = "share"        # a share of the period's items done (on time / resolved)


class Frequency(Labelled):
    WEEKLY = "weekly"
    HALF_MONTHLY = "half_monthly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"
    WITHIN = "within"  # once, within the first N months of the agreement


class Population(Labelled):
    """The register a coverage or ramp target counts against."""
    HOUSEHOLDS = "households"
    VULNERABLE = "vulnerable"
    ENTERPRISES = "enterprises"
    SHOPS = "shops"


class PremisesKind(Labelled):
    ENTERPRISE = "enterprise"
    SHOP = "shop"


class RecordKind(Labelled):
    """A progress record the grid social workers enter."""
    VISIT = "visit"
    INFO_UPDATE = "info_update"
    INSPECTION = "inspection"
    FAMILY_PLANNING = "family_planning"
    SANITATION = "sanitation"
    PATROL = "patrol"
    SOCIAL_ORGANISATION = "social_organisation"
    WINDOW_SERVICE = "window_service"
    HOME_HANDLING = "home_handling"
    ACTIVITY = "activity"
    TRAINING = "training"
    SUPERVISION = "supervision"
    TEAM_MEETING = "team_meeting"
    JOINT_MEETING = "joint_meeting"


class RecordStatus(Labelled):
    CURRENT = "current"
    CORRECTED = "corrected"   # replaced by a correction, which points back to it
    WITHDRAWN = "withdrawn"   # entered by mistake; kept, with the reason


# Which records a task counts. Grid cases are counted from the cases themselves.
TASK_RECORDS = {
    TaskKind.HOUSEHOLD_VISIT: RecordKind.VISIT,
    TaskKind.VULNERABLE_VISIT: RecordKind.VISIT,
    TaskKind.INFO_COLLECTION: RecordKind.INFO_UPDATE,
    TaskKind.ENTERPRISE_INSPECTION: RecordKind.INSPECTION,
    TaskKind.SHOP_INSPECTION: RecordKind.INSPECTION,
    TaskKind.FAMILY_PLANNING: RecordKind.FAMILY_PLANNING,
    TaskKind.SANITATION: RecordKind.SANITATION,
    TaskKind.PATROL: RecordKind.PATROL,
    TaskKind.SOCIAL_ORGANISATION: RecordKind.SOCIAL_ORGANISATION,
    TaskKind.WINDOW_SERVICE: RecordKind.WINDOW_SERVICE,
    TaskKind.HOME_HANDLING: RecordKind.HOME_HANDLING,
    TaskKind.ACTIVITY: RecordKind.ACTIVITY,
    TaskKind.TRAINING: RecordKind.TRAINING,
    TaskKind.SUPERVISION: RecordKind.SUPERVISION,
    TaskKind.JOINT_MEETING: RecordKind.JOINT_MEETING,
}
CENTRE_TASKS = frozenset({TaskKind.WINDOW_SERVICE, TaskKind.HOME_HANDLING})
ROUTINE_TASKS = frozenset({TaskKind.ACTIVITY, TaskKind.TRAINING, TaskKind.SUPERVISION,
                           TaskKind.JOINT_MEETING})
# Records about one household, or one enterprise or shop, and records that belong to a grid.
HOUSEHOLD_RECORDS = frozenset({RecordKind.VISIT, RecordKind.INFO_UPDATE})
PREMISES_RECORDS = frozenset({RecordKind.INSPECTION})
COMMUNITY_RECORDS = frozenset({RecordKind.WINDOW_SERVICE, RecordKind.SOCIAL_ORGANISATION,
                               RecordKind.TRAINING,
                               RecordKind.SUPERVISION, RecordKind.TEAM_MEETING,
                               RecordKind.JOINT_MEETING, RecordKind.ACTIVITY})
# Records with participants, and with minutes.
PARTICIPANT_RECORDS = frozenset({RecordKind.ACTIVITY, RecordKind.TRAINING,
                                 RecordKind.SUPERVISION, RecordKind.TEAM_MEETING,
                                 RecordKind.JOINT_MEETING})
MINUTES_RECORDS = frozenset({RecordKind.TEAM_MEETING, RecordKind.JOINT_MEETING,
                             RecordKind.SUPERVISION})


def group_of(kind: TaskKind) -> TaskGroup:
    if kind in CENTRE_TASKS:
        return TaskGroup.CENTRE
    return TaskGroup.ROUTINE if kind in ROUTINE_TASKS else TaskGroup.GRID


R = RecordStatus
RECORD = StateMachine("工作记录", {R.CURRENT: {R.CORRECTED, R.WITHDRAWN}}, attribute="status")

LABELS.update({(type(member), member.value): label for member, label in [
    (TaskKind.HOUSEHOLD_VISIT, _l("入户走访")),
    (TaskKind.VULNERABLE_VISIT, _l("重点人群走访")),
    (TaskKind.INFO_COLLECTION, _l("信息采集")),
    (TaskKind.GRID_CASES, _l("网格事件处置")),
    (TaskKind.ENTERPRISE_INSPECTION, _l("企业安全生产检查")),
    (TaskKind.SHOP_INSPECTION, _l("店铺安全检查")),
    (TaskKind.FAMILY_PLANNING, _l("计生管理")),
    (TaskKind.SANITATION, _l("环境卫生")),
    (TaskKind.PATROL, _l("两违巡查")),
    (TaskKind.SOCIAL_ORGANISATION, _l("社区社会组织培育")),
    (TaskKind.WINDOW_SERVICE, _l("窗口服务")),
    (TaskKind.HOME_HANDLING, _l("上门代办")),
    (TaskKind.ACTIVITY, _l("社区活动")),
    (TaskKind.TRAINING, _l("培训")),
    (TaskKind.SUPERVISION, _l("督导")),
    (TaskKind.JOINT_MEETING, _l("联席会议")),
    (TaskGroup.GRID, _l("网格")),
    (TaskGroup.CENTRE, _l("中心")),
    (TaskGroup.ROUTINE, _l("活动、培训与会议")),
    (Measure.COVERAGE, _l("全覆盖")),
    (Measure.RAMP, _l("按周递进")),
    (Measure.COUNT, _l("次数")),
    (Measure.SHARE, _l("比例")),
    (Frequency.WEEKLY, _l("每周")),
    (Frequency.HALF_MONTHLY, _l("每半月")),
    (Frequency.MONTHLY, _l("每月")),
    (Frequency.QUARTERLY, _l("每季度")),
    (Frequency.HALF_YEARLY, _l("每半年")),
    (Frequency.YEARLY, _l("每年")),
    (Frequency.WITHIN, _l("限期内一次")),
    (Population.HOUSEHOLDS, _l("全部住户")),
    (Population.VULNERABLE, _l("重点住户")),
    (Population.ENTERPRISES, _l("企业")),
    (Population.SHOPS, _l("店铺")),
    (PremisesKind.ENTERPRISE, _l("企业")),
    (PremisesKind.SHOP, _l("店铺")),
    (RecordKind.VISIT, _l("入户走访")),
    (RecordKind.INFO_UPDATE, _l("信息采集更新")),
    (RecordKind.INSPECTION, _l("安全检查")),
    (RecordKind.FAMILY_PLANNING, _l("计生服务")),
    (RecordKind.SANITATION, _l("环境卫生")),
    (RecordKind.PATROL, _l("两违巡查")),
    (RecordKind.SOCIAL_ORGANISATION, _l("社会组织培育")),
    (RecordKind.WINDOW_SERVICE, _l("窗口服务")),
    (RecordKind.HOME_HANDLING, _l("上门代办")),
    (RecordKind.ACTIVITY, _l("社区活动")),
    (RecordKind.TRAINING, _l("培训")),
    (RecordKind.SUPERVISION, _l("督导")),
    (RecordKind.TEAM_MEETING, _l("团队例会")),
    (RecordKind.JOINT_MEETING, _l("联席会议")),
    (RecordStatus.CURRENT, _l("有效")),
    (RecordStatus.CORRECTED, _l("已更正")),
    (RecordStatus.WITHDRAWN, _l("已作废")),
]})
