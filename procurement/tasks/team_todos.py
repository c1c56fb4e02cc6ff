"""Home-page to-do of the team: an agreement in force today whose team has gaps, for the
agency that keeps the team and for the street office's contract manager."""
import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from procurement.accounts.roles import Role
from procurement.contracts.models import Agreement, Cooperation
from procurement.contracts.states import DocumentState
from procurement.core import clock
from procurement.extensions import db
from procurement.home.todos import Todo, provides
from procurement.tasks import team


@provides(Role.AGENCY_STAFF, Role.CONTRACT_MANAGER)
def team_gap_todos(user) -> list[Todo]:
    today = clock.today()
    conditions = []
    if user.has_role(Role.AGENCY_STAFF):
        conditions.append(Cooperation.agency_id == user.org_id)
    if user.has_role(Role.CONTRACT_MANAGER):
        conditions.append(Cooperation.street_office_id == user.org_id)
    agreements = db.session.scalars(
        sa.select(Agreement).join(Cooperation, Cooperation.id == Agreement.cooperation_id)
        .where(sa.or_(*conditions), Agreement.state == DocumentState.IN_FORCE,
               Agreement.start_date <= today, Agreement.end_date >= today)
        .options(joinedload(Agreement.cooperation), team.with_grids())
        .order_by(Agreement.start_date, Agreement.id)).all()
    summaries = team.summaries(agreements, today)
    items = []
    for agreement in agreements:
        gaps = summaries[agreement.id]["gaps"]
        if gaps:
            items.append(Todo(
                _("服务团队有 %(n)s 项缺员", n=len(gaps)),
                url_for("team.show", agreement_id=agreement.id),
                _("%(title)s · 第 %(year)s 年度协议：%(first)s", title=agreement.cooperation.title,
                  year=agreement.year_no, first=gaps[0])))
    return items
