"""Completion of the service task list, computed from the records (never typed in): for each
task, grid, community and quarter, what was done against the target, and whether it is done,
on track, at risk or overdue. The quarter summary is the "quantity" evidence the evaluation
uses.

A target repeats over *units* (a month, a week, a quarter, the first three months...); a unit
counts towards the quarter in which it ends. Within a unit, what was done is capped at the
unit's target, so a busy month never hides an empty one, and one grid's extra patrols never
hide another grid's missing ones."""
import bisect
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from flask_babel import lazy_gettext as _l

from procurement.contracts.models import Agreement
from procurement.contracts.rules import Quarter, quarters
from procurement.core import clock
from procurement.core.calendar import add_months, local_to_utc, to_local
from procurement.core.numbers import HUNDRED
from procurement.core.states import LabelledEnum
from procurement.extensions import db
from procurement.orgs.models import Community, Grid
from procurement.tasks.models import GridCase, Household, Premises, ServiceTask, WorkRecord
from procurement.tasks.states import (TASK_RECORDS, CaseState, Frequency as F, Measure as M,
                                      Population as P, PremisesKind, RecordStatus,
                                      TaskKind as K)
from procurement.tasks.task_list import describe


class Status(LabelledEnum):
    DONE = "done"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OVERDUE = "overdue"
    NOT_STARTED = "not_started"
    NO_TARGET = "no_target"


LABELS = {(Status, s.value): label for s, label in [
    (Status.DONE, _l("已完成")), (Status.ON_TRACK, _l("进行中")), (Status.AT_RISK, _l("有风险")),
    (Status.OVERDUE, _l("逾期未完成")), (Status.NOT_STARTED, _l("未开始")),
    (Status.NO_TARGET, _l("无目标"))]}
ALERTS = (Status.AT_RISK, Status.OVERDUE)


@dataclass(frozen=True)
class Progress:
    done: int
    target: int
    status: Status
    note: str = ""

    @property
    def ratio(self) -> Decimal | None:
        """Done against target, capped at 100%; None when there is nothing to do."""
        if self.target <= 0:
            return None
        return min(Decimal(self.done) / Decimal(self.target), Decimal(1))

    @property
    def percent(self) -> Decimal | None:
        return None if self.ratio is None else (self.ratio * HUNDRED).quantize(Decimal("0.1"))


Unit = tuple[date, date]


def _months_units(start: date, end: date, months: int) -> list[Unit]:
    units, index = [], 0
    while (first := add_months(start, months * index)) <= end:
        units.append((first, min(add_months(start, months * (index + 1)) - timedelta(days=1),
                                 end)))
        index += 1
    return units


def _without_stub(units: list[Unit], length: int) -> list[Unit]:
    """A last week (or half-month) cut short by the agreement's end to under half its
    length asks for nothing: a one-day "week" would demand a whole week's patrol."""
    if units and (units[-1][1] - units[-1][0]).days + 1 < (length + 1) // 2:
        return units[:-1]
    return units


