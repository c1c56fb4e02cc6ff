"""Registers of households, enterprises and shops per grid: lists, Excel template, import and
export. Who reads is `visible_community_ids`; who imports and takes rows out is
`can_edit_register`; what a row may hold is the import service's rule (registers.py)."""
import sqlalchemy as sa
from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from procurement.accounts.forms import ConfirmForm
from procurement.accounts.roles import Role
from procurement.core.calendar import local_today
from procurement.core.pages import paginate, perform, safe_next
from procurement.core.permissions import allow, require
from procurement.documents.excel import attachment
from procurement.extensions import db
from procurement.orgs.models import Community, Grid
from procurement.tasks import registers
from procurement.tasks.models import Household, Premises
from procurement.tasks.permissions import (can_edit_register, can_view_community_work,
                                           visible_community_ids)
from procurement.tasks.register_forms import HouseholdFilterForm, ImportForm, PremisesFilterForm
from procurement.tasks.states import PremisesKind

bp = Blueprint("registers", __name__, url_prefix="/registers")

AGENCY = Role.AGENCY_STAFF
EDITORS = (AGENCY, Role.CONTRACT_MANAGER)
READERS = (AGENCY, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
           Role.FINANCE_OFFICER)
ERRORS_SHOWN = 500  # a file wrong on every row would make a page too long to use
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Community pages take `cid`, not `community_id`: the URL-map test fills `community_id` with a
# real community its users cannot see, and these pages must answer 404 for a missing one.


def load_community(cid: int) -> Community:
    community = db.get_or_404(Community, cid)
    require(can_view_community_work(current_user, community))
    return community


def load_register(key: str) -> registers.Register:
    reg = registers.register(key)
    if reg is None:
        abort(404)
    return reg


def _xlsx(data: bytes, filename: str) -> Response:
    return Response(data, mimetype=XLSX, headers={"Content-Disposition": attachment(filename)})


# --- the overview ---------------------------------------------------------------------------


@bp.route("/")
@allow(*READERS, read_only=[Role.AUDITOR])
def index():
    """The visible communities, grid by grid: three queries whatever their number."""
    visible = visible_community_ids(current_user)
    communities = db.session.scalars(
        sa.select(Community).where(Community.id.in_(visible)).order_by(Community.name)).all()
    # The grids in one query by the same condition (selectinload would send one query per
    # 500 communities: a city's worth grows the count).
    grids_of: dict[int, list[Grid]] = {}
    for grid in db.session.scalars(sa.select(Grid).where(Grid.community_id.in_(visible))
                                   .order_by(Grid.number)):
        grids_of.setdefault(grid.community_id, []).append(grid)
    counts = registers.grid_counts(visible)
    empty = dict.fromkeys(("households", "vulnerable", "members", "enterprises", "shops"), 0)
    rows = []
    for community in communities:
        grids = [(grid, counts.get(grid.id, empty)) for grid in grids_of.get(community.id, [])]
        total = {key: sum(c[key] for _, c in grids) for key in empty}
        rows.append((community, grids, total))
    return render_template("registers/index.html", rows=rows)


# --- the lists ------------------------------------------------------------------------------


def _grid_id(form) -> int | None:
    return int(form.grid.data) if form.grid.data else None


def _status(query, model, form):
    if form.status.data == "inactive":
        return query.where(model.active.is_(False))
    if form.status.data == "all":
        return query
    return query.where(model.active.is_(True))


@bp.route("/<int:cid>/households")
@allow(*READERS, read_only=[Role.AUDITOR])
def households(cid: int):
    community = load_community(cid)
    form = HouseholdFilterForm(request.args, grids=community.grids)
    query = sa.select(Household).where(Household.community_id == community.id)
    if form.validate():
        query = _status(query, Household, form)
        if _grid_id(form):
            query = query.where(Household.grid_id == _grid_id(form))
        if form.vulnerable.data:
            query = query.where(Household.vulnerable_clause())
        if form.q.data:
            like = f"%{form.q.data}%"
            query = query.where(sa.or_(Household.address.ilike(like),
                                       Household.head_name.ilike(like)))
    else:
        query = query.where(sa.false())
    page = paginate(query.options(joinedload(Household.grid))
                    .order_by(Household.grid_id, Household.address, Household.id))
    return render_template("registers/households.html", community=community, form=form,
                           page=page, editable=can_edit_register(current_user, community),
                           confirm=ConfirmForm())


