"""Progress records (工作记录, DOMAIN.md 4–5): what the serving agency's staff did on a day.
Each kind needs its own facts (a visit its household, an inspection its enterprise or shop and
what was found, a meeting its minutes...). Records are never deleted: a correction is a new
record that replaces the old one (CURRENT → CORRECTED), a mistake is withdrawn with a reason.
Each operation: check → change → audit → flush, no commit."""
import unicodedata
from datetime import date, datetime

import sqlalchemy as sa

from procurement.accounts.roles import Role
from procurement.audit import record as audit, snapshot
from procurement.core import clock
from procurement.core.errors import DomainError
from procurement.extensions import db
from procurement.orgs.models import Community, Grid
from procurement.tasks.models import Household, Premises, WorkRecord
from procurement.tasks.permissions import can_change_record, serving_agreement
from procurement.tasks.states import (COMMUNITY_RECORDS, HOUSEHOLD_RECORDS, MINUTES_RECORDS,
                                      PARTICIPANT_RECORDS, PREMISES_RECORDS, RECORD,
                                      RecordKind, RecordStatus)

K = RecordKind
RECORD_FIELDS = ("kind", "day", "community_id", "grid_id", "household_id", "premises_id",
                 "title", "participants", "hazards", "findings", "minutes", "resolved", "notes",
                 "status", "replaces_id", "change_reason", "withdraw_reason")

# Which facts each kind of record holds; the others are not stored. The grid of a household
# or premises record is the grid of its household or premises.
RESOLVED_RECORDS = frozenset({K.WINDOW_SERVICE, K.HOME_HANDLING})
TITLED_RECORDS = PARTICIPANT_RECORDS  # activities, trainings, supervision and meetings
FIELDS = {
    "grid": frozenset(K) - HOUSEHOLD_RECORDS - PREMISES_RECORDS,
    "household": HOUSEHOLD_RECORDS | {K.HOME_HANDLING},
    "premises": PREMISES_RECORDS,
    "title": frozenset(K) - HOUSEHOLD_RECORDS - PREMISES_RECORDS,
    "participants": PARTICIPANT_RECORDS,
    "hazards": PREMISES_RECORDS,
    "findings": PREMISES_RECORDS | {K.PATROL, K.SANITATION},
    "minutes": MINUTES_RECORDS,
    "resolved": RESOLVED_RECORDS,
    "notes": frozenset(K),
}
BATCH_KINDS = (K.VISIT, K.INFO_UPDATE, K.INSPECTION)
BATCH_LIMIT = 1000
CHANGEABLE = ("kind", "day", "grid", "household", "premises", "title", "participants",
              "hazards", "findings", "minutes", "resolved", "notes")


def uses(kind: RecordKind, field: str) -> bool:
    """Whether a kind of record holds this fact (the form shows only these)."""
    return RecordKind(kind) in FIELDS[field]


# --- checks shared by add, add_batch and correct -------------------------------------------


def _kind(kind) -> RecordKind:
    try:
        return RecordKind(kind)
    except ValueError:
        raise DomainError("请选择记录类型。", field="kind") from None


def _day(day) -> date:
    if isinstance(day, datetime):
        day = day.date()
    if not isinstance(day, date):
        raise DomainError("请填写日期。", field="day")
    if day > clock.today():
        raise DomainError("记录日期不能晚于今天。", field="day")
    return day


def _agreement_for(actor, community: Community, day: date):
    """The agreement the record belongs to; only its agency's staff may write it."""
    agreement = serving_agreement(community.id, day)
    if agreement is None:
        raise DomainError("该日期没有生效的服务协议覆盖本社区。", field="day")
    if not (actor.has_role(Role.AGENCY_STAFF)
            and actor.org_id == agreement.cooperation.agency_id):
        raise DomainError("只有当日承接本社区服务的机构人员可以填写工作记录。")
    return agreement


def _text(value, limit: int) -> str | None:
    value = (value or "").strip() if isinstance(value, str) or value is None else str(value)
    return value[:limit] or None


def _count(value, label: str, field: str, minimum: int = 0) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError(f"{label}应为整数。", field=field)
    if not minimum <= value <= 1_000_000:
        raise DomainError(f"{label}应为 {minimum} 到 1000000 之间的整数。", field=field)
    return value


