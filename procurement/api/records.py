"""Progress records (工作记录) over the API: what an agency's own system pushes — one record,
a worker's batch of visits, corrections and withdrawals — through `tasks.records`, the
service the record pages call; reads scoped as the records list is."""
import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from procurement.accounts.roles import Role
from procurement.api import (body, bp, choice_arg, commit, datetime_arg, int_arg,
                             load, paged, respond, stamp, who, written)
from procurement.api import spec as s
from procurement.api.work import date_arg
from procurement.core.errors import PermissionDenied
from procurement.core.permissions import allow
from procurement.orgs.models import Community, Grid
from procurement.tasks import records
from procurement.tasks.models import Household, Premises, WorkRecord
from procurement.tasks.permissions import (OFFICE_READERS, can_change_record, can_view_record,
                                           visible_community_ids)
from procurement.tasks.states import RecordKind, RecordStatus

AGENCY = Role.AGENCY_STAFF
READERS = (AGENCY, Role.COMMITTEE_STAFF, *OFFICE_READERS, Role.AUDITOR)

RECORD = s.obj(
    id=s.integer(), agreement_id=s.integer(), community_id=s.integer(), community=s.string(),
    grid_id=s.integer(nullable=True), kind=s.string(), kind_label=s.string(),
    day=s.string("date"), household_id=s.integer(nullable=True),
    household=s.string(nullable=True, description="住户地址"),
    premises_id=s.integer(nullable=True), premises=s.string(nullable=True),
    title=s.string(nullable=True), participants=s.integer(nullable=True),
    hazards=s.integer(nullable=True), findings=s.string(nullable=True),
    minutes=s.string(nullable=True), resolved=s.boolean(nullable=True),
    notes=s.string(nullable=True), status=s.string(), status_label=s.string(),
    replaces_id=s.integer(nullable=True), change_reason=s.string(nullable=True),
    withdraw_reason=s.string(nullable=True), recorded_by=s.string(),
    recorded_at=s.string("date-time"))


def record_json(r: WorkRecord) -> dict:
    return {
        "id": r.id, "agreement_id": r.agreement_id, "community_id": r.community_id,
        "community": r.community.name, "grid_id": r.grid_id, "kind": r.kind.value,
        "kind_label": str(r.kind.label), "day": stamp(r.day), "household_id": r.household_id,
        "household": r.household.address if r.household else None,
        "premises_id": r.premises_id, "premises": r.premises.name if r.premises else None,
        "title": r.title, "participants": r.participants, "hazards": r.hazards,
        "findings": r.findings, "minutes": r.minutes, "resolved": r.resolved, "notes": r.notes,
        "status": r.status.value, "status_label": str(r.status.label),
        "replaces_id": r.replaces_id, "change_reason": r.change_reason,
        "withdraw_reason": r.withdraw_reason, "recorded_by": r.recorded_by.name,
        "recorded_at": stamp(r.recorded_at)}


def readable_record(record_id: int) -> WorkRecord:
    return load(WorkRecord, record_id, can_view_record)


# --- reads ---------------------------------------------------------------------------------

@bp.route("/records")
@allow(*READERS)
@s.operation("工作记录列表", s.page_of(RECORD), tag="网格工作",
             params=(*s.PAGINATED, s.COMMUNITY, s.UPDATED_SINCE,
                     s.param("kind", "记录类型", s.string(enum=[k.value for k in RecordKind])),
                     s.param("day_from", "日期不早于（YYYY-MM-DD）", s.string("date")),
                     s.param("day_to", "日期不晚于（YYYY-MM-DD）", s.string("date")),
                     s.param("status", "状态（默认只返回有效记录）",
                             s.string(enum=[k.value for k in RecordStatus]))),
             description="范围与工作记录页面相同。updated_since 按记录时间筛选"
                         "（更正产生新记录，原记录的状态随之改变）。")
def record_list():
    query = sa.select(WorkRecord).where(WorkRecord.community_id.in_(visible_community_ids(who())))
    community_id = int_arg("community_id")
    if community_id is not None:
        query = query.where(WorkRecord.community_id == community_id)
    kind = choice_arg("kind", RecordKind)
    if kind is not None:
        query = query.where(WorkRecord.kind == kind)
    status = choice_arg("status", RecordStatus) or RecordStatus.CURRENT
    query = query.where(WorkRecord.status == status)
    since = datetime_arg("updated_since")
    if since is not None:
        query = query.where(sa.or_(WorkRecord.recorded_at > since, WorkRecord.withdrawn_at > since))
    day_from, day_to = date_arg("day_from"), date_arg("day_to")
    if day_from is not None:
        query = query.where(WorkRecord.day >= day_from)
    if day_to is not None:
        query = query.where(WorkRecord.day <= day_to)
    query = query.options(joinedload(WorkRecord.community), joinedload(WorkRecord.household),
                          joinedload(WorkRecord.premises), joinedload(WorkRecord.recorded_by)
                          ).order_by(WorkRecord.day.desc(), WorkRecord.id.desc())
    return respond(paged(query, record_json))


