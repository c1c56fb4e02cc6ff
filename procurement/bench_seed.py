"""A city-sized dataset for benchmarks: `flask --app procurement bench-seed --communities N
[--seed S]` (default 2,000 communities, seed 1).

What it holds, for N communities:
- ceil(N / 10) street offices of ten communities each (the last may have fewer), each
  community with its residents' committee, 3 grids, 12 households, 1 enterprise and 2 shops
  per grid; ceil(offices / 4) + 2 agencies (at least 3), ceil(offices / 20) universities, an
  expert pool with 8 judges and an audit bureau;
- per street office one awarded open tender (3 bids, 4 criteria, a 5-judge committee with its
  declarations, one closed scoring round with every sheet) and its cooperation of three
  years (2024-05-01 to 2027-04-30), each year's annual agreement in force and signed by every
  party (street office, every committee, university, agency), with budget lines,
  sub-contracts, the service task list and the agency's team per community;
- evaluations: every quarter of the first two years and the first quarter of the third is
  finalised for every community (four sheets, the residents' survey with its tokens and
  answers, the composite and grade; the years' grades on the agreements); the third year's
  second quarter (ended 2026-10-31) is in progress: a third of the communities finalised
  and requested for payment, a third finalised and not requested, a third waiting on the
  street office's review of the self-assessment;
- disbursements: an account per community and year with four instalments adding up to the
  amount; every finalised quarter requested, approved and paid by the performance rule
  (基本合格 pays 90%; the first two years' withheld money was released);
- work records (visits, information updates, inspections, activities, patrols, window
  services) every quarter up to yesterday's date in 2026-11, and one grid case per community
  and quarter (closed and rated, the current quarter's still open).

Rows are written with bulk inserts (explicit ids; PostgreSQL's sequences are moved past them
afterwards), with every value as the services would have computed it (amounts split to the
fen, content hashes of the agreements, normalised sheet totals, composites, grades, payable
amounts). Self-assessment sheets carry no completion summary (`completion` is NULL), which
the services would fill in from the records. The audit trail gets one entry for the seed,
one per cooperation and one with the row counts, written with the audit's own hash function
so that `flask audit verify` passes.

The database must be empty (migrated) or hold an earlier bench seed (which is wiped first);
anything else is refused.

Logins (password `Lingyuan@2016`, the demo's, for every seeded user): in the first street
office `bench-admin`, `bench-tender_officer`, `bench-contract_manager`,
`bench-finance_officer`, `bench-leader`, `bench-judge` (the purchaser's representative on
its tender's committee) and `bench-auditor`; `bench-agency_staff` in the first agency (which
won the first street office's tender), `bench-committee_staff` in the first community's
residents' committee, `bench-university_evaluator` in the first university. Other users are
named `so001-hetong`, `rc00101`, `ag001`, `expert1`… and share the same password.
"""
import hashlib
import json
import math
import random
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from procurement.accounts.passwords import hash_password
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.audit.services import GENESIS, SYSTEM_ACTOR, _jsonable, compute_hash
from procurement.contracts import defaults
from procurement.contracts.models import (Agreement, AgreementCommunity, AgreementParty,
                                          BudgetLine, Cooperation, Signature, SubContract)
from procurement.contracts.rules import (DEFAULT_BANDS, DEFAULT_WEIGHTS, add_years, grade_for,
                                         quarters, year_end)
from procurement.contracts.rules import sign_due as contract_sign_due
from procurement.contracts.states import (CooperationState, DocumentKind, DocumentState,
                                          EvaluationSource as Src, PartyRole, SubContractKind)
from procurement.core.calendar import SHANGHAI, add_working_days
from procurement.core.errors import DomainError
from procurement.core.money import format_fen, split_evenly
from procurement.demo import DEMO_PASSWORD, LINGYUAN_CRITERIA
from procurement.disbursements.models import Account, Instalment, Movement
from procurement.disbursements.services import DEFAULT_SHARES, payable
from procurement.disbursements.states import InstalmentState, MovementKind
from procurement.evaluations.models import (EvaluationPeriod, EvaluationScore, EvaluationSheet,
                                            Indicator, IndicatorSet, PeriodResult, Survey,
                                            SurveyResponse, SurveyToken)
from procurement.evaluations.plan import DEFAULT_INDICATORS
from procurement.evaluations.scoring import compose, normalise, round_score
from procurement.evaluations.states import SHEET_SOURCES, PeriodKind, SheetState, SurveyState
from procurement.evaluations.surveys import QUESTION_KEYS, score_of
from procurement.extensions import db
from procurement.orgs.models import Community, Grid, OrgKind, Organisation
from procurement.accounts.models import User, UserRole
from procurement.tasks.models import (GridCase, Household, Premises, ServiceTask, TeamMember,
                                      WorkRecord)
from procurement.tasks.states import (CaseCategory, CaseState, PremisesKind, RecordKind,
                                      RecordStatus, TaskGroup, TeamRole, Urgency, group_of)
from procurement.tasks.task_list import DEFAULT_TASKS
from procurement.tenders import rules as tender_rules
from procurement.tenders.evaluation_models import (CommitteeMember, Declaration,
                                                   EvaluationRound, RoundEntry, Score,
                                                   ScoreSheet)
from procurement.tenders.models import Bid, Criterion, Tender, tender_communities
from procurement.tenders.states import (BidState, CriterionKind, MemberState, RoundState,
                                        SheetState as TenderSheetState, TenderMethod,
                                        TenderState)

MARKER = "bench.seed"
COMMUNITIES_PER_OFFICE = 10
GRIDS_PER_COMMUNITY = 3
HOUSEHOLDS_PER_GRID = 12
SURVEY_SIZE, SURVEY_ANSWERED = 10, 8
EXPERTS = 8
COOPERATION_START, COOPERATION_END = date(2024, 5, 1), date(2027, 4, 30)
RECORDS_UNTIL = date(2026, 11, 21)   # the last day with work records
# (year, quarter) of the partly evaluated quarter; the quarters before it are finalised.
EDGE = (3, 2)
FLUSH_ROWS = 40_000

