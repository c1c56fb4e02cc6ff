"""Roles and which kind of organisation may hold each."""
from enum import StrEnum

from flask_babel import lazy_gettext as _l

from procurement.orgs.models import OrgKind


class Role(StrEnum):
    ADMIN = "admin"
    TENDER_OFFICER = "tender_officer"
    CONTRACT_MANAGER = "contract_manager"
    FINANCE_OFFICER = "finance_officer"
    LEADER = "leader"
    AGENCY_STAFF = "agency_staff"
    COMMITTEE_STAFF = "committee_staff"
    UNIVERSITY_EVALUATOR = "university_evaluator"
    JUDGE = "judge"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ADMIN: _l("系统管理员"),
    Role.TENDER_OFFICER: _l("招标专员"),
    Role.CONTRACT_MANAGER: _l("合同管理员"),
    Role.FINANCE_OFFICER: _l("财务人员"),
    Role.LEADER: _l("街道领导"),
    Role.AGENCY_STAFF: _l("社工机构人员"),
    Role.COMMITTEE_STAFF: _l("居委会人员"),
    Role.UNIVERSITY_EVALUATOR: _l("高校评估员"),
    Role.JUDGE: _l("评委"),
    Role.AUDITOR: _l("审计人员"),
}

# A role only makes sense in some kinds of organisation: an agency user can never be a
# finance officer of the street office. Judges are the purchaser's representatives (street
# office) or experts (universities, government expert pools).
ROLE_ORG_KINDS: dict[Role, frozenset[OrgKind]] = {
    Role.ADMIN: frozenset({OrgKind.STREET_OFFICE, OrgKind.GOVERNMENT}),
    Role.TENDER_OFFICER: frozenset({OrgKind.STREET_OFFICE}),
    Role.CONTRACT_MANAGER: frozenset({OrgKind.STREET_OFFICE}),
    Role.FINANCE_OFFICER: frozenset({OrgKind.STREET_OFFICE}),
    Role.LEADER: frozenset({OrgKind.STREET_OFFICE}),
    Role.AGENCY_STAFF: frozenset({OrgKind.AGENCY}),
    Role.COMMITTEE_STAFF: frozenset({OrgKind.RESIDENTS_COMMITTEE}),
    Role.UNIVERSITY_EVALUATOR: frozenset({OrgKind.UNIVERSITY}),
    Role.JUDGE: frozenset({OrgKind.STREET_OFFICE, OrgKind.UNIVERSITY, OrgKind.GOVERNMENT}),
    Role.AUDITOR: frozenset({OrgKind.GOVERNMENT, OrgKind.STREET_OFFICE}),
}

# What each role does here, shown on the home page.
ROLE_DUTIES = {
    Role.ADMIN: _l("管理组织机构与用户账号：新建、停用、重置密码。"),
    Role.TENDER_OFFICER: _l("发起招标、邀请机构、组建评标委员会并公布结果。"),
    Role.CONTRACT_MANAGER: _l("起草并签订四方合同、年度协议、变更与专项协议，申请季度拨付。"),
    Role.FINANCE_OFFICER: _l("审核并支付季度拨付款，登记支付凭证。"),
    Role.LEADER: _l("审批拨付、审阅评估结果与续签决定。"),
    Role.AGENCY_STAFF: _l("投标、填报服务任务进度、提交季度自评。"),
    Role.COMMITTEE_STAFF: _l("协助机构融入社区，收集居民意见，每季度填写监督评价。"),
    Role.UNIVERSITY_EVALUATOR: _l("提供专业指导，填写专业（第三方）评估。"),
    Role.JUDGE: _l("独立为投标文件评分，可能有多轮。"),
    Role.AUDITOR: _l("查阅全部记录与审计日志，核验审计链；不能修改任何数据。"),
}