def _place(kind: RecordKind, community: Community, grid: Grid | None,
           household: Household | None, premises: Premises | None, kept=()) -> dict:
    """The grid, household and premises of a record, consistent with each other. A
    household or premises in `kept` (a correction keeping it) may have left the register
    since."""
    if grid is not None and grid.community_id != community.id:
        raise DomainError("所选网格不属于本社区。", field="grid")
    if not uses(kind, "household"):
        household = None
    if not uses(kind, "premises"):
        premises = None
    for item, field, noun in ((household, "household", "住户"), (premises, "premises", "单位")):
        if item is None:
            continue
        if item.community_id != community.id:
            raise DomainError(f"该{noun}不属于本社区。", field=field)
        if not item.active and item not in kept:
            raise DomainError(f"该{noun}已从台账中注销，不能再记录。", field=field)
        if grid is not None and grid.id != item.grid_id:
            raise DomainError(f"该{noun}不在所选网格（它属于{item.grid.name}）。", field=field)
        grid = item.grid
    if kind in HOUSEHOLD_RECORDS and household is None:
        raise DomainError(f"{kind.label}须选择住户。", field="household")
    if kind in PREMISES_RECORDS and premises is None:
        raise DomainError(f"{kind.label}须选择被检查的企业或店铺。", field="premises")
    if grid is None and kind not in COMMUNITY_RECORDS:
        raise DomainError(f"{kind.label}须选择网格。", field="grid")
    return {"grid_id": grid.id if grid else None, "grid": grid,
            "household_id": household.id if household else None, "household": household,
            "premises_id": premises.id if premises else None, "premises": premises}


def _facts(kind: RecordKind, *, title, participants, hazards, findings, minutes, resolved,
           notes) -> dict:
    """The facts a kind needs, checked; facts the kind does not hold are dropped."""
    values = {
        "title": _text(title, 200) if uses(kind, "title") else None,
        "participants": (_count(participants, "参加人数", "participants")
                         if uses(kind, "participants") else None),
        "hazards": (_count(hazards, "发现隐患数", "hazards") or 0
                    if uses(kind, "hazards") else None),
        "findings": _text(findings, 5000) if uses(kind, "findings") else None,
        "minutes": _text(minutes, 20000) if uses(kind, "minutes") else None,
        "resolved": resolved if uses(kind, "resolved") else None,
        "notes": _text(notes, 5000),
    }
    if kind in TITLED_RECORDS and not values["title"]:
        raise DomainError(f"请填写{kind.label}的主题。", field="title")
    if kind in PARTICIPANT_RECORDS and not values["participants"]:
        raise DomainError(f"请填写{kind.label}的参加人数（至少 1 人）。", field="participants")
    if kind in MINUTES_RECORDS and not values["minutes"]:
        raise DomainError(f"请填写{kind.label}的会议纪要。", field="minutes")
    if values["hazards"] and not values["findings"]:
        raise DomainError("发现了隐患，请写明隐患情况及处理要求。", field="findings")
    if kind in RESOLVED_RECORDS and not isinstance(values["resolved"], bool):
        raise DomainError("请选择是否已办结。", field="resolved")
    return values


def _values(actor, community: Community, kind, day, *, grid=None, household=None,
            premises=None, kept=(), **facts) -> dict:
    """Everything `add` and `correct` check, as the new record's column values."""
    kind = _kind(kind)
    day = _day(day)
    agreement = _agreement_for(actor, community, day)
    return {"agreement_id": agreement.id, "agreement": agreement,
            "community_id": community.id, "community": community, "kind": kind, "day": day,
            **_place(kind, community, grid, household, premises, kept),
            **_facts(kind, **facts)}


def _refuse_duplicate(values: dict, replacing: int | None = None) -> None:
    """One visit, information update or inspection per household or premises per day: a
    second one is almost always the same form sent twice."""
    kind = values["kind"]
    if kind not in HOUSEHOLD_RECORDS | PREMISES_RECORDS:
        return
    query = sa.select(WorkRecord.id).where(
        WorkRecord.kind == kind, WorkRecord.day == values["day"],
        WorkRecord.status == RecordStatus.CURRENT,
        WorkRecord.household_id.is_not_distinct_from(values["household_id"]),
        WorkRecord.premises_id.is_not_distinct_from(values["premises_id"]))
    if replacing is not None:
        query = query.where(WorkRecord.id != replacing)
    if db.session.scalar(query.limit(1)) is not None:
        noun = "该住户" if values["household_id"] else "该单位"
        raise DomainError(f"{noun}当天已有一条{kind.label}记录，请勿重复填写（如需修改请更正原记录）。")


# --- the operations -----------------------------------------------------------------------