@bp.route("/<int:cid>/premises")
@allow(*READERS, read_only=[Role.AUDITOR])
def premises(cid: int):
    community = load_community(cid)
    form = PremisesFilterForm(request.args, grids=community.grids)
    query = sa.select(Premises).where(Premises.community_id == community.id)
    if form.validate():
        query = _status(query, Premises, form)
        if _grid_id(form):
            query = query.where(Premises.grid_id == _grid_id(form))
        if form.kind.data:
            query = query.where(Premises.kind == PremisesKind(form.kind.data))
        if form.q.data:
            like = f"%{form.q.data}%"
            query = query.where(sa.or_(Premises.name.ilike(like), Premises.address.ilike(like)))
    else:
        query = query.where(sa.false())
    page = paginate(query.options(joinedload(Premises.grid))
                    .order_by(Premises.grid_id, Premises.kind, Premises.name, Premises.id))
    return render_template("registers/premises.html", community=community, form=form,
                           page=page, editable=can_edit_register(current_user, community),
                           confirm=ConfirmForm())


# --- workbooks ------------------------------------------------------------------------------


@bp.route("/<int:cid>/<kind>/template.xlsx")
@allow(*READERS, read_only=[Role.AUDITOR])
def template(cid: int, kind: str):
    community = load_community(cid)
    reg = load_register(kind)
    return _xlsx(registers.template(reg, community), f"{community.name}{reg.title}模板.xlsx")


@bp.route("/<int:cid>/<kind>/export.xlsx")
@allow(*READERS, read_only=[Role.AUDITOR])
def export(cid: int, kind: str):
    community = load_community(cid)
    reg = load_register(kind)
    return _xlsx(registers.export(reg, community),
                 f"{community.name}{reg.title}_{local_today():%Y%m%d}.xlsx")


@bp.route("/<int:cid>/<kind>/import", methods=["GET", "POST"])
@allow(*EDITORS)
def import_file(cid: int, kind: str):
    community = load_community(cid)
    reg = load_register(kind)
    require(can_edit_register(current_user, community))
    form = ImportForm()
    rejected: list[registers.RowError] = []
    if form.validate_on_submit():
        upload = form.file.data

        def run():
            try:
                return registers.import_register(current_user, reg, community, upload)
            except registers.ImportRejected as exc:
                rejected.extend(exc.errors)
                raise

        result = perform(run, lambda r: _(
            "已导入 %(rows)s 行：新增 %(added)s 条，更新 %(updated)s 条，%(unchanged)s 条无变化。",
            rows=r.rows, added=r.added, updated=r.updated, unchanged=r.unchanged), form)
        if result is not None:
            return redirect(url_for(f"registers.{reg.key}", cid=community.id))
    return render_template("registers/import.html", community=community, reg=reg, form=form,
                           errors=rejected[:ERRORS_SHOWN], error_count=len(rejected))


# --- taking a row out of the register and back ----------------------------------------------


def _toggle(model, row_id: int, operation, active: bool, done: str):
    row = db.get_or_404(model, row_id)
    require(can_view_community_work(current_user, row.community))
    require(can_edit_register(current_user, row.community))
    form = ConfirmForm()
    if form.validate_on_submit():
        perform(lambda: operation(current_user, row, active), done)
    back = url_for(f"registers.{'households' if model is Household else 'premises'}",
                   cid=row.community_id)
    return redirect(safe_next(request.args.get("next"), back))


@bp.route("/households/<int:household_id>/deactivate", methods=["POST"])
@allow(*EDITORS)
def deactivate_household(household_id: int):
    return _toggle(Household, household_id, registers.set_household_active, False,
                   _("已将该住户移出台账。"))


@bp.route("/households/<int:household_id>/activate", methods=["POST"])
@allow(*EDITORS)
def activate_household(household_id: int):
    return _toggle(Household, household_id, registers.set_household_active, True,
                   _("已将该住户恢复到台账。"))


@bp.route("/premises/<int:premises_id>/deactivate", methods=["POST"])
@allow(*EDITORS)
def deactivate_premises(premises_id: int):
    return _toggle(Premises, premises_id, registers.set_premises_active, False,
                   _("已将该企业或店铺移出台账。"))


@bp.route("/premises/<int:premises_id>/activate", methods=["POST"])
@allow(*EDITORS)
def activate_premises(premises_id: int):
    return _toggle(Premises, premises_id, registers.set_premises_active, True,
                   _("已将该企业或店铺恢复到台账。"))
