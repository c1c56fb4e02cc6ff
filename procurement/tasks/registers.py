"""The registers (台账) of a community: households, and enterprises and shops, per grid.

They are kept in Excel by the grid social workers, so the system takes them in and gives them
back as workbooks with the same columns: a template (with a "填写说明" sheet), an import that
checks every row before writing any (one bad row and nothing is imported; the report names the
row and the column), and an export that re-imports cleanly. Import upserts by the natural key
(household: the address; premises: kind + name + address) and never deletes: a household that
moved away is taken out of the register (inactive) and stays for the records that name it."""
from collections.abc import Sequence

import sqlalchemy as sa

from procurement.audit import record, snapshot
from procurement.core.errors import DomainError
from procurement.core.states import lock_for_update
from procurement.extensions import db
from procurement.orgs.models import Community
from procurement.tasks.models import Household, Premises
from procurement.tasks.permissions import can_edit_register
from procurement.tasks.register_sheets import (
    HOUSEHOLD_FIELDS, HOUSEHOLDS, KIND_NAMES, PREMISES, PREMISES_FIELDS, REGISTERS,
    ImportRejected, ImportResult, Register, RowError, build_workbook, check_households,
    check_premises, checked_file, export, household_rows, premises_rows, read_rows, register,
    template)
from procurement.tasks.states import PremisesKind

# The workbook side, used by the pages, the demo and the tests through this module.
__all__ = ["HOUSEHOLDS", "PREMISES", "REGISTERS", "ImportRejected", "ImportResult", "Register",
           "RowError", "build_workbook", "export", "household_rows", "premises_rows", "register",
           "template", "import_households", "import_premises", "import_register",
           "set_household_active", "set_premises_active", "grid_counts"]


# --- importing ------------------------------------------------------------------------------


def _require_editor(actor, community: Community) -> None:
    if not can_edit_register(actor, community):
        raise DomainError("只有当前为本社区提供服务的机构人员或街道合同管理员可以维护台账。")
    if not community.active:
        raise DomainError("该社区已停用，不能再维护台账。")


def _apply(row, values: dict, fields: Sequence[str]) -> bool:
    """Set the fields that differ; True when anything changed."""
    changed = False
    for name in fields:
        if getattr(row, name) != values[name]:
            setattr(row, name, values[name])
            changed = True
    return changed


def _upsert(existing: dict, parsed: list[dict], key, make, fields) -> ImportResult:
    result = ImportResult(rows=len(parsed))
    new = []
    for values in parsed:
        values["active"] = True
        row = existing.get(key(values))
        if row is None:
            new.append(make(values))
            result.added += 1
        elif _apply(row, values, fields):
            result.updated += 1
        else:
            result.unchanged += 1
    db.session.add_all(new)
    db.session.flush()
    return result


def import_households(actor, community: Community, upload, filename: str | None = None
                      ) -> ImportResult:
    """Import a households workbook into the community. `upload` is the file's bytes, a
    file-like object or a FileStorage. Every row is checked first; on any error nothing is
    written and ImportRejected lists them all."""
    _require_editor(actor, community)
    checked = checked_file(upload, filename)
    parsed, errors = check_households(community, read_rows(HOUSEHOLDS, checked))
    if errors:
        raise ImportRejected(errors)
    lock_for_update(community)  # two imports into one community take turns
    existing = {h.address: h for h in db.session.scalars(
        sa.select(Household).where(Household.community_id == community.id))}
    result = _upsert(existing, parsed, lambda v: v["address"],
                     lambda v: Household(community_id=community.id, **v), HOUSEHOLD_FIELDS)
    record(actor, "register.import_households", community, None,
           {"added": result.added, "updated": result.updated, "file": checked.name})
    return result


def import_premises(actor, community: Community, upload, filename: str | None = None
                    ) -> ImportResult:
    """Import an enterprises-and-shops workbook into the community; as import_households."""
    _require_editor(actor, community)
    checked = checked_file(upload, filename)
    parsed, errors = check_premises(community, read_rows(PREMISES, checked))
    if errors:
        raise ImportRejected(errors)
    lock_for_update(community)
    existing = {(p.kind, p.name, p.address): p for p in db.session.scalars(
        sa.select(Premises).where(Premises.community_id == community.id))}
    result = _upsert(existing, parsed, lambda v: (v["kind"], v["name"], v["address"]),
                     lambda v: Premises(community_id=community.id, **v), PREMISES_FIELDS)
    record(actor, "register.import_premises", community, None,
           {"added": result.added, "updated": result.updated, "file": checked.name})
    return result


def import_register(actor, reg: Register, community: Community, upload,
                    filename: str | None = None) -> ImportResult:
    operation = import_households if reg is HOUSEHOLDS else import_premises
    return operation(actor, community, upload, filename)


# --- taking a row out of the register and back ----------------------------------------------


def _set_active(actor, row, active: bool, noun: str, action: str):
    _require_editor(actor, row.community)
    if row.active == active:
        raise DomainError(f"该{noun}已{'在台账中' if active else '移出台账'}。")
    before = snapshot(row, "active")
    row.active = active
    db.session.flush()
    record(actor, action, row, before, snapshot(row, "active"))
    return row


def set_household_active(actor, household: Household, active: bool) -> Household:
    """Take a household out of the register (moved away) or back in; it is never deleted,
    so the visits recorded against it keep their household."""
    return _set_active(actor, household, active, "住户",
                       "household.activate" if active else "household.deactivate")


def set_premises_active(actor, premises: Premises, active: bool) -> Premises:
    noun = KIND_NAMES[premises.kind]
    return _set_active(actor, premises, active, noun,
                       "premises.activate" if active else "premises.deactivate")


# --- counts per grid, for the overview ------------------------------------------------------


def grid_counts(community_ids) -> dict[int, dict[str, int]]:
    """Per grid of the given communities (a select of ids): households in the register,
    vulnerable ones, their members, enterprises and shops. Two grouped queries in all."""
    counts: dict[int, dict[str, int]] = {}

    def slot(grid_id):
        return counts.setdefault(grid_id, {"households": 0, "vulnerable": 0, "members": 0,
                                           "enterprises": 0, "shops": 0})

    for grid_id, households, vulnerable, members in db.session.execute(
            sa.select(Household.grid_id, sa.func.count(),
                      sa.func.sum(sa.case((Household.vulnerable_clause(), 1), else_=0)),
                      sa.func.sum(Household.members))
            .where(Household.community_id.in_(community_ids), Household.active.is_(True))
            .group_by(Household.grid_id)):
        slot(grid_id).update(households=households, vulnerable=int(vulnerable or 0),
                             members=int(members or 0))
    for grid_id, kind, n in db.session.execute(
            sa.select(Premises.grid_id, Premises.kind, sa.func.count())
            .where(Premises.community_id.in_(community_ids), Premises.active.is_(True))
            .group_by(Premises.grid_id, Premises.kind)):
        slot(grid_id)["enterprises" if kind is PremisesKind.ENTERPRISE else "shops"] = n
    return counts