def add(actor, *, community: Community, kind: RecordKind, day: date, grid: Grid | None = None,
        household: Household | None = None, premises: Premises | None = None,
        title: str | None = None, participants: int | None = None, hazards: int | None = None,
        findings: str | None = None, minutes: str | None = None, resolved: bool | None = None,
        notes: str | None = None) -> WorkRecord:
    """One record, by the staff of the agency serving the community on that day."""
    values = _values(actor, community, kind, day, grid=grid, household=household,
                     premises=premises, title=title, participants=participants,
                     hazards=hazards, findings=findings, minutes=minutes, resolved=resolved,
                     notes=notes)
    _refuse_duplicate(values)
    row = WorkRecord(**values, status=RecordStatus.CURRENT, recorded_by_id=actor.id,
                     recorded_by=actor, recorded_at=clock.now())
    db.session.add(row)
    db.session.flush()
    audit(actor, "record.add", row, None, snapshot(row, *RECORD_FIELDS))
    return row


def add_batch(actor, *, community: Community, grid: Grid, kind: RecordKind, day: date,
              household_ids=(), premises_ids=(), notes: str | None = None) -> list[WorkRecord]:
    """A worker's day of visits, information updates or inspections without hazards in one
    grid, entered at once: all are checked first, then all written, or none; one audit
    entry. A bounded number of queries whatever the size (the demo writes thousands)."""
    kind = _kind(kind)
    if kind not in BATCH_KINDS:
        raise DomainError("批量录入只适用于入户走访、信息采集更新和无隐患的安全检查。", field="kind")
    day = _day(day)
    if grid is None or grid.community_id != community.id:
        raise DomainError("所选网格不属于本社区。", field="grid")
    agreement = _agreement_for(actor, community, day)
    model, noun = (Premises, "单位") if kind in PREMISES_RECORDS else (Household, "住户")
    wanted = household_ids if model is Household else premises_ids
    try:
        ids = list(dict.fromkeys(int(i) for i in wanted or ()))
    except (TypeError, ValueError):
        raise DomainError(f"所选{noun}无效。", field="items") from None
    if not ids:
        raise DomainError(f"请至少勾选一个{noun}。", field="items")
    if len(ids) > BATCH_LIMIT:
        raise DomainError(f"一次最多录入 {BATCH_LIMIT} 条。", field="items")
    found = {row.id: row for row in db.session.execute(
        sa.select(model.id, model.community_id, model.grid_id, model.active,
                  (model.address if model is Household else model.name).label("label"))
        .where(model.id.in_(ids)))}
    for item_id in ids:
        item = found.get(item_id)
        if item is None:
            raise DomainError(f"所选{noun}不存在，整批未保存。", field="items")
        if item.community_id != community.id:
            raise DomainError(f"{item.label}不属于本社区，整批未保存。", field="items")
        if item.grid_id != grid.id:
            raise DomainError(f"{item.label}不在{grid.name}，整批未保存。", field="items")
        if not item.active:
            raise DomainError(f"{item.label}已从台账中注销，整批未保存。", field="items")
    link = "premises_id" if model is Premises else "household_id"
    done = db.session.scalar(
        sa.select(getattr(WorkRecord, link)).where(
            WorkRecord.kind == kind, WorkRecord.day == day,
            WorkRecord.status == RecordStatus.CURRENT,
            getattr(WorkRecord, link).in_(ids)).limit(1))
    if done is not None:
        raise DomainError(f"{found[done].label}当天已有{kind.label}记录，整批未保存"
                          f"（请勿重复录入）。", field="items")
    notes = _text(notes, 5000)
    now = clock.now()
    values = [dict(agreement_id=agreement.id, community_id=community.id, grid_id=grid.id,
                   kind=kind, day=day, hazards=0 if kind in PREMISES_RECORDS else None,
                   notes=notes, status=RecordStatus.CURRENT, recorded_by_id=actor.id,
                   recorded_at=now, **{link: item_id}) for item_id in ids]
    # One multi-row INSERT: add_all + flush would insert row by row here, because the unit
    # of work sorts a self-referential table (a record `replaces` a record) row by row.
    rows = db.session.scalars(sa.insert(WorkRecord).returning(WorkRecord), values).all()
    audit(actor, "record.batch", grid, None,
          {"kind": kind, "day": day, "grid": grid.id, "count": len(rows),
           "ids": [row.id for row in rows]},
          label=f"{community.name}{grid.name} {kind.label} {day:%Y-%m-%d} ×{len(rows)}")
    return rows


def _require_own(actor, row: WorkRecord, action: str) -> None:
    if not can_change_record(actor, row):
        raise DomainError(f"只有填写该记录的服务机构人员可以{action}。")


def _reason(reason, label: str) -> str:
    reason = (reason or "").strip() if isinstance(reason, str) or reason is None else ""
    if not reason:
        raise DomainError(f"请写明{label}。", field="reason")
    return reason[:500]


