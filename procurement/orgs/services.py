"""Operations on organisations, communities and grids: check → change → audit → flush."""
import re

import cn2an
import sqlalchemy as sa

from procurement.audit import record, snapshot
from procurement.core.errors import DomainError
from procurement.extensions import db
from procurement.orgs.models import Community, Grid, OrgKind, Organisation

ORG_FIELDS = ("kind", "name", "short_name", "credit_code", "region", "address",
              "contact_person", "contact_phone", "active")
COMMUNITY_FIELDS = ("name", "street_office_id", "households", "population", "active")
MAX_GRIDS = 50

# 统一社会信用代码 (GB 32100-2015): 18 characters from this alphabet, the last a checksum.
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_checksum(first17: str) -> str:
    total = sum(_CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS))
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]


def normalise_credit_code(code: str | None) -> str | None:
    """Upper-case and check a credit code; empty means none."""
    code = (code or "").strip().upper()
    if not code:
        return None
    if not re.fullmatch(f"[{_CREDIT_ALPHABET}]{{18}}", code):
        raise DomainError("统一社会信用代码应为 18 位数字或大写字母（不含 I、O、S、V、Z）。",
                          field="credit_code")
    if credit_code_checksum(code[:17]) != code[17]:
        raise DomainError("统一社会信用代码校验位不正确，请核对。", field="credit_code")
    return code


def _taken(column, value, exclude_id: int | None) -> bool:
    """Whether another organisation already holds `value` in a unique column."""
    query = sa.select(Organisation.id).where(column == value)
    if exclude_id is not None:
        query = query.where(Organisation.id != exclude_id)
    return db.session.execute(query).first() is not None


def _check_unique_name(name: str, exclude_id: int | None = None) -> None:
    if not name:
        raise DomainError("请填写组织名称。", field="name")
    if len(name) > 100:
        raise DomainError("组织名称不能超过 100 个字。", field="name")
    if _taken(Organisation.name, name, exclude_id):
        raise DomainError(f"已有名为“{name}”的组织。", field="name")


def _check_unique_credit_code(code: str | None, exclude_id: int | None = None) -> None:
    if code is not None and _taken(Organisation.credit_code, code, exclude_id):
        raise DomainError("该统一社会信用代码已被其他组织使用。", field="credit_code")


def create_organisation(actor, *, kind: OrgKind, name: str, short_name: str | None = None,
                        credit_code: str | None = None, region: str | None = None,
                        address: str | None = None, contact_person: str | None = None,
                        contact_phone: str | None = None) -> Organisation:
    kind = OrgKind(kind)
    if kind is OrgKind.RESIDENTS_COMMITTEE:
        raise DomainError("居委会随社区一同创建，请使用“新建社区”。", field="kind")
    name = name.strip()
    code = normalise_credit_code(credit_code)
    _check_unique_name(name)
    _check_unique_credit_code(code)
    org = Organisation(kind=kind, name=name, short_name=short_name or None, credit_code=code,
                       region=region or None, address=address or None,
                       contact_person=contact_person or None, contact_phone=contact_phone or None)
    db.session.add(org)
    record(actor, "org.create", org, None, snapshot(org, *ORG_FIELDS))
    return org


def update_organisation(actor, org: Organisation, *, name: str, short_name: str | None = None,
                        credit_code: str | None = None, region: str | None = None,
                        address: str | None = None, contact_person: str | None = None,
                        contact_phone: str | None = None) -> Organisation:
    name = name.strip()
    code = normalise_credit_code(credit_code)
    _check_unique_name(name, exclude_id=org.id)
    _check_unique_credit_code(code, exclude_id=org.id)
    before = snapshot(org, *ORG_FIELDS)
    org.name, org.credit_code = name, code
    org.short_name, org.region, org.address = short_name or None, region or None, address or None
    org.contact_person, org.contact_phone = contact_person or None, contact_phone or None
    after = snapshot(org, *ORG_FIELDS)
    if after != before:
        record(actor, "org.update", org, before, after)
    return org


def set_organisation_active(actor, org: Organisation, active: bool) -> Organisation:
    if org.active == active:
        raise DomainError("该组织已处于启用状态。" if active else "该组织已停用。")
    if not active and actor is not None and actor.org_id == org.id:
        raise DomainError("不能停用您自己所在的组织。")
    before = snapshot(org, "active")
    org.active = active
    record(actor, "org.activate" if active else "org.deactivate", org, before,
           snapshot(org, "active"))
    return org


def grid_name(number: int) -> str:
    return f"第{cn2an.an2cn(number)}网格"


def create_community(actor, *, street_office: Organisation, name: str, households: int = 0,
                     population: int = 0, grid_count: int = 5,
                     committee_name: str | None = None) -> Community:
    """A community comes with its residents' committee and its numbered grids."""
    if street_office.kind is not OrgKind.STREET_OFFICE:
        raise DomainError("社区必须隶属于街道办事处。", field="street_office")
    if not street_office.active:
        raise DomainError("该街道办事处已停用。", field="street_office")
    name = name.strip()
    if not 1 <= grid_count <= MAX_GRIDS:
        raise DomainError(f"网格数应在 1 到 {MAX_GRIDS} 之间。", field="grid_count")
    if households < 0 or population < 0:
        raise DomainError("户数和人口数不能为负数。", field="households")
    exists = db.session.execute(
        sa.select(Community.id).where(Community.street_office_id == street_office.id,
                                      Community.name == name)
    ).first()
    if exists:
        raise DomainError(f"{street_office.name}已有名为“{name}”的社区。", field="name")
    committee_name = (committee_name or f"{name}居民委员会").strip()
    _check_unique_name(committee_name)
    committee = Organisation(kind=OrgKind.RESIDENTS_COMMITTEE, name=committee_name,
                             short_name=f"{name}居委会", region=street_office.region)
    community = Community(street_office=street_office, name=name, households=households,
                          population=population, committee=committee)
    community.grids = [Grid(number=n, name=grid_name(n)) for n in range(1, grid_count + 1)]
    db.session.add_all([committee, community])
    record(actor, "org.create", committee, None, snapshot(committee, *ORG_FIELDS))
    record(actor, "community.create", community, None,
           {**snapshot(community, *COMMUNITY_FIELDS), "grids": [g.name for g in community.grids]})
    return community


def update_community(actor, community: Community, *, name: str, households: int,
                     population: int) -> Community:
    name = name.strip()
    if households < 0 or population < 0:
        raise DomainError("户数和人口数不能为负数。", field="households")
    clash = db.session.execute(
        sa.select(Community.id).where(Community.street_office_id == community.street_office_id,
                                      Community.name == name, Community.id != community.id)
    ).first()
    if clash:
        raise DomainError(f"已有名为“{name}”的社区。", field="name")
    before = snapshot(community, *COMMUNITY_FIELDS)
    community.name, community.households, community.population = name, households, population
    after = snapshot(community, *COMMUNITY_FIELDS)
    if after != before:
        record(actor, "community.update", community, before, after)
    return community


def add_grid(actor, community: Community) -> Grid:
    if len(community.grids) >= MAX_GRIDS:
        raise DomainError(f"每个社区最多 {MAX_GRIDS} 个网格。")
    number = max((g.number for g in community.grids), default=0) + 1
    grid = Grid(community=community, number=number, name=grid_name(number))
    db.session.add(grid)
    record(actor, "grid.create", grid, None, snapshot(grid, "community_id", "number", "name"),
           label=f"{community.name}{grid.name}")
    return grid
