"""States, categories and roles of the contract side."""
from flask_babel import lazy_gettext as _l

from procurement.core.states import LabelledEnum as Labelled, StateMachine


class CooperationState(Labelled):
    DRAFT = "draft"
    ACTIVE = "active"
    ENDED = "ended"
    TERMINATED = "terminated"


class DocumentState(Labelled):
    """Agreements, amendments and special agreements all go the same way."""
    DRAFT = "draft"          # no signature yet: editable
    SIGNING = "signing"      # some parties have signed this version
    IN_FORCE = "in_force"    # every party signed this version
    CANCELLED = "cancelled"


class PartyRole(Labelled):
    PURCHASER = "purchaser"
    SUPERVISOR = "supervisor"
    RESEARCH = "research"
    CONTRACTOR = "contractor"


class SubContractKind(Labelled):
    GRID = "grid"
    CENTRE = "centre"


class BudgetCategory(Labelled):
    WAGES = "wages"
    TAX = "tax"
    SUPERVISION = "supervision"
    MANAGEMENT = "management"
    TRAINING = "training"
    ACTIVITIES = "activities"
    EVALUATION = "evaluation"


class EvaluationSource(Labelled):
    STREET_OFFICE = "street_office"
    COMMITTEE = "committee"
    UNIVERSITY = "university"
    RESIDENTS = "residents"
    SELF = "self"


class Grade(Labelled):
    EXCELLENT = "excellent"
    GOOD = "good"
    PASS = "pass"
    FAIL = "fail"


class DocumentKind(Labelled):
    AGREEMENT = "agreement"
    AMENDMENT = "amendment"
    SPECIAL = "special"


_LABELLED = [
    (CooperationState.DRAFT, _l("起草中")),
    (CooperationState.ACTIVE, _l("合作中")),
    (CooperationState.ENDED, _l("已期满")),
    (CooperationState.TERMINATED, _l("已终止")),
    (DocumentState.DRAFT, _l("草稿")),
    (DocumentState.SIGNING, _l("签署中")),
    (DocumentState.IN_FORCE, _l("已生效")),
    (DocumentState.CANCELLED, _l("已作废")),
    (PartyRole.PURCHASER, _l("委托方（购买方）")),
    (PartyRole.SUPERVISOR, _l("监督管理方")),
    (PartyRole.RESEARCH, _l("调研提升方")),
    (PartyRole.CONTRACTOR, _l("承包方（服务督导方）")),
    (SubContractKind.GRID, _l("网格")),
    (SubContractKind.CENTRE, _l("中心")),
    (BudgetCategory.WAGES, _l("工资福利")),
    (BudgetCategory.TAX, _l("服务税费")),
    (BudgetCategory.SUPERVISION, _l("督导费")),
    (BudgetCategory.MANAGEMENT, _l("管理费")),
    (BudgetCategory.TRAINING, _l("培训费")),
    (BudgetCategory.ACTIVITIES, _l("活动费")),
    (BudgetCategory.EVALUATION, _l("评估费")),
    (EvaluationSource.STREET_OFFICE, _l("街道办事处评价")),
    (EvaluationSource.COMMITTEE, _l("居委会监督评价")),
    (EvaluationSource.UNIVERSITY, _l("高校专业评估")),
    (EvaluationSource.RESIDENTS, _l("居民满意度调查")),
    (EvaluationSource.SELF, _l("机构自评")),
    (Grade.EXCELLENT, _l("优秀")),
    (Grade.GOOD, _l("良好")),
    (Grade.PASS, _l("基本合格")),
    (Grade.FAIL, _l("不合格")),
    (DocumentKind.AGREEMENT, _l("年度协议")),
    (DocumentKind.AMENDMENT, _l("变更协议")),
    (DocumentKind.SPECIAL, _l("专项服务合作协议")),
]
LABELS = {(type(member), member.value): label for member, label in _LABELLED}

COOPERATION = StateMachine("合作", {
    CooperationState.DRAFT: {CooperationState.ACTIVE, CooperationState.TERMINATED},
    CooperationState.ACTIVE: {CooperationState.ENDED, CooperationState.TERMINATED},
})
D = DocumentState
DOCUMENT = StateMachine("协议", {
    D.DRAFT: {D.SIGNING, D.IN_FORCE, D.CANCELLED},
    D.SIGNING: {D.SIGNING, D.DRAFT, D.IN_FORCE, D.CANCELLED},
})
EDITABLE = frozenset({D.DRAFT, D.SIGNING})