def correct(actor, row: WorkRecord, *, reason: str, **changes) -> WorkRecord:
    """A new CURRENT record, the old one with the changes, replacing it (which becomes
    CORRECTED). Checked like `add`; the old row stays as it was."""
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise TypeError(f"cannot change {sorted(unknown)}")
    _require_own(actor, row, "更正")
    RECORD.check(row, RecordStatus.CORRECTED, "更正")
    reason = _reason(reason, "更正原因")
    kind = _kind(changes.get("kind", row.kind))
    place = {name: changes.get(name, getattr(row, name)) for name in ("household", "premises")}
    if "grid" in changes:
        place["grid"] = changes["grid"]
    elif uses(kind, "grid"):
        place["grid"] = row.grid
    else:  # taken from the household or premises, which may have changed
        place["grid"] = None
    facts = {name: changes.get(name, getattr(row, name))
             for name in ("title", "participants", "hazards", "findings", "minutes",
                          "resolved", "notes")}
    kept = [item for item in (row.household, row.premises) if item is not None]
    values = _values(actor, row.community, kind, changes.get("day", row.day), kept=kept,
                     **place, **facts)
    same = all(values[name] == getattr(row, name) for name in (
        "kind", "day", "grid_id", "household_id", "premises_id", "title", "participants",
        "hazards", "findings", "minutes", "resolved", "notes"))
    if same:
        raise DomainError("更正后的内容与原记录相同，无需更正。")
    _refuse_duplicate(values, replacing=row.id)
    before = snapshot(row, *RECORD_FIELDS)
    RECORD.move(row, RecordStatus.CORRECTED, "更正")
    new = WorkRecord(**values, status=RecordStatus.CURRENT, replaces_id=row.id, replaces=row,
                     change_reason=reason, recorded_by_id=actor.id, recorded_by=actor,
                     recorded_at=clock.now())
    db.session.add(new)
    db.session.flush()
    audit(actor, "record.correct", new, before, snapshot(new, *RECORD_FIELDS))
    return new


def withdraw(actor, row: WorkRecord, *, reason: str) -> WorkRecord:
    """Entered by mistake: the record stays, WITHDRAWN, with who, when and why."""
    _require_own(actor, row, "作废")
    RECORD.check(row, RecordStatus.WITHDRAWN, "作废")
    reason = _reason(reason, "作废原因")
    before = snapshot(row, *RECORD_FIELDS)
    RECORD.move(row, RecordStatus.WITHDRAWN, "作废")
    row.withdrawn_by_id, row.withdrawn_at, row.withdraw_reason = actor.id, clock.now(), reason
    db.session.flush()
    audit(actor, "record.withdraw", row, before, snapshot(row, *RECORD_FIELDS))
    return row


# --- finding a household or premises typed by hand (big registers) -------------------------


def _typed(text) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def household_by_address(community: Community, text: str) -> Household:
    """The active household of this community at the typed address."""
    address = _typed(text)
    if not address:
        raise DomainError("请填写住户地址。", field="household")
    found = db.session.scalar(sa.select(Household).where(
        Household.community_id == community.id, Household.active.is_(True),
        sa.func.replace(Household.address, " ", "") == address.replace(" ", "")).limit(1))
    if found is None:
        raise DomainError(f"本社区台账中没有地址为“{address[:60]}”的住户，请核对。",
                          field="household")
    return found


def premises_by_name(community: Community, text: str) -> Premises:
    """The active enterprise or shop of this community with the typed name (or address)."""
    name = _typed(text)
    if not name:
        raise DomainError("请填写企业或店铺名称。", field="premises")
    found = db.session.scalars(sa.select(Premises).where(
        Premises.community_id == community.id, Premises.active.is_(True),
        sa.or_(Premises.name == name, Premises.address == name)).limit(2)).all()
    if not found:
        raise DomainError(f"本社区台账中没有“{name[:60]}”，请核对名称。", field="premises")
    if len(found) > 1:
        raise DomainError(f"台账中有多家单位与“{name[:60]}”相符，请填写完整名称或地址。",
                          field="premises")
    return found[0]


def history(row: WorkRecord) -> list[WorkRecord]:
    """The record's versions, oldest first: the ones it replaced and the ones that replaced it."""
    chain = [row]
    while chain[0].replaces is not None:
        chain.insert(0, chain[0].replaces)
    while True:
        newer = db.session.scalar(sa.select(WorkRecord)
                                  .where(WorkRecord.replaces_id == chain[-1].id))
        if newer is None:
            return chain
        chain.append(newer)
