"""The service task list (服务清单) of an annual agreement, per community (DOMAIN.md 4): each
task with a measurable target. The street office drafts it with the agreement and it is
fixed once the agreement goes to signing; a renewal starts from the previous year's list."""
from dataclasses import dataclass

import sqlalchemy as sa

from procurement.accounts.roles import Role
from procurement.audit import record, snapshot
from procurement.contracts.models import Agreement, SubContract
from procurement.contracts.states import DocumentState, SubContractKind
from procurement.core.errors import DomainError
from procurement.extensions import db
from procurement.tasks.models import ServiceTask
from procurement.tasks.states import (Frequency as F, Measure as M, Population as P, TaskGroup,
                                      TaskKind as K, group_of)

TASK_FIELDS = ("kind", "title", "measure", "frequency", "population", "quantity",
               "within_months", "per_grid")


@dataclass(frozen=True)
class Target:
    measure: M
    frequency: F
    population: P | None = None
    quantity: int | None = None
    within_months: int | None = None
    per_grid: bool = False


# The Lingyuan list (DOMAIN.md 4-5; RULES.md "Grid work"), per community.
DEFAULT_TASKS: list[tuple[K, str, str, Target]] = [
    (K.HOUSEHOLD_VISIT, "入户走访", "网格社工对网格内每户至少走访一次，建立联系，了解需求。",
     Target(M.COVERAGE, F.WITHIN, P.HOUSEHOLDS, within_months=3)),
    (K.VULNERABLE_VISIT, "重点人群走访",
     "独居老人、困难家庭、流动人口、社区矫正人员和残疾人家庭每月走访一次。",
     Target(M.COVERAGE, F.MONTHLY, P.VULNERABLE)),
    (K.INFO_COLLECTION, "信息采集", "核查、更新楼栋和人口信息并录入网格信息平台，每周完成10%，直至全部完成。",
     Target(M.RAMP, F.WEEKLY, P.HOUSEHOLDS, quantity=10)),
    (K.GRID_CASES, "网格事件处置", "发现、上报、处置、反馈；按时处置率不低于95%。",
     Target(M.SHARE, F.QUARTERLY, quantity=95)),
    (K.ENTERPRISE_INSPECTION, "企业安全生产检查", "辖区每家企业每月检查一次，发现隐患督促整改。",
     Target(M.COVERAGE, F.MONTHLY, P.ENTERPRISES)),
    (K.SHOP_INSPECTION, "店铺安全检查", "辖区每家店铺每季度检查一次。",
     Target(M.COVERAGE, F.QUARTERLY, P.SHOPS)),
    (K.FAMILY_PLANNING, "计生管理", "计生政策宣传、育龄妇女随访，每个网格每月不少于2次。",
     Target(M.COUNT, F.MONTHLY, quantity=2, per_grid=True)),
    (K.SANITATION, "环境卫生", "网格环境卫生巡查，每个网格每周1次。",
     Target(M.COUNT, F.WEEKLY, quantity=1, per_grid=True)),
    (K.PATROL, "两违巡查", "违法建设、违法用地巡查，每个网格每周1次。",
     Target(M.COUNT, F.WEEKLY, quantity=1, per_grid=True)),
    (K.SOCIAL_ORGANISATION, "社区社会组织培育", "培育、扶持社区社会组织，每季度至少开展1次培育活动。",
     Target(M.COUNT, F.QUARTERLY, quantity=1)),
    (K.WINDOW_SERVICE, "窗口服务", "社区公共服务中心一站式受理、转办、办结；办结率不低于95%。",
     Target(M.SHARE, F.QUARTERLY, quantity=95)),
    (K.HOME_HANDLING, "上门代办", "行动不便的居民上门代办准生证、房屋修缮、医保社保缴费等；办结率100%。",
     Target(M.SHARE, F.QUARTERLY, quantity=100)),
    (K.ACTIVITY, "社区活动", "组织社区文体、节庆、志愿服务等活动，每月不少于3场。",
     Target(M.COUNT, F.MONTHLY, quantity=3)),
    (K.TRAINING, "培训", "社工和网格员业务培训，每月1次。", Target(M.COUNT, F.MONTHLY, quantity=1)),
    (K.SUPERVISION, "督导", "督导师半月督导一次。", Target(M.COUNT, F.HALF_MONTHLY, quantity=1)),
    (K.JOINT_MEETING, "联席会议", "街道与机构每季度召开一次联席会议：进度、季度考核、问题。",
     Target(M.COUNT, F.QUARTERLY, quantity=1)),
]

# Which registers a task kind may count against, and which measures fit it.
POPULATIONS = {K.HOUSEHOLD_VISIT: {P.HOUSEHOLDS, P.VULNERABLE},
               K.VULNERABLE_VISIT: {P.VULNERABLE, P.HOUSEHOLDS},
               K.INFO_COLLECTION: {P.HOUSEHOLDS},
               K.ENTERPRISE_INSPECTION: {P.ENTERPRISES},
               K.SHOP_INSPECTION: {P.SHOPS}}
SHARE_KINDS = {K.GRID_CASES, K.WINDOW_SERVICE, K.HOME_HANDLING}