@bp.route("/records/<int:record_id>")
@allow(*READERS)
@s.operation("一条工作记录", s.obj(data=RECORD), tag="网格工作")
def record_detail(record_id: int):
    return respond({"data": record_json(readable_record(record_id))})


# --- writes --------------------------------------------------------------------------------

FACTS = [
    body.ref("grid_id", "网格", Grid),
    body.ref("household_id", "住户", Household),
    body.ref("premises_id", "被检查单位", Premises),
    body.text("title", "主题", 200),
    body.count("participants", "参加人数"),
    body.count("hazards", "发现隐患数"),
    body.text("findings", "发现的问题及处理要求", 5000),
    body.text("minutes", "会议纪要", 20000),
    body.flag("resolved", "是否办结"),
    body.text("notes", "备注", 5000),
]
NEW_RECORD = [body.ref("community_id", "社区", Community, required=True),
              body.choice("kind", "记录类型", RecordKind, required=True),
              body.day("day", "日期", required=True), *FACTS]
CORRECTION = [body.text("reason", "更正原因", 500, required=True),
              body.choice("kind", "记录类型", RecordKind), body.day("day", "日期"), *FACTS]
BATCH = [body.ref("grid_id", "网格", Grid, required=True),
         body.choice("kind", "记录类型", RecordKind, allowed=records.BATCH_KINDS,
                     required=True),
         body.day("day", "日期", required=True),
         body.ids("household_ids", "住户", records.BATCH_LIMIT),
         body.ids("premises_ids", "被检查单位", records.BATCH_LIMIT),
         body.text("notes", "备注（每条记录相同）", 5000)]
WITHDRAWAL = [body.text("reason", "作废原因", 500, required=True)]
# Body names → the service's arguments.
RENAMED = {"grid_id": "grid", "household_id": "household", "premises_id": "premises"}


def _arguments(values: dict) -> dict:
    return {RENAMED.get(name, name): value for name, value in values.items()}


def _changeable(record_id: int) -> WorkRecord:
    row = readable_record(record_id)
    if not can_change_record(who(), row):
        raise PermissionDenied("只有填写该记录的机构人员可以更正或作废。")
    return row


@bp.route("/records", methods=["POST"])
@allow(AGENCY)
@s.operation("新增一条工作记录", s.obj(data=RECORD), tag="网格工作", body=NEW_RECORD,
             status=201,
             description="与“新增工作记录”页面调用同一服务：只有当日承接该社区服务的机构人员"
                         "可以填写；各类型需要的字段与页面相同，不适用的字段被忽略。")
def record_create():
    values = _arguments(body.read(NEW_RECORD))
    community = values.pop("community_id")
    row = commit(lambda: records.add(who(), community=community, **values))
    return written({"data": record_json(row)}, 201)


@bp.route("/records/batch", methods=["POST"])
@allow(AGENCY)
@s.operation("批量新增同一网格同一天的走访、信息更新或检查记录",
             s.obj(data=s.array(RECORD)), tag="网格工作", body=BATCH, status=201,
             description="全部检查通过才全部写入，否则一条也不写。")
def record_batch():
    values = body.read(BATCH)
    grid = values["grid_id"]
    rows = commit(lambda: records.add_batch(
        who(), community=grid.community, grid=grid, kind=values["kind"], day=values["day"],
        household_ids=values.get("household_ids") or (),
        premises_ids=values.get("premises_ids") or (), notes=values.get("notes")))
    return written({"data": [record_json(r) for r in rows]}, 201)


@bp.route("/records/<int:record_id>/correct", methods=["POST"])
@allow(AGENCY)
@s.operation("更正一条工作记录（产生替代它的新记录）", s.obj(data=RECORD), tag="网格工作",
             body=CORRECTION, status=201,
             description="只需给出要改的字段；原记录保留为“已更正”。")
def record_correct(record_id: int):
    row = _changeable(record_id)
    values = _arguments(body.read(CORRECTION))
    reason = values.pop("reason")
    new = commit(lambda: records.correct(who(), row, reason=reason, **values))
    return written({"data": record_json(new)}, 201)


@bp.route("/records/<int:record_id>/withdraw", methods=["POST"])
@allow(AGENCY)
@s.operation("作废一条工作记录（保留备查）", s.obj(data=RECORD), tag="网格工作",
             body=WITHDRAWAL)
def record_withdraw(record_id: int):
    row = _changeable(record_id)
    reason = body.read(WITHDRAWAL)["reason"]
    commit(lambda: records.withdraw(who(), row, reason=reason))
    return written({"data": record_json(row)})
