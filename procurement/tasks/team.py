"""The agency's team per community (DOMAIN.md 5): a chief supervisor, supervisors and grid
social workers per grid, the professional social worker leading the project; gaps are warned
about; the first three months of the cooperation are the integration period (融合期)."""
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from procurement.accounts.roles import Role
from procurement.audit import record, snapshot
from procurement.contracts.models import Agreement, AgreementCommunity
from procurement.contracts.states import DocumentState
from procurement.core import clock
from procurement.core.calendar import add_months
from procurement.core.errors import DomainError
from procurement.extensions import db
from procurement.orgs.models import Community, Grid
from procurement.tasks.models import TeamMember
from procurement.tasks.states import GRID_ROLES, TeamRole

MEMBER_FIELDS = ("role", "name", "phone", "qualification", "grid_id", "start_date", "end_date",
                 "end_reason")
INTEGRATION_MONTHS = 3


def integration_until(agreement: Agreement) -> date | None:
    """The integration period runs three months from the cooperation's start (year one)."""
    if agreement.year_no != 1:
        return None
    return add_months(agreement.cooperation.start_date, INTEGRATION_MONTHS)


def integration_period(agreement: Agreement) -> tuple[date, date] | None:
    """First and last day of the integration period, for display (None after year one)."""
    until = integration_until(agreement)
    if until is None:
        return None
    return agreement.cooperation.start_date, until - timedelta(days=1)


def in_integration(agreement: Agreement, day: date | None = None) -> bool:
    period = integration_period(agreement)
    day = day or clock.today()
    return period is not None and period[0] <= day <= period[1]


def can_keep_team(user, agreement: Agreement) -> bool:
    """Staff of the agreement's agency keep its team; a cancelled agreement has none."""
    return (user.has_role(Role.AGENCY_STAFF) and user.org_id == agreement.cooperation.agency_id
            and agreement.state is not DocumentState.CANCELLED)


def _require_agency(actor, agreement: Agreement) -> None:
    if not (actor.has_role(Role.AGENCY_STAFF) and actor.org_id == agreement.cooperation.agency_id):
        raise DomainError("只有承接本协议的机构人员可以维护服务团队。")
    if agreement.state is DocumentState.CANCELLED:
        raise DomainError("本协议已作废，不能再维护服务团队。")


def add_member(actor, agreement: Agreement, *, community_id: int, role: TeamRole, name: str,
               start_date: date, grid_id: int | None = None, phone: str | None = None,
               qualification: str | None = None) -> TeamMember:
    _require_agency(actor, agreement)
    role = TeamRole(role)
    row = next((c for c in agreement.communities if c.community_id == community_id), None)
    if row is None:
        raise DomainError("该社区不在本协议的服务范围内。", field="community")
    grid_ids = {g.id for g in row.community.grids}
    if role in GRID_ROLES and grid_id not in grid_ids:
        raise DomainError(f"{role.label}须指定所负责的网格。", field="grid")
    if role not in GRID_ROLES:
        grid_id = None
    name = (name or "").strip()
    if not name:
        raise DomainError("请填写姓名。", field="name")
    if not agreement.start_date <= start_date <= agreement.end_date:
        raise DomainError("到岗日期应在协议期限之内。", field="start_date")
    # A double submit, or the same person entered twice for the same post.
    if db.session.scalar(sa.select(TeamMember.id).where(
            TeamMember.agreement_id == agreement.id, TeamMember.community_id == community_id,
            TeamMember.role == role, TeamMember.name == name[:40],
            TeamMember.grid_id.is_(None) if grid_id is None else TeamMember.grid_id == grid_id,
            TeamMember.end_date.is_(None)).limit(1)) is not None:
        raise DomainError(f"{name}已是本社区的{role.label}，不能重复添加。", field="name")
    member = TeamMember(agreement_id=agreement.id, agreement=agreement, community_id=community_id,
                        grid_id=grid_id, role=role, name=name[:40],
                        phone=(phone or "").strip()[:30] or None,
                        qualification=(qualification or "").strip()[:100] or None,
                        start_date=start_date)
    db.session.add(member)
    db.session.flush()
    record(actor, "team.add", member, None, snapshot(member, *MEMBER_FIELDS), label=str(member))
    return member


