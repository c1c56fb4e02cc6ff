"""Progress records (工作记录): list, new, batch, show, correct, withdraw, export. Views hold
no rules: every refusal is the service's message (procurement/tasks/records.py)."""
import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from procurement.accounts.roles import Role
from procurement.core import clock
from procurement.core.pages import paginate, perform
from procurement.core.permissions import allow, require
from procurement.documents.excel import xlsx_response
from procurement.extensions import db
from procurement.orgs.models import Community, Grid
from procurement.tasks import records
from procurement.tasks.models import Household, Premises, WorkRecord
from procurement.tasks.permissions import (OFFICE_READERS, can_change_record, can_view_record,
                                           visible_community_ids)
from procurement.tasks.record_forms import (BatchChooseForm, BatchForm, ChooseForm,
                                            RecordFilterForm, WithdrawForm, record_form)
from procurement.tasks.states import PREMISES_RECORDS, RecordKind, RecordStatus

bp = Blueprint("records", __name__, url_prefix="/records")

AGENCY = Role.AGENCY_STAFF
READERS = (AGENCY, Role.COMMITTEE_STAFF, *OFFICE_READERS)
# Up to this many active entries a register is offered as a select; beyond, the address
# (or the name) is typed and looked up.
SELECT_LIMIT = 300


def load(record_id: int) -> WorkRecord:
    row = db.get_or_404(WorkRecord, record_id)
    require(can_view_record(current_user, row))
    return row


def _communities() -> list[tuple[str, str]]:
    rows = db.session.execute(
        sa.select(Community.id, Community.name)
        .where(Community.id.in_(visible_community_ids(current_user)))
        .order_by(Community.name)).all()
    return [(str(r.id), r.name) for r in rows]


def _grids() -> list[tuple[str, str]]:
    rows = db.session.execute(
        sa.select(Grid.id, Grid.name, Community.name.label("community"))
        .join(Community, Community.id == Grid.community_id)
        .where(Community.id.in_(visible_community_ids(current_user)))
        .order_by(Community.name, Grid.number)).all()
    return [(str(r.id), f"{r.community} · {r.name}") for r in rows]


# --- the list ------------------------------------------------------------------------------


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered(form: RecordFilterForm):
    """The records the user may read that match the filters, scoped in SQL, with what every
    row shows loaded in the same query."""
    if not form.validate():
        return sa.select(WorkRecord).where(sa.false())
    query = sa.select(WorkRecord).where(
        WorkRecord.community_id.in_(visible_community_ids(current_user)))
    if form.community.data:
        query = query.where(WorkRecord.community_id == int(form.community.data))
    if form.grid.data:
        query = query.where(WorkRecord.grid_id == int(form.grid.data))
    if form.kind.data:
        query = query.where(WorkRecord.kind == RecordKind(form.kind.data))
    if form.start.data:
        query = query.where(WorkRecord.day >= form.start.data)
    if form.end.data:
        query = query.where(WorkRecord.day <= form.end.data)
    if not form.everything.data:
        query = query.where(WorkRecord.status == RecordStatus.CURRENT)
    if form.q.data:
        like = _like(form.q.data)
        query = query.where(sa.or_(
            WorkRecord.title.ilike(like, escape="\\"),
            WorkRecord.household.has(Household.address.ilike(like, escape="\\")),
            WorkRecord.premises.has(Premises.name.ilike(like, escape="\\"))))
    return query.options(
        joinedload(WorkRecord.community), joinedload(WorkRecord.grid),
        joinedload(WorkRecord.household), joinedload(WorkRecord.premises),
        joinedload(WorkRecord.recorded_by),
    ).order_by(WorkRecord.day.desc(), WorkRecord.id.desc())


def _filter_form() -> RecordFilterForm:
    return RecordFilterForm(request.args, communities=_communities(), grids=_grids())


@bp.route("/")
@allow(*READERS, read_only=[Role.AUDITOR])
def index():
    form = _filter_form()
    page = paginate(_filtered(form))
    return render_template("records/index.html", form=form, page=page)


def subject(row: WorkRecord) -> str:
    """What a record is about, for lists: the household, the premises or the title."""
    if row.household is not None:
        return row.household.address
    if row.premises is not None:
        return row.premises.name
    return row.title or ""