SURNAMES = "陈林黄张李王吴刘蔡杨许郑谢洪郭邱曾廖赖徐周叶苏庄吕江何罗高施"
GIVEN = ["志明", "雅婷", "家豪", "丽珍", "俊杰", "晓燕", "文斌", "雅琳", "建国", "美玲",
         "志强", "淑芬", "伟明", "佳怡", "文杰", "丽华", "振宇", "美琪", "俊豪", "秀英"]
NARRATIVE = {
    Src.SELF: "本季度按服务清单完成入户走访、信息采集和安全检查，组织社区活动，督导和培训按计划开展。",
    Src.STREET_OFFICE: "服务清单任务完成较好，联席会议按时召开。",
    Src.UNIVERSITY: "抽查入户记录和个案档案，记录较规范。",
    Src.COMMITTEE: "社工按时驻点，熟悉网格情况，能及时回应居民诉求。",
}
OPINIONS = "居民反映社工入户热情、办事及时；希望增加老年人活动。"
JUSTIFICATION = ("社区社会工作服务需要长期驻点、与居民建立稳定的信任关系；服务经费已列入街道三年"
                 "财政预算，资金有保障（102号令第二十四条）。")
RELEASE_REASON = "整改验收合格，补拨暂扣款。"

UTC = timezone.utc


def _at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


class SeedRefused(DomainError):
    pass


# --- the guard -------------------------------------------------------------------------------


def _tables() -> list[sa.Table]:
    return list(db.metadata.sorted_tables)


def check_database() -> bool:
    """True when the database holds an earlier bench seed, False when it is empty; raises
    SeedRefused for anything else (a real database is never touched)."""
    inspector = sa.inspect(db.session.connection())
    names = set(inspector.get_table_names())
    missing = [t.name for t in _tables() if t.name not in names]
    if missing:
        raise SeedRefused("数据库尚未建表，请先运行 flask db upgrade。")
    first = db.session.execute(sa.select(AuditEntry.action).where(AuditEntry.seq == 1)).first()
    if first is not None and first.action == MARKER:
        return True
    for table in _tables():
        if db.session.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
            raise SeedRefused(f"数据库中已有数据（{table.name} 表非空），且不是基准测试数据："
                              "bench-seed 只在空数据库或先前的基准测试数据库上运行。")
    return False


SQLITE_AUDIT_TRIGGER = """
    CREATE TRIGGER audit_entries_no_delete
    BEFORE DELETE ON audit_entries
    BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END;
"""