def units_of(task: ServiceTask, start: date, end: date) -> list[Unit]:
    """The periods a task's target repeats over within the agreement's term."""
    f = task.frequency
    if f is F.WEEKLY:
        weeks = [(d, min(d + timedelta(days=6), end))
                 for d in (start + timedelta(days=7 * i)
                           for i in range((end - start).days // 7 + 1)) if d <= end]
        return _without_stub(weeks, 7)
    if f is F.HALF_MONTHLY:
        halves = []
        for first, last in _months_units(start, end, 1):
            middle = first + timedelta(days=14)
            halves += [(first, min(middle, last))] + ([(middle + timedelta(days=1), last)]
                                                       if middle < last else [])
        return _without_stub(halves, 15)
    if f is F.WITHIN:
        return [(start, min(add_months(start, task.within_months) - timedelta(days=1), end))]
    months = {F.MONTHLY: 1, F.QUARTERLY: 3, F.HALF_YEARLY: 6, F.YEARLY: 12}[f]
    return _months_units(start, end, months)


@dataclass
class _Case:
    grid_id: int
    day: date
    on_time: bool
    overdue_open: bool


@dataclass
class Ledger:
    """What a community's completion is computed from, loaded in a few queries: the registers
    (active rows), the current records of the agreement and the grid cases of its term."""
    agreement: Agreement
    community: Community
    as_of: date
    grids: list[Grid]
    tasks: list[ServiceTask]
    population: dict[P, dict[int, int]] = field(default_factory=dict)  # item id → grid id
    # (record kind) → list of (day, grid id, household id, premises id, resolved)
    records: dict = field(default_factory=lambda: defaultdict(list))
    cases: list[_Case] = field(default_factory=list)

    @property
    def quarters(self) -> list[Quarter]:
        return quarters(self.agreement.start_date, self.agreement.end_date)

    def current_quarter(self) -> Quarter | None:
        return next((q for q in self.quarters if q.contains(self.as_of)), None)

    # --- one task, one scope, one period ------------------------------------------------

    def progress(self, task: ServiceTask, period: Unit | None = None,
                 grid: Grid | None = None) -> Progress:
        """Completion of a task for a period (a quarter; the whole year when None), for the
        community or for one grid."""
        start, end = self.agreement.start_date, self.agreement.end_date
        period = period or (start, end)
        if task.measure is M.RAMP:
            return self._ramp(task, period, grid)
        if task.measure is M.SHARE:
            return self._share(task, period, grid)
        units = [u for u in units_of(task, start, end) if period[0] <= u[1] <= period[1]]
        if not units:
            return Progress(0, 0, Status.NO_TARGET, "本期无考核要求")
        achieved = [(u, *self._unit(task, u, grid)) for u in units]
        return self._judge(achieved)

    def _unit(self, task: ServiceTask, unit: Unit, grid: Grid | None) -> tuple[int, int]:
        """(done capped at the target, target) for one unit."""
        if task.measure is M.COVERAGE:
            items = self._items(task.population, grid)
            covered = {self._item_of(task, r) for r in self._records(task, unit, grid)}
            return len(covered & items.keys()), len(items)
        grids = [grid] if grid else (self.grids if task.per_grid else [None])
        done = 0
        for g in grids:
            count = len(self._records(task, unit, g))
            done += min(count, task.quantity)
        return done, task.quantity * len(grids)

    def _judge(self, achieved: list[tuple[Unit, int, int]]) -> Progress:
        done = sum(d for _, d, _ in achieved)
        target = sum(t for _, _, t in achieved)
        if target == 0:
            return Progress(done, 0, Status.NO_TARGET, "台账为空")
        if all(u[0] > self.as_of for u, _, _ in achieved):
            return Progress(done, target, Status.NOT_STARTED)
        if done >= target:
            return Progress(done, target, Status.DONE)
        if any(u[1] < self.as_of and d < t for u, d, t in achieved):
            return Progress(done, target, Status.OVERDUE)
        # At risk: behind the pace the elapsed time asks for by more than half an item.
        expected = sum(t * _elapsed(u, self.as_of) for u, _, t in achieved)
        status = Status.AT_RISK if done + 0.5 < expected else Status.ON_TRACK
        return Progress(done, target, status)

    def _ramp(self, task: ServiceTask, period: Unit, grid: Grid | None) -> Progress:
        """A share of the register per week, cumulative, until all of it (信息采集 10%/周)."""
        items = self._items(task.population, grid)
        total = len(items)
        if total == 0:
            return Progress(0, 0, Status.NO_TARGET, "台账为空")
        first_done: dict[int, date] = {}
        for record in self._records(task, (self.agreement.start_date, period[1]), grid):
            item = self._item_of(task, record)
            if item in items and (item not in first_done or record[0] < first_done[item]):
                first_done[item] = record[0]
        days = sorted(first_done.values())
        start = self.agreement.start_date

        def required(day: date) -> int:
            weeks = ((day - start).days + 1) // 7
            return min(total, math.ceil(total * task.quantity * weeks / 100))

        target = required(period[1])
        if period[0] > self.as_of:
            return Progress(0, target, Status.NOT_STARTED)
        upto = min(period[1], self.as_of)
        done = bisect.bisect_right(days, upto)
        if done >= total or (done >= target and period[1] <= self.as_of):
            return Progress(done, target, Status.DONE)
        # Behind the weekly schedule as of the last week that ended: overdue.
        if done < required(upto) or period[1] < self.as_of:
            return Progress(done, target, Status.OVERDUE)
        return Progress(done, target, Status.ON_TRACK)

    def _share(self, task: ServiceTask, period: Unit, grid: Grid | None) -> Progress:
        """A share of the period's items done: grid cases handled in time, window services
        and home handling resolved."""
        if task.kind is K.GRID_CASES:
            items = [c for c in self.cases if period[0] <= c.day <= period[1]
                     and (grid is None or c.grid_id == grid.id)]
            total, done = len(items), sum(c.on_time for c in items)
            late_open = any(c.overdue_open for c in items)
        else:
            items = self._records(task, period, grid)
            total, done = len(items), sum(bool(r[4]) for r in items)
            late_open = False
        target = math.ceil(total * task.quantity / 100)
        note = f"共{total}件，按要求完成{done}件" if total else "本期无"
        if period[0] > self.as_of:
            return Progress(done, target, Status.NOT_STARTED, note)
        if total == 0:
            return Progress(0, 0, Status.NO_TARGET, note)
        if period[1] < self.as_of:
            return Progress(done, target, Status.DONE if done >= target else Status.OVERDUE, note)
        at_risk = late_open or done < target
        return Progress(done, target, Status.AT_RISK if at_risk else Status.ON_TRACK, note)

    # --- data access ----------------------------------------------------------------------

    def _items(self, population: P, grid: Grid | None) -> dict[int, int]:
        items = self.population.get(population, {})
        if grid is None:
            return items
        return {i: g for i, g in items.items() if g == grid.id}

    @staticmethod
    def _item_of(task: ServiceTask, record) -> int | None:
        return record[3] if task.population in (P.ENTERPRISES, P.SHOPS) else record[2]

    def _records(self, task: ServiceTask, unit: Unit, grid: Grid | None) -> list:
        kind = TASK_RECORDS.get(task.kind)
        rows = self.records.get(kind, [])
        lo = bisect.bisect_left(rows, (unit[0],))
        hi = bisect.bisect_left(rows, (unit[1] + timedelta(days=1),))
        return [r for r in rows[lo:hi] if grid is None or r[1] == grid.id]


def _elapsed(unit: Unit, as_of: date) -> float:
    """The share of a unit that has passed by the end of `as_of`'s previous day."""
    start, end = unit
    if as_of <= start:
        return 0.0
    if as_of > end:
        return 1.0
    return (as_of - start).days / ((end - start).days + 1)


def ledger(agreement: Agreement, community: Community, as_of: date | None = None) -> Ledger:
    return ledgers([(agreement, community)], as_of)[0]


def ledgers(pairs: list[tuple[Agreement, Community]], as_of: date | None = None) -> list[Ledger]:
    """The ledgers of several (agreement, community) pairs, loaded together in six queries
    whatever their number (a page listing many communities does not query per community)."""
    if not pairs:
        return []
    today = as_of or clock.today()
    agreement_ids = sorted({a.id for a, _ in pairs})
    community_ids = sorted({c.id for _, c in pairs})
    tasks = defaultdict(list)
    for task in db.session.scalars(
            sa.select(ServiceTask).where(ServiceTask.agreement_id.in_(agreement_ids),
                                         ServiceTask.community_id.in_(community_ids))
            .options(joinedload(ServiceTask.sub_contract))  # the pages name it per task
            .order_by(ServiceTask.position)):
        tasks[task.agreement_id, task.community_id].append(task)
    grids = defaultdict(list)
    for grid in db.session.scalars(sa.select(Grid).where(Grid.community_id.in_(community_ids))
                                   .order_by(Grid.number)):
        grids[grid.community_id].append(grid)
    households = defaultdict(list)
    for h in db.session.execute(
            sa.select(Household.id, Household.grid_id, Household.community_id,
                      Household.vulnerable_clause().label("vulnerable"))
            .where(Household.community_id.in_(community_ids), Household.active)):
        households[h.community_id].append(h)
    premises = defaultdict(dict)
    kinds = {PremisesKind.ENTERPRISE: P.ENTERPRISES, PremisesKind.SHOP: P.SHOPS}
    for row in db.session.execute(
            sa.select(Premises.id, Premises.grid_id, Premises.community_id, Premises.kind)
            .where(Premises.community_id.in_(community_ids), Premises.active)
            .order_by(Premises.id)):
        premises[row.community_id, kinds[row.kind]][row.id] = row.grid_id
    records = defaultdict(lambda: defaultdict(list))
    for row in db.session.execute(
            sa.select(WorkRecord.agreement_id, WorkRecord.community_id, WorkRecord.kind,
                      WorkRecord.day, WorkRecord.grid_id, WorkRecord.household_id,
                      WorkRecord.premises_id, WorkRecord.resolved)
            .where(WorkRecord.agreement_id.in_(agreement_ids),
                   WorkRecord.community_id.in_(community_ids),
                   WorkRecord.status == RecordStatus.CURRENT)
            .order_by(WorkRecord.day, WorkRecord.id)):
        records[row.agreement_id, row.community_id][row.kind].append(
            (row.day, row.grid_id, row.household_id, row.premises_id, row.resolved))
    earliest = _utc_midnight(min(a.start_date for a, _ in pairs))
    latest = _utc_midnight(max(a.end_date for a, _ in pairs) + timedelta(days=1))
    cases = defaultdict(list)
    for case in db.session.execute(
            sa.select(GridCase.community_id, GridCase.grid_id, GridCase.reported_at,
                      GridCase.due_at, GridCase.handled_at, GridCase.state)
            .where(GridCase.community_id.in_(community_ids),
                   GridCase.state != CaseState.CANCELLED,
                   GridCase.reported_at >= earliest, GridCase.reported_at < latest)
            .order_by(GridCase.reported_at, GridCase.id)):
        cases[case.community_id].append(case)
    now = clock.now()
    books = []
    for agreement, community in pairs:
        book = Ledger(agreement, community, min(today, agreement.end_date + timedelta(days=1)),
                      grids[community.id], tasks[agreement.id, community.id])
        rows = households[community.id]
        book.population[P.HOUSEHOLDS] = {h.id: h.grid_id for h in rows}
        book.population[P.VULNERABLE] = {h.id: h.grid_id for h in rows if h.vulnerable}
        for population in (P.ENTERPRISES, P.SHOPS):
            book.population[population] = dict(premises[community.id, population])
        for kind, found in records[agreement.id, community.id].items():
            book.records[kind] = list(found)
        start = _utc_midnight(agreement.start_date)
        end = _utc_midnight(agreement.end_date + timedelta(days=1))
        for case in cases[community.id]:
            if not start <= case.reported_at < end:
                continue
            handled = case.handled_at is not None
            book.cases.append(_Case(
                case.grid_id, to_local(case.reported_at).date(),
                on_time=handled and case.handled_at <= case.due_at,
                overdue_open=not handled and now > case.due_at))
        books.append(book)
    return books


def _utc_midnight(day: date) -> datetime:
    return local_to_utc(datetime.combine(day, time()))


# --- what the pages and the evaluation read ----------------------------------------------


@dataclass
class TaskRow:
    task: ServiceTask
    target: str
    quarters: list[Progress]
    year: Progress
    grids: list[tuple[Grid, list[Progress]]]


def overall(progresses: list[Progress]) -> Decimal | None:
    """The mean completion of the tasks that had a target, in percent to 0.1."""
    ratios = [p.ratio for p in progresses if p.ratio is not None]
    if not ratios:
        return None
    return (sum(ratios) / len(ratios) * HUNDRED).quantize(Decimal("0.1"))


def table(book: Ledger, with_grids: bool = True) -> list[TaskRow]:
    rows = []
    for task in book.tasks:
        per_quarter = [book.progress(task, (q.start, q.end)) for q in book.quarters]
        grids = []
        if with_grids and _by_grid(task):
            grids = [(g, [book.progress(task, (q.start, q.end), g) for q in book.quarters])
                     for g in book.grids]
        rows.append(TaskRow(task, describe(task), per_quarter, book.progress(task), grids))
    return rows


def _by_grid(task: ServiceTask) -> bool:
    """Tasks measured per grid: register-based ones, per-grid counts and grid cases."""
    return task.measure in (M.COVERAGE, M.RAMP) or task.per_grid or task.kind is K.GRID_CASES


def quarter_summary(agreement: Agreement, community: Community, number: int,
                    as_of: date | None = None) -> dict:
    """The quarter's completion per task: the "quantity" evidence of the evaluation."""
    book = ledger(agreement, community, as_of)
    quarter = next(q for q in book.quarters if q.number == number)
    items = [(task, book.progress(task, (quarter.start, quarter.end))) for task in book.tasks]
    return {
        "quarter": quarter,
        "community": community,
        "items": [{"task": task.title, "target": describe(task), "done": p.done,
                   "required": p.target, "percent": p.percent, "status": p.status}
                  for task, p in items],
        "overall": overall([p for _, p in items]),
        "alerts": sum(p.status in ALERTS for _, p in items),
    }


def alerts(book: Ledger) -> list[tuple[ServiceTask, Grid | None, Progress]]:
    """The current quarter's overdue and at-risk items, by task and by grid."""
    quarter = book.current_quarter()
    if quarter is None:
        return []
    found = []
    period = (quarter.start, quarter.end)
    for task in book.tasks:
        progress = book.progress(task, period)
        if progress.status in ALERTS:
            found.append((task, None, progress))
        if _by_grid(task):
            found += [(task, g, p) for g in book.grids
                      if (p := book.progress(task, period, g)).status in ALERTS]
    return found