@bp.route("/export.xlsx")
@allow(*READERS, read_only=[Role.AUDITOR])
def export():
    found = db.session.scalars(_filtered(_filter_form())).all()

    def yes_no(value):
        return "" if value is None else ("是" if value else "否")

    def row(r: WorkRecord):
        return [r.day, r.kind.label, r.community.name, r.grid.name if r.grid else "",
                r.household.address if r.household else "", r.premises.name if r.premises else "",
                r.title, r.participants, r.hazards, r.findings, r.minutes, yes_no(r.resolved),
                r.notes, r.status.label, r.withdraw_reason or r.change_reason, r.recorded_by.name, r.recorded_at]

    return xlsx_response("工作记录", ["日期", "类型", "社区", "网格", "住户地址", "被检查单位", "主题",
                                  "参加人数", "发现隐患数", "发现的问题", "会议纪要", "是否办结", "备注",
                                  "状态", "更正/作废原因", "记录人", "记录时间"],
                         (row(r) for r in found))


# --- entering records ----------------------------------------------------------------------


def _register_choices(model, community: Community, grid: Grid | None = None, keep=None):
    """A register as select choices (grid first), or None when it is too big for a select.
    `keep` is the entry a record being corrected already names, even if inactive now."""
    alive = model.active.is_(True)
    if keep is not None:
        alive = sa.or_(alive, model.id == keep)
    where = [model.community_id == community.id, alive]
    if grid is not None:
        where.append(model.grid_id == grid.id)
    if grid is None:
        size = db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
        if size > SELECT_LIMIT:
            return None
    rows = db.session.scalars(
        sa.select(model).join(Grid, Grid.id == model.grid_id).where(*where)
        .options(joinedload(model.grid))
        .order_by(Grid.number, model.address, model.id)).all()
    if model is Household:
        return [(str(h.id), f"{h.grid.name} · {h.address} {h.head_name}") for h in rows]
    return [(str(p.id), f"{p.grid.name} · {p.name}（{p.kind.label}）{p.address}") for p in rows]


def _form_for(community: Community, kind: RecordKind, row: WorkRecord | None = None,
              prefill: bool = False, **kwargs):
    """The kind's form for this community; with `row`, the correction form (prefilled with
    the record's values when `prefill`)."""
    households = premises = None
    if records.uses(kind, "household"):
        households = _register_choices(Household, community, keep=row and row.household_id)
    if records.uses(kind, "premises"):
        premises = _register_choices(Premises, community, keep=row and row.premises_id)
    if prefill:
        kwargs["data"] = _initial(row, households is not None, premises is not None)
    return record_form(kind, grids=[(str(g.id), g.name) for g in community.grids],
                       households=households, premises=premises, correction=row is not None,
                       **kwargs)


def _initial(row: WorkRecord, household_select: bool, premises_select: bool) -> dict:
    """A record's values as its form's data, to correct it."""
    return {
        "day": row.day, "grid": str(row.grid_id or ""), "title": row.title,
        "participants": row.participants, "hazards": row.hazards, "findings": row.findings,
        "minutes": row.minutes, "notes": row.notes,
        "resolved": "" if row.resolved is None else ("yes" if row.resolved else "no"),
        "household": (str(row.household_id or "") if household_select else
                      (row.household.address if row.household else "")),
        "premises": (str(row.premises_id or "") if premises_select else
                     (row.premises.name if row.premises else "")),
    }


def _posted(form, community: Community) -> dict:
    """The form's values as the service's arguments (a typed address is looked up here:
    call it inside perform so a miss shows on the field)."""
    values = {"day": form.day.data}
    fields = form._fields
    if "grid" in fields:
        values["grid"] = db.session.get(Grid, int(form.grid.data)) if form.grid.data else None
    for name, model, lookup in (("household", Household, records.household_by_address),
                                ("premises", Premises, records.premises_by_name)):
        if name not in fields:
            continue
        value = form[name].data
        if not value:
            values[name] = None
        elif form[name].type == "SelectField":
            values[name] = db.session.get(model, int(value))
        else:
            values[name] = lookup(community, value)
    for name in ("title", "participants", "hazards", "findings", "minutes", "notes"):
        if name in fields:
            values[name] = form[name].data
    if "resolved" in fields:
        values["resolved"] = {"yes": True, "no": False}.get(form.resolved.data)
    return values