def _wipe() -> None:
    """Empty an earlier bench seed (only ever called after check_database found its marker).
    The audit trail is append-only in the database: PostgreSQL's TRUNCATE fires no row
    trigger; on SQLite the delete trigger is dropped and put back in the same transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        names = ", ".join(t.name for t in _tables())
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return
    db.session.execute(sa.update(Tender.__table__).values(awarded_bid_id=None))
    db.session.execute(sa.text("DROP TRIGGER IF EXISTS audit_entries_no_delete"))
    for table in reversed(_tables()):
        db.session.execute(table.delete())
    db.session.execute(sa.text(SQLITE_AUDIT_TRIGGER))


# --- the writer ---------------------------------------------------------------------------


class Writer:
    """Buffers rows per table with explicit ids and inserts them in dependency order."""

    def __init__(self):
        self.rows: dict[sa.Table, list[dict]] = defaultdict(list)
        self.ids: dict[sa.Table, int] = defaultdict(int)
        self.counts: dict[str, int] = defaultdict(int)
        self.buffered = 0
        self.order = {t: n for n, t in enumerate(_tables())}

    def add(self, model, **values) -> int:
        table = model if isinstance(model, sa.Table) else model.__table__
        if "id" in table.c and "id" not in values:
            self.ids[table] += 1
            values["id"] = self.ids[table]
        self.rows[table].append(values)
        self.counts[table.name] += 1
        self.buffered += 1
        return values.get("id")

    def checkpoint(self) -> None:
        """Insert what is buffered once it is large; called between street offices, when no
        buffered row waits on a value still to be computed."""
        if self.buffered >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        for table in sorted(self.rows, key=self.order.get):
            rows = self.rows[table]
            if rows:
                _bulk_insert(table, rows)
        self.rows.clear()
        self.buffered = 0


def _bulk_insert(table: sa.Table, rows: list[dict]) -> None:
    """Insert rows through the driver: COPY on PostgreSQL, executemany on SQLite. Values go
    through each column's own bind processing (enums to their values, UTC timestamps, JSON,
    dates), and a column left out gets its Python-side default, as an ORM insert would."""
    connection = db.session.connection()
    dialect = connection.dialect
    present = set().union(*(row.keys() for row in rows))
    columns = [c for c in table.c if c.key in present or c.default is not None]
    defaults_ = {c.key: c.default for c in columns}
    processors = [c.type._cached_bind_processor(dialect) for c in columns]
    keys = [c.key for c in columns]

    def value(row, key):
        if key in row:
            return row[key]
        default = defaults_[key]
        if default is None:
            return None
        return default.arg(None) if default.is_callable else default.arg

    data = [tuple(p(value(row, k)) if p else value(row, k) for k, p in zip(keys, processors))
            for row in rows]
    names = ", ".join(f'"{c.name}"' for c in columns)
    raw = connection.connection.dbapi_connection
    if dialect.name == "postgresql":
        with raw.cursor() as cursor:
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in data:
                    copy.write_row(row)
    else:
        cursor = raw.cursor()
        marks = ", ".join("?" for _ in columns)
        cursor.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', data)
        cursor.close()


# --- the seed ------------------------------------------------------------------------------


def seed(communities: int, seed: int = 1) -> dict:
    """Write the dataset (see the module docstring); returns the row count per table.
    Flushes, never commits: the caller commits."""
    if communities < 1:
        raise SeedRefused("社区数至少为 1。")
    if check_database():
        _wipe()
    builder = _Builder(communities, seed)
    builder.build()
    counts = builder.finish()
    return counts


class _Builder:
    def __init__(self, communities: int, seed: int):
        self.n = communities
        self.seed = seed
        self.rng = random.Random(seed)
        self.w = Writer()
        self.offices = math.ceil(communities / COMMUNITIES_PER_OFFICE)
        self.agency_count = max(3, math.ceil(self.offices / 4) + 2)
        self.university_count = math.ceil(self.offices / 20)
        self.password = hash_password(DEMO_PASSWORD)
        self.audit: list[dict] = []
        self.due_days = current_app.config["DISBURSEMENT_DUE_WORKING_DAYS"]
        self.self_days = current_app.config["SELF_ASSESSMENT_DUE_WORKING_DAYS"]
        self.case_hours = current_app.config["GRID_CASE_HOURS"][Urgency.NORMAL.value]
        self.case_numbers: dict[date, int] = defaultdict(int)
        self.award_updates: list[dict] = []
        self.wd_cache: dict[tuple[date, int], date] = {}
        self.periods_cache: dict[tuple[date, date], list] = {}

    # helpers
    def wd(self, day: date, n: int) -> date:
        key = (day, n)
        if key not in self.wd_cache:
            self.wd_cache[key] = add_working_days(day, n)
        return self.wd_cache[key]

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def org(self, kind: OrgKind, name: str, **extra) -> int:
        return self.w.add(Organisation, kind=kind, name=name, active=True, created_at=_at(date(2024, 1, 2)),
                          updated_at=_at(date(2024, 1, 2)), **extra)

    def user(self, username: str, org_id: int, roles: list[Role], title: str) -> int:
        uid = self.w.add(User, username=username, name=self.name(), org_id=org_id, title=title,
                         password_hash=self.password, must_change_password=False, active=True,
                         failed_logins=0, session_token=f"{self.rng.getrandbits(128):032x}",
                         created_at=_at(date(2024, 1, 2)))
        for role in roles:
            self.w.add(UserRole, user_id=uid, role=role)
        return uid

    def audit_entry(self, action: str, after: dict, label: str, when: datetime) -> None:
        self.audit.append({"action": action, "after": after, "label": label, "when": when})

    # the whole dataset
    def build(self) -> None:
        self.audit_entry(MARKER, {"communities": self.n, "seed": self.seed}, "基准测试数据",
                         datetime.now(UTC))
        self._organisations()
        for office in range(self.offices):
            self._office(office)
            self.w.checkpoint()

    def _organisations(self) -> None:
        w = self.w
        self.universities, self.evaluators = [], []
        for u in range(self.university_count):
            oid = self.org(OrgKind.UNIVERSITY, f"滨海大学第{u + 1}社会工作学院", region="滨海市")
            self.universities.append(oid)
            self.evaluators.append(self.user("bench-university_evaluator" if u == 0 else f"un{u + 1:03d}",
                                             oid, [Role.UNIVERSITY_EVALUATOR], "副教授"))
        self.agencies, self.agency_staff, self.agency_names = [], [], []
        for a in range(self.agency_count):
            name = f"滨海市第{a + 1:03d}社会工作服务中心"
            oid = self.org(OrgKind.AGENCY, name, region="滨海市")
            self.agencies.append(oid)
            self.agency_names.append(name)
            self.agency_staff.append(self.user("bench-agency_staff" if a == 0 else f"ag{a + 1:03d}",
                                               oid, [Role.AGENCY_STAFF], "项目主管"))
        pool = self.org(OrgKind.GOVERNMENT, "滨海市政府采购评审专家库", short_name="评审专家库")
        self.experts = [self.user(f"expert{k + 1}", pool, [Role.JUDGE], "评审专家")
                        for k in range(EXPERTS)]
        bureau = self.org(OrgKind.GOVERNMENT, "滨海市审计局")
        self.user("auditor", bureau, [Role.AUDITOR], "审计员")
        w.flush()

    def _office(self, o: int) -> None:
        first = o == 0
        name = f"滨海市第{o + 1:03d}街道办事处"
        office = self.org(OrgKind.STREET_OFFICE, name, short_name=f"第{o + 1:03d}街道", region="滨海市")
        prefix = "bench-" if first else f"so{o + 1:03d}-"
        staff = {}
        for role, suffix, title in ((Role.TENDER_OFFICER, "zhaobiao", "招标专员"),
                                    (Role.CONTRACT_MANAGER, "hetong", "合同管理员"),
                                    (Role.FINANCE_OFFICER, "caiwu", "财务人员"),
                                    (Role.LEADER, "lingdao", "街道领导"),
                                    (Role.JUDGE, "judge", "采购人代表")):
            username = f"bench-{role.value}" if first else f"{prefix}{suffix}"
            staff[role] = self.user(username, office, [role], title)
        if first:
            self.user("bench-admin", office, [Role.ADMIN], "信息化管理员")
            self.user("bench-auditor", office, [Role.AUDITOR], "审计员")
        count = min(COMMUNITIES_PER_OFFICE, self.n - o * COMMUNITIES_PER_OFFICE)
        comms = []
        for c in range(count):
            comms.append(self._community(o, c, office))
        agency_index = o % self.agency_count
        ctx = {
            "o": o, "office": office, "office_name": name, "staff": staff, "communities": comms,
            "agency": self.agencies[agency_index], "agency_name": self.agency_names[agency_index],
            "agency_user": self.agency_staff[agency_index],
            "university": self.universities[o // 20], "evaluator": self.evaluators[o // 20],
            "university_name": f"滨海大学第{o // 20 + 1}社会工作学院",
        }
        tender = self._tender(ctx)
        self._cooperation(ctx, tender)

    def _community(self, o: int, c: int, office: int) -> dict:
        first = o == 0 and c == 0
        name = f"滨{o + 1:03d}-{c + 1:02d}社区"
        committee_name = f"滨海市第{o + 1:03d}街道{c + 1:02d}社区居民委员会"
        committee = self.org(OrgKind.RESIDENTS_COMMITTEE, committee_name)
        staff = self.user("bench-committee_staff" if first else f"rc{o + 1:03d}{c + 1:02d}",
                          committee, [Role.COMMITTEE_STAFF], "居委会主任")
        population = sum(1 + (k * 7 + g) % 5 for g in range(1, GRIDS_PER_COMMUNITY + 1)
                         for k in range(HOUSEHOLDS_PER_GRID))
        cid = self.w.add(Community, street_office_id=office, committee_id=committee, name=name,
                         households=GRIDS_PER_COMMUNITY * HOUSEHOLDS_PER_GRID,
                         population=population, active=True, created_at=_at(date(2024, 1, 2)))
        grids, households, premises = [], [], []
        for g in range(1, GRIDS_PER_COMMUNITY + 1):
            gid = self.w.add(Grid, community_id=cid, number=g, name=f"第{g}网格")
            grids.append(gid)
            for k in range(HOUSEHOLDS_PER_GRID):
                members = 1 + (k * 7 + g) % 5
                building = f"{g}区{k // 4 + 1}号楼"
                households.append((self.w.add(
                    Household, community_id=cid, grid_id=gid, building=building,
                    address=f"{building}{k % 4 + 1}01室", head_name=self.name(), members=members,
                    elderly_alone=k % 6 == 0, needy=k % 9 == 4, migrant=k % 5 == 2,
                    correction=False, disabled=k % 11 == 7, active=True,
                    created_at=_at(date(2024, 5, 6))), gid))
            for k, kind in enumerate((PremisesKind.ENTERPRISE, PremisesKind.SHOP, PremisesKind.SHOP)):
                label = "企业" if kind is PremisesKind.ENTERPRISE else "商铺"
                premises.append((self.w.add(
                    Premises, community_id=cid, grid_id=gid, kind=kind,
                    name=f"{name}{g}号网格{k + 1}号{label}", address=f"{g}区临街{k + 1}号",
                    active=True, created_at=_at(date(2024, 5, 6))), gid))
        return {"id": cid, "name": name, "committee": committee, "committee_name": committee_name,
                "staff": staff, "grids": grids, "households": households, "premises": premises,
                "level": Decimal(self.rng.randrange(74, 97)) / 100}

    # --- the tender ---------------------------------------------------------------------
    def _tender(self, ctx) -> dict:
        w, o = self.w, ctx["o"]
        officer = ctx["staff"][Role.TENDER_OFFICER]
        amount = 400_000 * 100
        budget = amount * len(ctx["communities"])
        created = _at(date(2024, 2, 19), 9)
        published = _at(date(2024, 2, 20), 9)
        deadline = _at(date(2024, 3, 12), 9, 30)
        notice_day = date(2024, 3, 15)
        notice_end = tender_rules.working_deadline(notice_day, tender_rules.NOTICE_RUN_WORKING_DAYS)
        challenge_until = tender_rules.working_deadline(notice_end, tender_rules.CHALLENGE_WORKING_DAYS)
        title = f"{ctx['office_name']}社区社会工作服务项目"
        tid = w.add(Tender, street_office_id=ctx["office"], number=f"ZB2024-{o + 1:04d}",
                    title=title, description="为本街道各社区购买社会工作服务：网格走访、安全检查、"
                                             "社区活动与社会组织培育。服务期三年，按年度签订协议。",
                    method=TenderMethod.OPEN, state=TenderState.AWARDED, budget_fen=budget,
                    ceiling_fen=None, deposit_fen=budget // 100, documents_until=date(2024, 2, 27),
                    bid_deadline=deadline, opening_time=deadline, large_impact=False,
                    tie_break="technical", score_combination="mean", low_price_ratio=Decimal("0.80"),
                    published_at=published, closed_at=deadline, opened_at=deadline,
                    report_at=_at(date(2024, 3, 13), 16), awarded_bid_id=None,
                    notice_published_at=_at(notice_day, 10), notice_end=notice_end,
                    challenge_until=challenge_until, created_by_id=officer,
                    created_at=created, updated_at=_at(notice_day, 10))
        for comm in ctx["communities"]:
            w.add(tender_communities, tender_id=tid, community_id=comm["id"])
        criteria = []
        for position, spec in enumerate(LINGYUAN_CRITERIA):
            cid = w.add(Criterion, tender_id=tid, position=position, name=spec.name, kind=spec.kind,
                        max_score=spec.max_score, weight=spec.weight, guidance="")
            criteria.append((cid, spec))
        # Three bids: the winner first (lowest price, best plan), two others.
        bidders = [(o + k) % self.agency_count for k in range(3)]
        prices = [budget * 90 // 100, budget * 95 // 100, budget * 97 // 100]
        bids = []
        for order, (a, price) in enumerate(zip(bidders, prices), start=1):
            bid = w.add(Bid, tender_id=tid, agency_id=self.agencies[a], state=BidState.SUBMITTED,
                        version=1, price_fen=price,
                        proposal="以网格化服务为依托，驻点社区开展长者关怀、外来务工人员融入和青少年成长服务。",
                        submitted_at=_at(date(2024, 3, 1 + order), 10), submitted_by_id=self.agency_staff[a],
                        opening_order=order, valid=True, low_price=False)
            bids.append((bid, price, order))
        judges = [ctx["staff"][Role.JUDGE]] + [self.experts[(o + k) % EXPERTS] for k in range(4)]
        members = []
        for k, judge in enumerate(judges):
            members.append(w.add(CommitteeMember, tender_id=tid, judge_id=judge, is_expert=k > 0,
                                 is_chair=k == 1, state=MemberState.ACTIVE,
                                 appointed_at=_at(date(2024, 3, 11), 16)))
        for member in members:
            for bid, _, _ in bids:
                w.add(Declaration, member_id=member, bid_id=bid, has_tie=False,
                      declared_at=_at(date(2024, 3, 12), 10, 40))
        draw_seed = f"{self.rng.getrandbits(64):016x}"
        round_id = w.add(EvaluationRound, tender_id=tid, number=1, state=RoundState.CLOSED,
                         shortlist=None, opened_at=_at(date(2024, 3, 12), 10, 30),
                         closed_at=_at(date(2024, 3, 12), 16), draw_seed=draw_seed)
        price_scores = tender_rules.price_scores({b: p for b, p, _ in bids})
        standings = []
        for rank_hint, (bid, price, _) in enumerate(bids):
            totals, technicals = [], []
            for member in members:
                values = {}
                total = technical = Decimal(0)
                for cid, spec in criteria:
                    if spec.kind is CriterionKind.PRICE:
                        total += tender_rules.weighted(price_scores[bid], Decimal(100), spec.weight)
                        continue
                    share = Decimal(90 - 6 * rank_hint - self.rng.randrange(0, 3)) / 100
                    value = (spec.max_score * share).quantize(Decimal(1))
                    values[cid] = value
                    part = tender_rules.weighted(value, spec.max_score, spec.weight)
                    technical += part
                    total += part
                total, technical = tender_rules.round2(total), tender_rules.round2(technical)
                sheet = w.add(ScoreSheet, round_id=round_id, member_id=member, bid_id=bid,
                              state=TenderSheetState.SUBMITTED, total=total,
                              submitted_at=_at(date(2024, 3, 12), 14))
                for cid, value in values.items():
                    w.add(Score, sheet_id=sheet, criterion_id=cid, value=value)
                totals.append(total)
                technicals.append(technical)
            final = tender_rules.combine(totals, "mean")
            tech = tender_rules.combine(technicals, "mean")
            standings.append(tender_rules.Standing(bid, final, price, tech))
        ranked = tender_rules.rank(standings, "technical", draw_seed)
        by_bid = {s.bid_id: s for s in ranked.standings}
        for bid, price, _ in bids:
            s = by_bid[bid]
            w.add(RoundEntry, round_id=round_id, bid_id=bid, price_score=price_scores[bid],
                  final_score=s.score, technical_score=s.technical, rank=s.rank, tie_note=s.note)
        winner = min(ranked.standings, key=lambda s: s.rank).bid_id
        assert winner == bids[0][0], "the first bidder must rank first"
        self.award_updates.append({"tid": tid, "bid": winner})
        return {"id": tid, "number": f"ZB2024-{o + 1:04d}", "title": title, "notice_day": notice_day}

    # --- the cooperation, its agreements and everything under them --------------------------
    def _cooperation(self, ctx, tender) -> None:
        w = self.w
        manager = ctx["staff"][Role.CONTRACT_MANAGER]
        number = tender["number"].replace("ZB", "HT", 1)
        coop = w.add(Cooperation, number=number, tender_id=tender["id"], street_office_id=ctx["office"],
                     agency_id=ctx["agency"], university_id=ctx["university"], title=tender["title"],
                     start_date=COOPERATION_START, end_date=COOPERATION_END, justification=JUSTIFICATION,
                     state=CooperationState.ACTIVE, created_by_id=manager,
                     created_at=_at(date(2024, 3, 28), 9, 30))
        for year in (1, 2, 3):
            start = add_years(COOPERATION_START, year - 1)
            end = min(year_end(start), COOPERATION_END)
            self._agreement(ctx, coop, number, year, start, end, tender)
        self.audit_entry("bench.seed.cooperation", {"cooperation": number, "agreements": 3,
                                                    "communities": len(ctx["communities"])},
                         f"{number} {tender['title']}", datetime.now(UTC))

    def _agreement(self, ctx, coop: int, coop_number: str, year: int, start: date, end: date,
                   tender) -> None:
        w = self.w
        staff = ctx["staff"]
        comms = ctx["communities"]
        number = f"{coop_number}-{year}"
        weights = {k.value: str(v) for k, v in DEFAULT_WEIGHTS.items()}
        bands = {k.value: str(v) for k, v in DEFAULT_BANDS.items()}
        sign_due = contract_sign_due(tender_rules.local_date(_at(tender["notice_day"], 10))) \
            if year == 1 else None
        # The first year is signed before its deadline; a renewal once the previous year's
        # grade is known (its fourth quarter is finalised 12 working days after it ends).
        signed_day = date(2024, 4, 12) if year == 1 else self.wd(start, 15)
        aid = w.add(Agreement, cooperation_id=coop, year_no=year, number=number, start_date=start,
                    end_date=end, state=DocumentState.IN_FORCE, version=1, content_hash="",
                    sign_due=sign_due, evaluation_weights=weights, grade_bands=bands,
                    annual_grade=None, in_force_at=_at(signed_day, 10, 3 * len(comms) + 12),
                    created_at=_at(signed_day - timedelta(days=10), 9),
                    updated_at=_at(signed_day, 16))
        agreement_row = w.rows[Agreement.__table__][-1]
        parties = ([(ctx["office"], ctx["office_name"], PartyRole.PURCHASER, staff[Role.LEADER])]
                   + [(c["committee"], c["committee_name"], PartyRole.SUPERVISOR, c["staff"]) for c in comms]
                   + [(ctx["university"], ctx["university_name"], PartyRole.RESEARCH, ctx["evaluator"]),
                      (ctx["agency"], ctx["agency_name"], PartyRole.CONTRACTOR, ctx["agency_user"])])
        content_parties, amounts, budget_rows = [], [], []
        for position, (org, org_name, role, _) in enumerate(parties, start=1):
            w.add(AgreementParty, agreement_id=aid, org_id=org, role=role, position=position,
                  duties=defaults.DUTIES[role])
            content_parties.append([org_name, role.value, defaults.DUTIES[role]])
        amount = 400_000 * 100
        for comm in comms:
            w.add(AgreementCommunity, agreement_id=aid, community_id=comm["id"], amount_fen=amount)
            amounts.append([comm["name"], amount])
            for position, (category, value) in enumerate(defaults.budget_for(amount).items()):
                w.add(BudgetLine, agreement_id=aid, community_id=comm["id"], category=category,
                      position=position, amount_fen=value)
                budget_rows.append([comm["id"], category.value, value])
        subs = []
        sub_ids = {}
        for n, (kind, title, text) in enumerate(defaults.SUB_CONTRACTS, start=1):
            sid = w.add(SubContract, agreement_id=aid, number=n, kind=kind, title=title, content=text)
            sub_ids.setdefault(kind, sid)
            subs.append([n, kind.value, title, text])
        content = {"kind": "agreement", "number": number, "version": 1, "year": year,
                   "start": start.isoformat(), "end": end.isoformat(), "parties": content_parties,
                   "amounts": amounts, "budget": budget_rows, "sub_contracts": subs,
                   "weights": weights, "bands": bands}
        content_hash = hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False,
                                                 separators=(",", ":")).encode("utf-8")).hexdigest()
        agreement_row["content_hash"] = content_hash
        for k, (org, _, _, signer) in enumerate(parties):
            w.add(Signature, document_kind=DocumentKind.AGREEMENT, document_id=aid, version=1,
                  content_hash=content_hash, org_id=org, signer_id=signer,
                  signed_at=_at(signed_day, 10, 3 * k))
        # the service task list and the team, per community
        for comm in comms:
            for position, (kind, title, description, target) in enumerate(DEFAULT_TASKS):
                wanted = SubContractKind.CENTRE if group_of(kind) is TaskGroup.CENTRE else SubContractKind.GRID
                w.add(ServiceTask, agreement_id=aid, community_id=comm["id"], sub_contract_id=sub_ids[wanted],
                      kind=kind, title=title, description=description, measure=target.measure,
                      frequency=target.frequency, population=target.population,
                      quantity=target.quantity, within_months=target.within_months,
                      per_grid=target.per_grid, position=position)
            for role in (TeamRole.CHIEF_SUPERVISOR, TeamRole.PROJECT_LEAD):
                w.add(TeamMember, agreement_id=aid, community_id=comm["id"], grid_id=None, role=role,
                      name=self.name(), qualification="社会工作师", start_date=start)
            for gid in comm["grids"]:
                for role in (TeamRole.SUPERVISOR, TeamRole.GRID_WORKER):
                    w.add(TeamMember, agreement_id=aid, community_id=comm["id"], grid_id=gid, role=role,
                          name=self.name(), start_date=start)
        composites = self._evaluations(ctx, aid, number, year, start, end)
        if composites is not None:
            mean = round_score(sum(composites, Decimal(0)) / len(composites))
            agreement_row["annual_grade"] = grade_for(mean, DEFAULT_BANDS)

    def _evaluations(self, ctx, aid: int, number: str, year: int, start: date, end: date):
        """Periods, indicator sets, sheets, surveys, results, the instalments and the records
        of one agreement. Returns the quarter composites when every quarter is finalised."""
        w = self.w
        staff = ctx["staff"]
        manager, leader, finance = staff[Role.CONTRACT_MANAGER], staff[Role.LEADER], staff[Role.FINANCE_OFFICER]
        periods = quarters(start, end)
        period_ids = []
        for q in periods:
            period_ids.append(w.add(EvaluationPeriod, agreement_id=aid, kind=PeriodKind.QUARTER,
                                    number=q.number, start_date=q.start, end_date=q.end,
                                    self_due=self.wd(q.end, self.self_days)))
        indicator_sets = {}
        first_submitted = self.wd(periods[0].end, 3)
        for source in SHEET_SOURCES:
            sid = w.add(IndicatorSet, agreement_id=aid, source=source,
                        locked_at=_at(first_submitted, 10) if (year, 1) <= EDGE else None)
            indicators = []
            for n, spec in enumerate(DEFAULT_INDICATORS[source]):
                iid = w.add(Indicator, set_id=sid, position=n, dimension=spec.dimension, name=spec.name,
                            max_score=spec.max_score, guidance=spec.guidance)
                indicators.append((iid, spec.max_score))
            indicator_sets[source] = indicators
        weights = {Src(k): v for k, v in DEFAULT_WEIGHTS.items()}
        composites = []
        all_final = True
        accounts = {}
        for comm in ctx["communities"]:
            accounts[comm["id"]] = self._account(aid, comm, periods)
        voucher = 0
        for q, pid in zip(periods, period_ids):
            stage = (year, q.number)
            if stage > EDGE:
                all_final = False
                continue
            for c_index, comm in enumerate(ctx["communities"]):
                edge = stage == EDGE
                mode = (c_index % 3) if edge else None  # 0 requested, 1 final, 2 under review
                result = self._quarter(ctx, pid, q, comm, indicator_sets, weights,
                                       review=mode != 2, label=f"{number} {comm['name']} {q.number}")
                if result is None:
                    all_final = False
                    continue
                composite, grade = result
                composites.append(composite)
                account, instalments = accounts[comm["id"]]
                inst = instalments[q.number - 1]
                if edge and mode == 1:
                    continue
                share = DEFAULT_SHARES[grade]
                pay = payable(inst["amount_fen"], share)
                label = f"第{'一二三四'[q.number - 1]}季度"
                inst.update(
                    grade=grade, share=share, payable_fen=pay,
                    computation=(f"{label}综合得分 {composite} 分，等级“{grade.label}”，"
                                 f"按 {(share * 100).normalize():f}% 拨付：{format_fen(inst['amount_fen'])} × "
                                 f"{(share * 100).normalize():f}% = {format_fen(pay)}。"),
                    withheld_fen=inst["amount_fen"] - pay,
                    withhold_reason=(f"等级“{grade.label}”，暂扣 {format_fen(inst['amount_fen'] - pay)}，"
                                     "整改验收合格后可补拨。" if inst["amount_fen"] > pay else None),
                    requested_by_id=manager, requested_at=_at(self.wd(q.end, 14), 10),
                    state=InstalmentState.REQUESTED)
                if edge:
                    continue
                inst.update(approved_by_id=leader, approved_at=_at(self.wd(q.end, 15), 15),
                            state=InstalmentState.PAID)
                voucher += 1
                paid_on = self.wd(q.end, 17)
                self._movement(inst, MovementKind.PAYMENT, pay, paid_on,
                               f"{number}-{comm['id']}-{voucher:03d}", finance, account)
                if inst["withheld_fen"] and year < EDGE[0]:
                    voucher += 1
                    released = inst["withheld_fen"]
                    self._movement(inst, MovementKind.RELEASE, released, self.wd(q.end, 42),
                                   f"{number}-{comm['id']}-{voucher:03d}", finance, account,
                                   reason=RELEASE_REASON)
                    inst["withheld_fen"] = 0
        for comm in ctx["communities"]:
            account, instalments = accounts[comm["id"]]
            w.add(Account, **account)
            for inst in instalments:
                w.add(Instalment, **inst)
            for movement in account["_movements"]:
                w.add(Movement, **movement)
            del account["_movements"]
        self._records(ctx, aid, periods)
        return composites if all_final else None

    def _account(self, aid: int, comm: dict, periods) -> tuple[dict, list[dict]]:
        amount = 400_000 * 100
        table = Account.__table__
        self.w.ids[table] += 1
        account = {"id": self.w.ids[table], "agreement_id": aid, "community_id": comm["id"],
                   "special_agreement_id": None, "limit_fen": amount, "paid_fen": 0, "_movements": []}
        instalments = []
        itable = Instalment.__table__
        for q, value in zip(periods, split_evenly(amount, len(periods))):
            self.w.ids[itable] += 1
            instalments.append({
                "id": self.w.ids[itable], "account_id": account["id"], "number": q.number,
                "quarter": q.number, "due_date": self.wd(q.end, self.due_days), "amount_fen": value,
                "state": InstalmentState.SCHEDULED, "grade": None, "share": None, "payable_fen": None,
                "computation": None, "withheld_fen": 0, "withhold_reason": None,
                "requested_by_id": None, "requested_at": None, "approved_by_id": None,
                "approved_at": None, "note": None})
        return account, instalments

    def _movement(self, inst, kind, amount, paid_on, voucher, finance, account, reason=None):
        table = Movement.__table__
        self.w.ids[table] += 1
        account["_movements"].append({
            "id": self.w.ids[table], "instalment_id": inst["id"], "kind": kind, "amount_fen": amount,
            "paid_on": paid_on, "voucher_no": voucher[:40], "reason": reason, "reversed": False,
            "reverses_id": None, "recorded_by_id": finance, "recorded_at": _at(paid_on, 11)})
        account["paid_fen"] += amount
        assert account["paid_fen"] <= account["limit_fen"]

    def _quarter(self, ctx, pid: int, q, comm: dict, indicator_sets, weights, review: bool,
                 label: str):
        """One community's quarter: the survey, the four sheets and, when the self-assessment
        was accepted, the result. Returns (composite, grade) or None."""
        w, rng = self.w, self.rng
        level = comm["level"]
        staff = ctx["staff"]
        survey = w.add(Survey, period_id=pid, community_id=comm["id"], size=SURVEY_SIZE,
                       closes_at=_at(self.wd(q.end, 5), 18), state=SurveyState.CLOSED,
                       created_by_id=staff[Role.CONTRACT_MANAGER], created_at=_at(q.end - timedelta(days=10), 9))
        total = Decimal(0)
        for n in range(SURVEY_SIZE):
            w.add(SurveyToken, survey_id=survey, token=f"{rng.getrandbits(128):032x}", used=n < SURVEY_ANSWERED)
        for n in range(SURVEY_ANSWERED):
            base = 5 if rng.randrange(100) < int(level * 100) - 20 else 4
            answers = {key: max(1, min(5, base - (rng.randrange(100) < 15))) for key in QUESTION_KEYS}
            score = score_of(answers)
            total += score
            w.add(SurveyResponse, survey_id=survey, answers=answers, score=score,
                  comment="社工很负责。" if n % 7 == 0 else None)
        scores = {Src.RESIDENTS: round_score(total / SURVEY_ANSWERED)}
        raters = {Src.SELF: ctx["agency_user"], Src.COMMITTEE: comm["staff"],
                  Src.STREET_OFFICE: staff[Role.CONTRACT_MANAGER], Src.UNIVERSITY: ctx["evaluator"]}
        for offset, source in enumerate((Src.SELF, Src.COMMITTEE, Src.STREET_OFFICE, Src.UNIVERSITY)):
            day = self.wd(q.end, 3 + offset)
            values = []
            for iid, max_score in indicator_sets[source]:
                value = min(max_score, (max_score * (level + Decimal(rng.randrange(-3, 4)) / 100))
                            .quantize(Decimal("0.1")))
                values.append((iid, value))
            sheet_total = normalise(sum((v for _, v in values), Decimal(0)),
                                    sum((m for _, m in indicator_sets[source]), Decimal(0)))
            accepted = source is Src.SELF and review
            state = (SheetState.ACCEPTED if accepted else SheetState.SUBMITTED)
            sheet = w.add(EvaluationSheet, period_id=pid, community_id=comm["id"], source=source,
                          state=state, total=sheet_total, narrative=NARRATIVE[source],
                          opinions=OPINIONS if source is Src.COMMITTEE else "", completion=None,
                          author_id=raters[source], submitted_at=_at(day, 10), late=False,
                          reviewed_by_id=staff[Role.CONTRACT_MANAGER] if accepted else None,
                          reviewed_at=_at(self.wd(day, 1), 16) if accepted else None,
                          review_comment="同意。" if accepted else None, returns=0,
                          created_at=_at(day, 9))
            for iid, value in values:
                w.add(EvaluationScore, sheet_id=sheet, indicator_id=iid, score=value)
            if source is not Src.SELF or accepted:
                scores[source] = sheet_total
        if not review:
            return None
        composite, lines = compose(weights, scores)
        grade = grade_for(composite, DEFAULT_BANDS)
        w.add(PeriodResult, period_id=pid, community_id=comm["id"], composite=composite, grade=grade,
              breakdown=[{"source": line.source.value, "weight": str(line.weight),
                          "score": str(line.score), "weighted": str(round_score(line.weighted))}
                         for line in lines],
              reweight_reason=None, finalised_by_id=staff[Role.CONTRACT_MANAGER],
              finalised_at=_at(self.wd(q.end, 12), 15))
        return composite, grade

    def _records(self, ctx, aid: int, periods) -> None:
        """Work records every quarter up to RECORDS_UNTIL, and a grid case per quarter."""
        w = self.w
        agency_user = ctx["agency_user"]
        manager = ctx["staff"][Role.CONTRACT_MANAGER]
        for q in periods:
            if q.start > RECORDS_UNTIL:
                break
            last = min(q.end, RECORDS_UNTIL)
            span = (last - q.start).days
            for c_index, comm in enumerate(ctx["communities"]):
                def day(n):
                    return q.start + timedelta(days=(n * 13 + c_index * 3) % (span + 1))

                household, hgrid = comm["households"][(q.number * 5 + c_index) % len(comm["households"])]
                other, ograd = comm["households"][(q.number * 7 + c_index + 3) % len(comm["households"])]
                premises, pgrid = comm["premises"][(q.number + c_index) % len(comm["premises"])]
                base = dict(agreement_id=aid, community_id=comm["id"], status=RecordStatus.CURRENT,
                            recorded_by_id=agency_user)
                rows = [
                    dict(kind=RecordKind.VISIT, day=day(0), grid_id=hgrid, household_id=household),
                    dict(kind=RecordKind.INFO_UPDATE, day=day(1), grid_id=ograd, household_id=other),
                    dict(kind=RecordKind.INSPECTION, day=day(2), grid_id=pgrid, premises_id=premises,
                         hazards=0),
                    dict(kind=RecordKind.ACTIVITY, day=day(3), title="邻里文化节", participants=30 + c_index),
                    dict(kind=RecordKind.PATROL, day=day(4), grid_id=comm["grids"][0], title="两违巡查"),
                    dict(kind=RecordKind.WINDOW_SERVICE, day=day(5), title="居住证办理", resolved=True),
                ]
                for row in rows:
                    w.add(WorkRecord, **base, **row, recorded_at=_at(row["day"], 18))
                # one grid case per quarter: closed and rated, or still open in this quarter
                reported = day(6)
                self.case_numbers[reported] += 1
                number = f"WG{reported:%Y%m%d}-{self.case_numbers[reported]:03d}"
                reported_at = _at(reported, 9, 30)
                open_case = q.end >= RECORDS_UNTIL
                values = dict(number=number, community_id=comm["id"], grid_id=comm["grids"][1 % len(comm["grids"])],
                              agency_id=ctx["agency"], category=CaseCategory.SANITATION, urgency=Urgency.NORMAL,
                              title="建筑垃圾乱堆放", description="楼下有装修垃圾堆放三天未清运。",
                              reporter_id=comm["staff"], reported_at=reported_at,
                              due_at=reported_at + timedelta(hours=self.case_hours),
                              created_at=reported_at)
                if open_case:
                    values.update(state=CaseState.VERIFIED, verified_by_id=agency_user,
                                  verified_at=_at(reported, 11))
                else:
                    values.update(state=CaseState.RATED, verified_by_id=agency_user,
                                  verified_at=_at(reported, 11), handler_id=agency_user,
                                  handled_at=_at(reported, 15), result="网格社工已到现场协调处理完毕。",
                                  fed_back_at=_at(reported, 16), feedback="处置结果已告知上报人。",
                                  closed_by_id=manager, closed_at=_at(reported, 17), rating=5,
                                  rating_comment="处理及时，满意。", rated_at=_at(reported + timedelta(days=1), 10))
                w.add(GridCase, **values)

    # --- the end ---------------------------------------------------------------------------
    def finish(self) -> dict:
        w = self.w
        w.flush()
        db.session.execute(
            sa.update(Tender.__table__).where(Tender.__table__.c.id == sa.bindparam("tid"))
            .values(awarded_bid_id=sa.bindparam("bid")), self.award_updates)
        counts = {name: value for name, value in sorted(w.counts.items())}
        self.audit_entry("bench.seed.done", {"rows": counts}, "基准测试数据", datetime.now(UTC))
        self._write_audit()
        counts["audit_entries"] = len(self.audit)
        self._reset_sequences()
        db.session.flush()
        return counts

    def _write_audit(self) -> None:
        prev, rows = GENESIS, []
        for seq, item in enumerate(self.audit, start=1):
            entry = AuditEntry(id=seq, seq=seq, occurred_at=item["when"], actor_id=None,
                               actor_name=SYSTEM_ACTOR, actor_org=None, action=item["action"],
                               object_type=None, object_id=None, object_label=item["label"][:200],
                               before=None, after=_jsonable(item["after"]), ip=None, prev_hash=prev)
            entry.hash = compute_hash(entry)
            prev = entry.hash
            rows.append({c.name: getattr(entry, c.key) for c in AuditEntry.__table__.c})
        db.session.execute(sa.insert(AuditEntry.__table__), rows)

    def _reset_sequences(self) -> None:
        if db.session.get_bind().dialect.name != "postgresql":
            return
        for table in _tables():
            if "id" not in table.c or not isinstance(table.c.id.type, sa.Integer):
                continue
            db.session.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))
