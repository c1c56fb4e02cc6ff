"""Home-page to-dos of grid work: overdue grid cases for everyone who sees them, the cases
waiting on the serving agency or on the reporter, and this quarter's overdue and at-risk
tasks of the agreements in force."""
import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from flask import url_for
from flask_babel import gettext as _

from procurement.accounts.roles import Role
from procurement.core import clock
from procurement.extensions import db
from procurement.home.todos import Todo, provides
from procurement.contracts.models import Agreement
from procurement.contracts.states import DocumentState
from procurement.tasks import completion
from procurement.tasks.completion import Status
from procurement.tasks.models import GridCase
from procurement.tasks.permissions import visible_agreements, visible_cases
from procurement.tasks.states import OPEN_CASES, CaseState


def _count(query) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


@provides(Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER)
def grid_case_todos(user) -> list[Todo]:
    items = []
    visible = visible_cases(user)
    overdue = _count(visible.where(GridCase.state.in_(OPEN_CASES),
                                   GridCase.due_at < clock.now()))
    if overdue:
        items.append(Todo(_("%(n)s 件网格事件已超过处置时限", n=overdue),
                          url_for("cases.index", overdue="y"),
                          _("请尽快处置、反馈并核查办结。"), urgent=True))
    if user.has_role(Role.AGENCY_STAFF):
        waiting = _count(visible.where(GridCase.agency_id == user.org_id,
                                       GridCase.state == CaseState.REPORTED))
        if waiting:
            items.append(Todo(_("%(n)s 件新上报的网格事件待核实", n=waiting),
                              url_for("cases.index", state=CaseState.REPORTED.value),
                              _("核实后就地处置或上报街道部门；不属实的写明原因撤销。")))
    to_rate = _count(sa.select(GridCase).where(GridCase.reporter_id == user.id,
                                               GridCase.state == CaseState.CLOSED))
    if to_rate:
        items.append(Todo(_("%(n)s 件您上报的网格事件已办结，请评价", n=to_rate),
                          url_for("cases.index", state=CaseState.CLOSED.value),
                          _("您的评价计入服务质量评估。")))
    return items


@provides(Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER)
def task_completion_todos(user) -> list[Todo]:
    """This quarter's overdue and at-risk tasks, per community of each agreement in force."""
    today = clock.today()
    agreements = db.session.scalars(visible_agreements(user).where(
        Agreement.state == DocumentState.IN_FORCE, Agreement.start_date <= today,
        Agreement.end_date >= today).options(selectinload(Agreement.communities))).all()
    # A residents' committee follows its own community only.
    own_only = not user.has_role(Role.AGENCY_STAFF, Role.CONTRACT_MANAGER, Role.LEADER)
    pairs = [(agreement, row.community) for agreement in agreements
             for row in agreement.communities
             if not own_only or row.community.committee_id == user.org_id]
    items = []
    # Every community's ledger in one batch: the home page does not query per community.
    for (agreement, community), book in zip(pairs, completion.ledgers(pairs, today)):
        found = completion.alerts(book)
        overdue = sum(p.status is Status.OVERDUE for _, _, p in found)
        if found:
            items.append(Todo(
                _("%(community)s本季度 %(n)s 项服务任务逾期或有风险", community=community.name,
                  n=len(found)),
                url_for("work.community", agreement_id=agreement.id,
                        community_id=community.id),
                _("对照服务清单补齐走访、检查和记录；逾期的请说明原因。"), urgent=bool(overdue)))
    return items