@bp.route("/new", methods=["GET", "POST"])
@allow(AGENCY)
def new():
    """Choose the community and the kind (GET), then the kind's own form."""
    choose = ChooseForm(request.args, communities=_communities())
    if not request.args or not choose.validate():
        return render_template("records/new.html", choose=choose, form=None,
                               shown=bool(request.args))
    community = db.get_or_404(Community, int(choose.community.data))
    kind = RecordKind(choose.kind.data)
    form = _form_for(community, kind, data={"day": clock.today()})
    if form.validate_on_submit():
        row = perform(lambda: records.add(current_user, community=community, kind=kind,
                                          **_posted(form, community)),
                      _("已保存工作记录。"), form)
        if row:
            return redirect(url_for("records.show", record_id=row.id))
    return render_template("records/new.html", choose=choose, form=form, community=community,
                           kind=kind, shown=True)


@bp.route("/batch", methods=["GET", "POST"])
@allow(AGENCY)
def batch():
    """A worker's day in one grid at once: choose the grid and the kind (GET), then tick."""
    choose = BatchChooseForm(request.args, grids=_grids())
    if not request.args or not choose.validate():
        return render_template("records/batch.html", choose=choose, form=None,
                               shown=bool(request.args))
    grid = db.get_or_404(Grid, int(choose.grid.data))
    kind = RecordKind(choose.kind.data)
    model = Premises if kind in PREMISES_RECORDS else Household
    items = [(int(value), label) for value, label in
             _register_choices(model, grid.community, grid=grid)]
    everything = request.args.get("all") == "1"
    form = BatchForm(items=items, data={"day": clock.today(),
                                        "items": [i for i, _label in items] if everything else []})
    if form.validate_on_submit():
        ids = {"premises_ids" if model is Premises else "household_ids": form.items.data}
        rows = perform(lambda: records.add_batch(current_user, community=grid.community, grid=grid,
                                                 kind=kind, day=form.day.data,
                                                 notes=form.notes.data, **ids),
                       lambda rows: _("已保存 %(n)s 条工作记录。", n=len(rows)), form)
        if rows:
            return redirect(url_for("records.index", community=grid.community_id, grid=grid.id,
                                    kind=kind.value))
    return render_template("records/batch.html", choose=choose, form=form, grid=grid, kind=kind,
                           shown=True)


# --- the record page -----------------------------------------------------------------------


def render_record(row: WorkRecord, correct_form=None, withdraw_form=None):
    changeable = row.status is RecordStatus.CURRENT and can_change_record(current_user, row)
    if changeable and correct_form is None:
        correct_form = _form_for(row.community, row.kind, row, prefill=True)
    return render_template(
        "records/show.html", row=row, versions=records.history(row), subject=subject(row),
        changeable=changeable, correct_form=correct_form if changeable else None,
        withdraw_form=(withdraw_form or WithdrawForm(prefix="withdraw")) if changeable else None)


@bp.route("/<int:record_id>")
@allow(*READERS, read_only=[Role.AUDITOR])
def show(record_id: int):
    return render_record(load(record_id))


def _changing(record_id: int) -> WorkRecord:
    row = load(record_id)
    require(can_change_record(current_user, row))
    return row


@bp.route("/<int:record_id>/correct", methods=["POST"])
@allow(AGENCY)
def correct(record_id: int):
    row = _changing(record_id)
    form = _form_for(row.community, row.kind, row)
    if form.validate_on_submit():
        new_row = perform(lambda: records.correct(current_user, row, reason=form.reason.data,
                                                  **_posted(form, row.community)),
                          _("已更正，原记录保留为“已更正”。"), form)
        if new_row:
            return redirect(url_for("records.show", record_id=new_row.id))
    db.session.refresh(row)
    return render_record(row, correct_form=form)


@bp.route("/<int:record_id>/withdraw", methods=["POST"])
@allow(AGENCY)
def withdraw(record_id: int):
    row = _changing(record_id)
    form = WithdrawForm(prefix="withdraw")
    if form.validate_on_submit() and perform(
            lambda: records.withdraw(current_user, row, reason=form.reason.data),
            _("记录已作废（保留备查）。"), form):
        return redirect(url_for("records.show", record_id=row.id))
    db.session.refresh(row)
    return render_record(row, withdraw_form=form)