def check_target(kind: K, target: Target) -> None:
    """Every task has a measurable target that its records can be counted against."""
    m, f, q = target.measure, target.frequency, target.quantity
    if m in (M.COVERAGE, M.RAMP):
        if target.population not in POPULATIONS.get(kind, set()):
            raise DomainError(f"“{kind.label}”不能按台账覆盖计算，请选择次数或比例。", field="measure")
    elif target.population is not None:
        raise DomainError("只有全覆盖和按周递进的目标需要选择台账。", field="population")
    if m is M.SHARE and kind not in SHARE_KINDS:
        raise DomainError(f"“{kind.label}”不能按比例计算。", field="measure")
    if m is not M.SHARE and kind is K.GRID_CASES:
        raise DomainError("网格事件按按时处置率（比例）计算。", field="measure")
    if m is M.COVERAGE:
        if f in (F.WEEKLY, F.HALF_MONTHLY):
            raise DomainError("全覆盖的周期至少为一个月。", field="frequency")
        if q is not None:
            raise DomainError("全覆盖的目标不填数量：台账上的每一户（家）都要覆盖。", field="quantity")
    if m is M.RAMP and (f is not F.WEEKLY or q is None or not 1 <= q <= 100):
        raise DomainError("按周递进的目标须为每周完成的百分比（1～100）。", field="quantity")
    if m is M.SHARE and (f is not F.QUARTERLY or q is None or not 1 <= q <= 100):
        raise DomainError("比例目标须为每季度的百分比（1～100）。", field="quantity")
    if m is M.COUNT:
        if f is F.WITHIN:
            raise DomainError("次数目标须有周期。", field="frequency")
        if q is None or not 1 <= q <= 1000:
            raise DomainError("请填写每个周期的次数（1～1000）。", field="quantity")
    if (f is F.WITHIN) != (target.within_months is not None):
        raise DomainError("“限期内一次”须填写期限（前几个月），其他周期不填。", field="within_months")
    if target.within_months is not None and not 1 <= target.within_months <= 12:
        raise DomainError("期限应为1～12个月。", field="within_months")
    if target.per_grid and m is not M.COUNT:
        raise DomainError("只有次数目标可以按网格计。", field="per_grid")


def _require_editable(actor, agreement: Agreement) -> None:
    if not (actor.has_role(Role.CONTRACT_MANAGER)
            and actor.org_id == agreement.cooperation.street_office_id):
        raise DomainError("只有本街道的合同管理员可以编制服务清单。")
    if agreement.state is not DocumentState.DRAFT:
        raise DomainError("协议已进入签署，服务清单不能再修改；如需调整请走协议变更。")


def tasks_of(agreement: Agreement, community_id: int | None = None) -> list[ServiceTask]:
    query = sa.select(ServiceTask).where(ServiceTask.agreement_id == agreement.id)
    if community_id is not None:
        query = query.where(ServiceTask.community_id == community_id)
    return list(db.session.scalars(query.order_by(ServiceTask.community_id,
                                                  ServiceTask.position)))


def _sub_contract(agreement: Agreement, kind: K) -> SubContract | None:
    wanted = SubContractKind.CENTRE if group_of(kind) is TaskGroup.CENTRE else SubContractKind.GRID
    return next((s for s in agreement.sub_contracts if s.kind is wanted), None)


def _previous(agreement: Agreement) -> Agreement | None:
    return next((a for a in agreement.cooperation.agreements
                 if a.year_no == agreement.year_no - 1), None)


def draw_up(actor, agreement: Agreement) -> list[ServiceTask]:
    """Fill in the list for every community that has none: the previous year's tasks for a
    renewal, the Lingyuan defaults otherwise."""
    _require_editable(actor, agreement)
    have = {t.community_id for t in tasks_of(agreement)}
    previous = _previous(agreement)
    created = []
    for row in agreement.communities:
        if row.community_id in have:
            continue
        source = [(t.kind, t.title, t.description, Target(t.measure, t.frequency, t.population,
                                                          t.quantity, t.within_months,
                                                          t.per_grid))
                  for t in tasks_of(previous, row.community_id)] if previous else []
        for position, (kind, title, description, target) in enumerate(source or DEFAULT_TASKS):
            task = ServiceTask(agreement_id=agreement.id, community_id=row.community_id,
                               sub_contract=_sub_contract(agreement, kind), kind=kind,
                               title=title, description=description, position=position,
                               measure=target.measure, frequency=target.frequency,
                               population=target.population, quantity=target.quantity,
                               within_months=target.within_months, per_grid=target.per_grid)
            db.session.add(task)
            created.append(task)
    if not created:
        raise DomainError("各社区的服务清单都已编制。")
    db.session.flush()
    record(actor, "tasks.draw_up", agreement, None,
           {"tasks": len(created), "from": "上一年度" if previous else "默认清单"})
    return created


def update_task(actor, task: ServiceTask, *, title: str, description: str, target: Target
                ) -> ServiceTask:
    _require_editable(actor, task.agreement)
    title = (title or "").strip()
    if not title:
        raise DomainError("请填写任务名称。", field="title")
    check_target(task.kind, target)
    before = snapshot(task, *TASK_FIELDS)
    task.title, task.description = title[:100], (description or "").strip()
    task.measure, task.frequency, task.population = target.measure, target.frequency, \
        target.population
    task.quantity, task.within_months, task.per_grid = target.quantity, target.within_months, \
        target.per_grid
    db.session.flush()
    after = snapshot(task, *TASK_FIELDS)
    if after != before:  # saved unchanged: nothing to record
        record(actor, "tasks.update", task, before, after)
    return task


def describe(task: ServiceTask) -> str:
    """The target in words, as the list and the contract show it."""
    m, f, q = task.measure, task.frequency, task.quantity
    if m is M.COVERAGE:
        when = f"前{task.within_months}个月内" if f is F.WITHIN else f.label
        return f"{task.population.label}{when}全部覆盖一次"
    if m is M.RAMP:
        return f"{task.population.label}每周完成{q}%，直至全部完成"
    if m is M.SHARE:
        return f"每季度不低于{q}%"
    return f"{'每个网格' if task.per_grid else '每社区'}{f.label}{q}次"
