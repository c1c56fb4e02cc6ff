"""The agency's team per agreement and community (服务团队): the list of agreements with
their team size and gaps, the team page with its warnings and the integration period, adding
a member, recording that one left, the Excel export. Views hold no rules: refusals are the
service's messages (procurement/tasks/team.py)."""
import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from procurement.accounts.roles import Role
from procurement.contracts.models import Agreement, Cooperation
from procurement.contracts.states import DocumentState
from procurement.core import clock
from procurement.core.pages import paginate, perform
from procurement.core.permissions import allow, require
from procurement.documents.excel import xlsx_response
from procurement.extensions import db
from procurement.tasks import team
from procurement.tasks.models import TeamMember
from procurement.tasks.permissions import (OFFICE_READERS, can_view_agreement_work,
                                           visible_agreements)
from procurement.tasks.states import TeamRole
from procurement.tasks.team_forms import EndForm, MemberForm

bp = Blueprint("team", __name__, url_prefix="/team")

AGENCY = Role.AGENCY_STAFF
READERS = (AGENCY, Role.COMMITTEE_STAFF, *OFFICE_READERS)
# Agreements that have (or are about to have) a team: signed by some or all parties.
LISTED = (DocumentState.SIGNING, DocumentState.IN_FORCE)
ROLE_ORDER = {role: i for i, role in enumerate(
    (TeamRole.CHIEF_SUPERVISOR, TeamRole.PROJECT_LEAD, TeamRole.SUPERVISOR, TeamRole.GRID_WORKER))}


def load(agreement_id: int) -> Agreement:
    agreement = db.session.scalar(
        sa.select(Agreement).where(Agreement.id == agreement_id)
        .options(joinedload(Agreement.cooperation).joinedload(Cooperation.agency),
                 team.with_grids()))
    if agreement is None:
        abort(404)
    require(can_view_agreement_work(current_user, agreement))
    return agreement


# --- the list ------------------------------------------------------------------------------


@bp.route("/")
@allow(*READERS, read_only=[Role.AUDITOR])
def index():
    query = (visible_agreements(current_user).where(Agreement.state.in_(LISTED))
             .options(joinedload(Agreement.cooperation).joinedload(Cooperation.agency),
                      team.with_grids())
             .order_by(Agreement.start_date.desc(), Agreement.id.desc()))
    page = paginate(query)
    return render_template("team/index.html", page=page, today=clock.today(),
                           summaries=team.summaries(page.items))


# --- the team page -------------------------------------------------------------------------


def _sorted(members):
    return sorted(members, key=lambda m: (ROLE_ORDER[m.role], m.start_date, m.id))


def roster(agreement: Agreement, members: list[TeamMember], day) -> list[dict]:
    """Per community: the community-wide roles, then per grid its supervisors and grid
    social workers, each list with the members still on the team on `day` (those whose
    leaving is later stay listed, with its date). `missing` names the roles nobody holds."""
    current = [m for m in members if m.end_date is None or m.end_date >= day]
    communities = []
    for row in agreement.communities:
        community = row.community
        here = [m for m in current if m.community_id == community.id]

        def holders(role, grid_id=None, here=here):
            return _sorted(m for m in here if m.role is role and m.grid_id == grid_id)

        def missing(role, grid_id=None, here=here):
            return not any(m.role is role and m.grid_id == grid_id and m.active_on(day)
                           for m in here)

        leads = [(role, holders(role), missing(role))
                 for role in (TeamRole.CHIEF_SUPERVISOR, TeamRole.PROJECT_LEAD)]
        grids = [{"grid": grid, "roles": [(role, holders(role, grid.id), missing(role, grid.id))
                                          for role in (TeamRole.SUPERVISOR, TeamRole.GRID_WORKER)]}
                 for grid in community.grids]
        communities.append({"community": community, "leads": leads, "grids": grids,
                            "size": sum(m.active_on(day) for m in here)})
    return communities


def _member_label(m: TeamMember) -> str:
    where = m.community.name + (f" · {m.grid.name}" if m.grid_id else "")
    return f"{m.name}（{m.role.label} · {where}）"


def _forms(agreement: Agreement, members: list[TeamMember], add=None, end=None):
    """The add and end forms, for agency staff who keep this team only. The one not posted
    starts blank (formdata=None: it must not read the other form's fields); `?end=<id>`
    preselects the member whose leaving is to be recorded."""
    if not team.can_keep_team(current_user, agreement):
        return None, None
    if add is None:
        add = MemberForm(formdata=None, communities=_community_choices(agreement),
                         grids=_grid_choices(agreement))
        add.start_date.data = team.judged_on(agreement)
        if len(agreement.communities) == 1:
            add.community.data = agreement.communities[0].community_id
    if end is None:
        end = EndForm(formdata=None, members=_end_choices(members))
        end.member.data = request.args.get("end", 0, type=int)
        end.end_date.data = clock.today()
    return add, end


