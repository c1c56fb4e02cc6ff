"""The auditor's view of the trail: filter, read an entry, verify the chain, export."""
import json
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask import Blueprint, render_template, request

from procurement.accounts.roles import Role
from procurement.audit.forms import AuditFilterForm
from procurement.audit.models import AuditEntry
from procurement.audit.services import verify_chain
from procurement.core.calendar import local_to_utc
from procurement.core.pages import paginate
from procurement.core.permissions import allow
from procurement.documents.excel import xlsx_response
from procurement.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _filtered(form: AuditFilterForm):
    query = sa.select(AuditEntry)
    if not form.validate():
        return query.where(sa.false())
    if form.q.data:
        like = f"%{form.q.data}%"
        query = query.where(sa.or_(AuditEntry.object_label.ilike(like),
                                   AuditEntry.action.ilike(like)))
    if form.actor.data:
        query = query.where(AuditEntry.actor_name.ilike(f"%{form.actor.data}%"))
    if form.action.data:
        query = query.where(AuditEntry.action.ilike(f"{form.action.data}%"))
    if form.object_type.data:
        query = query.where(AuditEntry.object_type == form.object_type.data)
    if form.object_id.data:
        query = query.where(AuditEntry.object_id == form.object_id.data)
    # Dates are chosen in Beijing time; entries are stored in UTC.
    if form.date_from.data:
        query = query.where(AuditEntry.occurred_at >=
                            local_to_utc(datetime.combine(form.date_from.data, time.min)))
    if form.date_to.data:
        query = query.where(AuditEntry.occurred_at <
                            local_to_utc(datetime.combine(form.date_to.data + timedelta(days=1),
                                                          time.min)))
    return query.order_by(AuditEntry.seq.desc())


@bp.route("/")
@allow(read_only=[Role.AUDITOR])
def index():
    form = AuditFilterForm(request.args)
    return render_template("audit/index.html", form=form, page=paginate(_filtered(form)))


@bp.route("/<int:entry_id>")
@allow(read_only=[Role.AUDITOR])
def show(entry_id: int):
    entry = db.get_or_404(AuditEntry, entry_id)
    keys = sorted(set(entry.before or {}) | set(entry.after or {}))
    return render_template("audit/show.html", entry=entry, keys=keys)


@bp.route("/verify")
@allow(read_only=[Role.AUDITOR])
def verify():
    return render_template("audit/verify.html", report=verify_chain())


@bp.route("/export.xlsx")
@allow(read_only=[Role.AUDITOR])
def export():
    form = AuditFilterForm(request.args)
    entries = db.session.execute(_filtered(form).execution_options(yield_per=500)).scalars()
    rows = ([e.seq, e.occurred_at, e.actor_name, e.actor_org, e.action, e.object_type,
             e.object_id, e.object_label, _json(e.before), _json(e.after), e.ip, e.hash]
            for e in entries)
    return xlsx_response("审计日志", ["序号", "时间", "操作人", "所属组织", "操作", "对象类型",
                                     "对象编号", "对象", "变更前", "变更后", "IP", "哈希"], rows)


def _json(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
