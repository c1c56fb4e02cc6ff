"""Writing and verifying the audit trail."""
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum

import sqlalchemy as sa
from flask import has_request_context, request

from procurement.audit.models import AuditEntry
from procurement.core.calendar import now_utc
from procurement.extensions import db

GENESIS = "0" * 64
SYSTEM_ACTOR = "系统"


def _jsonable(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return _timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def snapshot(obj, *fields: str) -> dict:
    """The named attributes of `obj` as JSON-safe values, for before/after."""
    return {name: _jsonable(getattr(obj, name)) for name in fields}


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canonical(data) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def compute_hash(entry: AuditEntry) -> str:
    content = _canonical(
        {
            "seq": entry.seq,
            "occurred_at": _timestamp(entry.occurred_at),
            "actor_id": entry.actor_id,
            "actor_name": entry.actor_name,
            "actor_org": entry.actor_org,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "object_label": entry.object_label,
            "before": entry.before,
            "after": entry.after,
            "ip": entry.ip,
            "prev_hash": entry.prev_hash,
        }
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def _lock_chain() -> None:
    # Serialise writers on PostgreSQL so each entry links to the true last one; SQLite
    # serialises writes itself, and the unique seq refuses a fork on either.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(7212640531)"))


def record(actor, action: str, obj=None, before: dict | None = None,
           after: dict | None = None, label: str | None = None,
           keep_ip: bool = True) -> AuditEntry:
    """Append an entry in the current transaction (the caller commits with the change)."""
    if obj is not None and getattr(obj, "id", None) is None:
        db.session.flush()  # the object needs its id before it can be referenced
    _lock_chain()
    last = db.session.execute(
        sa.select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    entry = AuditEntry(
        seq=(last.seq + 1) if last else 1,
        occurred_at=now_utc(),
        actor_id=getattr(actor, "id", None),
        actor_name=(f"{actor.name}（{actor.username}）" if actor is not None else SYSTEM_ACTOR),
        actor_org=(actor.org.name if actor is not None else None),
        action=action,
        object_type=(obj.__tablename__ if obj is not None else None),
        object_id=(str(obj.id) if obj is not None else None),
        object_label=(label or (str(obj) if obj is not None else None)),
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        # An anonymous resident's answer keeps no address that could identify them.
        ip=(request.remote_addr if keep_ip and has_request_context() else None),
        prev_hash=last.hash if last else GENESIS,
    )
    if entry.object_label and len(entry.object_label) > 200:
        entry.object_label = entry.object_label[:199] + "…"
    entry.hash = compute_hash(entry)
    db.session.add(entry)
    db.session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    broken_id: int | None = None
    reason: str | None = None

    @property
    def message(self) -> str:
        if self.ok:
            return f"审计链完整：已核验 {self.checked} 条记录。"
        return f"审计链在第 {self.broken_seq} 条记录（ID {self.broken_id}）处断裂：{self.reason}"


def verify_chain(batch_size: int = 1000) -> ChainReport:
    """Walk the chain in order and report the first entry that does not verify."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    # Plain rows, not ORM objects: the identity map could hold stale copies of rows that
    # were changed underneath it, and verification must see what the database holds.
    query = sa.select(*AuditEntry.__table__.c).order_by(AuditEntry.seq)
    for entry in db.session.execute(query.execution_options(yield_per=batch_size)):
        if entry.seq != expected_seq:
            return ChainReport(False, checked, entry.seq, entry.id,
                               f"序号不连续（应为 {expected_seq}），有记录被删除或插入。")
        if entry.prev_hash != expected_prev:
            return ChainReport(False, checked, entry.seq, entry.id,
                               "前一条记录的哈希不符，前一条记录被改动或删除。")
        if compute_hash(entry) != entry.hash:
            return ChainReport(False, checked, entry.seq, entry.id, "记录内容与其哈希不符，该记录被改动。")
        expected_prev, expected_seq = entry.hash, expected_seq + 1
        checked += 1
    return ChainReport(True, checked)