def _community_choices(agreement):
    return [(row.community_id, row.community.name) for row in agreement.communities]


def _grid_choices(agreement):
    return [(grid.id, f"{row.community.name} · {grid.name}")
            for row in agreement.communities for grid in row.community.grids]


def _end_choices(members):
    return [(m.id, _member_label(m)) for m in _sorted(members) if m.end_date is None]


def _members(agreement: Agreement) -> list[TeamMember]:
    return team.members_of([agreement.id])[agreement.id]


def render_team(agreement: Agreement, add=None, end=None):
    today = clock.today()
    day = team.judged_on(agreement, today)
    members = _members(agreement)
    add, end = _forms(agreement, members, add, end)
    left = sorted((m for m in members if m.end_date is not None and m.end_date < day),
                  key=lambda m: (m.end_date, m.id), reverse=True)
    return render_template(
        "team/show.html", agreement=agreement, cooperation=agreement.cooperation,
        today=today, day=day, communities=roster(agreement, members, day), left=left,
        warnings=team.gaps(agreement, day, members),
        integration=team.integration_period(agreement),
        integrating=team.in_integration(agreement, today), add_form=add, end_form=end)


@bp.route("/agreements/<int:agreement_id>")
@allow(*READERS, read_only=[Role.AUDITOR])
def show(agreement_id: int):
    return render_team(load(agreement_id))


@bp.route("/agreements/<int:agreement_id>/export.xlsx")
@allow(*READERS, read_only=[Role.AUDITOR])
def export(agreement_id: int):
    agreement = load(agreement_id)
    grid_numbers = {g.id: g.number for row in agreement.communities for g in row.community.grids}
    members = sorted(_members(agreement), key=lambda m: (
        m.community.name, grid_numbers.get(m.grid_id, 0), ROLE_ORDER[m.role], m.start_date, m.id))

    def row(m: TeamMember):
        return [m.community.name, m.role.label, m.grid.name if m.grid_id else "", m.name,
                m.phone, m.qualification, m.start_date, m.end_date, m.end_reason]

    return xlsx_response(f"服务团队 {agreement.number}",
                         ["社区", "岗位", "负责网格", "姓名", "联系电话", "职业资格", "到岗日期",
                          "离岗日期", "离岗原因"], (row(m) for m in members))


@bp.route("/agreements/<int:agreement_id>/members", methods=["POST"])
@allow(AGENCY)
def add(agreement_id: int):
    agreement = load(agreement_id)
    form = MemberForm(communities=_community_choices(agreement), grids=_grid_choices(agreement))
    if form.validate_on_submit() and perform(lambda: team.add_member(
            current_user, agreement, community_id=form.community.data,
            role=TeamRole(form.role.data), grid_id=form.grid.data or None, name=form.name.data,
            phone=form.phone.data, qualification=form.qualification.data,
            start_date=form.start_date.data),
            lambda m: _("已添加团队成员：%(member)s。", member=str(m)), form):
        return redirect(url_for("team.show", agreement_id=agreement.id))
    return render_team(load(agreement_id), add=form)


@bp.route("/agreements/<int:agreement_id>/end", methods=["POST"])
@allow(AGENCY)
def end(agreement_id: int):
    agreement = load(agreement_id)
    form = EndForm(members=_end_choices(_members(agreement)))
    if form.validate_on_submit():
        member = db.session.get(TeamMember, form.member.data)
        if perform(lambda: team.end_member(current_user, member, end_date=form.end_date.data,
                                           reason=form.reason.data),
                   lambda m: _("已登记离岗：%(member)s。", member=str(m)), form):
            return redirect(url_for("team.show", agreement_id=agreement.id))
    return render_team(load(agreement_id), end=form)


def agreement_box(agreement: Agreement) -> dict:
    """The small read-only team box of the contract's agreement page: the integration period
    and, for those who may see the team, the number of gaps today."""
    today = clock.today()
    box = {"integration": team.integration_period(agreement),
           "integrating": team.in_integration(agreement, today), "today": today, "gaps": None}
    if agreement.state in LISTED and can_view_agreement_work(current_user, agreement):
        box["gaps"] = len(team.gaps(agreement, team.judged_on(agreement, today)))
    return box