def end_member(actor, member: TeamMember, *, end_date: date, reason: str) -> TeamMember:
    """Someone leaves: dated and explained, the row stays for the record."""
    _require_agency(actor, member.agreement)
    if member.end_date is not None:
        raise DomainError("该成员已离岗。")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请写明离岗原因。", field="reason")
    if end_date < member.start_date:
        raise DomainError("离岗日期不能早于到岗日期。", field="end_date")
    before = snapshot(member, *MEMBER_FIELDS)
    member.end_date, member.end_reason = end_date, reason[:500]
    db.session.flush()
    record(actor, "team.end", member, before, snapshot(member, *MEMBER_FIELDS), label=str(member))
    return member


def gaps(agreement: Agreement, day: date | None = None,
         members: list[TeamMember] | None = None) -> list[str]:
    """What the team lacks on a day, per community: the warnings the pages show. Pass the
    agreement's members when they are already loaded, to save the query."""
    day = day or clock.today()
    if members is None:
        members = db.session.scalars(sa.select(TeamMember).filter_by(agreement_id=agreement.id))
    members = [m for m in members if m.active_on(day)]
    # The communities' grids as loaded by the caller, else every community's in one query
    # (in grid order, as `community.grids`), not one query per community.
    communities = [row.community for row in agreement.communities]
    if all("grids" not in sa.inspect(c).unloaded for c in communities):
        grids = {c.id: list(c.grids) for c in communities}
    else:
        grids: dict[int, list[Grid]] = {}
        for grid in db.session.scalars(sa.select(Grid).where(Grid.community_id.in_(
                [c.id for c in communities])).order_by(Grid.number)):
            grids.setdefault(grid.community_id, []).append(grid)
    warnings = []
    for row in agreement.communities:
        community = row.community
        here = [m for m in members if m.community_id == community.id]
        for role in (TeamRole.CHIEF_SUPERVISOR, TeamRole.PROJECT_LEAD):
            if not any(m.role is role for m in here):
                warnings.append(f"{community.name}没有{role.label}。")
        for grid in grids.get(community.id, []):
            if not any(m.role is TeamRole.GRID_WORKER and m.grid_id == grid.id for m in here):
                warnings.append(f"{community.name}{grid.name}没有网格社工（每个网格至少一名）。")
            if not any(m.role is TeamRole.SUPERVISOR and m.grid_id == grid.id for m in here):
                warnings.append(f"{community.name}{grid.name}没有网格督导。")
    return warnings


def judged_on(agreement: Agreement, day: date | None = None) -> date:
    """The day a team is judged on: today while the agreement runs, else its first day
    (not started yet) or its last day (ended)."""
    day = day or clock.today()
    return min(max(day, agreement.start_date), agreement.end_date)


def members_of(agreement_ids) -> dict[int, list[TeamMember]]:
    """The members of several agreements in one query, by agreement id."""
    found: dict[int, list[TeamMember]] = {i: [] for i in agreement_ids}
    if found:
        for member in db.session.scalars(sa.select(TeamMember).where(
                TeamMember.agreement_id.in_(list(found))).order_by(TeamMember.id)):
            found[member.agreement_id].append(member)
    return found


def with_grids():
    """Loader option: an agreement's communities and their grids come with it, so gaps()
    runs no lazy loads. (A function: building it configures the mappers.)"""
    return selectinload(Agreement.communities).joinedload(
        AgreementCommunity.community).selectinload(Community.grids)


def summaries(agreements, today: date | None = None) -> dict[int, dict]:
    """Per agreement: the day judged, the team size that day and its gap warnings; a fixed
    number of queries however many agreements (load them with with_grids())."""
    today = today or clock.today()
    members = members_of([a.id for a in agreements])
    result = {}
    for agreement in agreements:
        day = judged_on(agreement, today)
        mine = members[agreement.id]
        result[agreement.id] = {"day": day, "size": sum(m.active_on(day) for m in mine),
                                "gaps": gaps(agreement, day, mine)}
    return result
