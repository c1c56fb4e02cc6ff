"""Completion of the task list computed from the records, for each kind of target: coverage
of a register once within a window and every month, a weekly ramp, counts per period and
per grid, and shares (grid cases in time, window services resolved). Corrected and
withdrawn records do not count; a unit's surplus never fills another unit."""
from datetime import datetime, timedelta

import pytest

from procurement.core.calendar import SHANGHAI, now_utc
from procurement.core.errors import DomainError
from procurement.extensions import db
from procurement.tasks import completion, task_list
from procurement.tasks.completion import Status
from procurement.tasks.models import GridCase, Household, Premises, WorkRecord
from procurement.tasks.states import (CaseCategory, CaseState, Frequency, Measure, Population,
                                      PremisesKind, RecordKind, RecordStatus, TaskKind, Urgency)
from procurement.tasks.task_list import Target


@pytest.fixture
def work(contracts):
    """A signed agreement with the default task list, its first community and staff."""
    coop = contracts.cooperation()
    agreement = coop.agreements[0]
    task_list.draw_up(contracts.manager, agreement)
    contracts.sign_all(agreement)
    community = agreement.communities[0].community
    return {"agreement": agreement, "community": community, "grids": community.grids,
            "start": agreement.start_date, "staff": contracts.agency_user(coop)}


def _task(work, kind):
    return next(t for t in task_list.tasks_of(work["agreement"], work["community"].id)
                if t.kind is kind)


def _households(work, n, grid=0, vulnerable=False):
    rows = [Household(community_id=work["community"].id, grid_id=work["grids"][grid].id,
                      building=f"{grid + 1}号楼", address=f"{grid + 1}号楼{i + 101}-{vulnerable}",
                      head_name=f"住户{i}", members=3, elderly_alone=vulnerable)
            for i in range(n)]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def _premises(work, kind, n, grid=0):
    rows = [Premises(community_id=work["community"].id, grid_id=work["grids"][grid].id, kind=kind,
                     name=f"{kind.label}{grid}-{i}", address=f"{grid + 1}号路{i}号")
            for i in range(n)]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def _record(work, kind, day, grid=0, household=None, premises=None, **fields):
    grid_id = (household.grid_id if household else premises.grid_id if premises
               else work["grids"][grid].id if grid is not None else None)
    row = WorkRecord(agreement_id=work["agreement"].id, community_id=work["community"].id,
                     grid_id=grid_id, kind=kind, day=day,
                     household_id=household.id if household else None,
                     premises_id=premises.id if premises else None,
                     recorded_by_id=work["staff"].id, recorded_at=now_utc(), **fields)
    db.session.add(row)
    db.session.flush()
    return row


def _quarter(work, number):
    q = completion.quarters(work["agreement"].start_date, work["agreement"].end_date)[number - 1]
    return (q.start, q.end)


def _progress(work, kind, as_of, period=None, grid=None):
    book = completion.ledger(work["agreement"], work["community"], as_of)
    return book.progress(_task(work, kind), period, grid)


def test_every_household_visited_once_within_three_months(work):
    start = work["start"]
    homes = _households(work, 4)
    for home in homes[:3]:
        _record(work, RecordKind.VISIT, start + timedelta(days=10), household=home)
    q1 = _quarter(work, 1)

    midway = _progress(work, TaskKind.HOUSEHOLD_VISIT, start + timedelta(days=45), q1)
    assert (midway.done, midway.target, midway.status) == (3, 4, Status.ON_TRACK)
    late = _progress(work, TaskKind.HOUSEHOLD_VISIT, q1[1] + timedelta(days=1), q1)
    assert (late.done, late.target, late.status) == (3, 4, Status.OVERDUE)

    _record(work, RecordKind.VISIT, start + timedelta(days=60), household=homes[3])
    done = _progress(work, TaskKind.HOUSEHOLD_VISIT, q1[1] + timedelta(days=1), q1)
    assert (done.done, done.target, done.status, done.percent) == (4, 4, Status.DONE, 100)
    # The window ends in the first quarter: no target in the second.
    assert _progress(work, TaskKind.HOUSEHOLD_VISIT, q1[1] + timedelta(days=1),
                     _quarter(work, 2)).status is Status.NO_TARGET


def test_a_household_visited_twice_counts_once(work):
    start = work["start"]
    homes = _households(work, 2)
    _record(work, RecordKind.VISIT, start + timedelta(days=3), household=homes[0])
    _record(work, RecordKind.VISIT, start + timedelta(days=9), household=homes[0])
    progress = _progress(work, TaskKind.HOUSEHOLD_VISIT, start + timedelta(days=20),
                         _quarter(work, 1))
    assert (progress.done, progress.target) == (1, 2)


def test_vulnerable_households_are_visited_every_month(work):
    start = work["start"]
    _households(work, 5)  # ordinary households do not count here
    alone = _households(work, 2, vulnerable=True)
    for month in range(3):
        day = start + timedelta(days=31 * month + 5)
        _record(work, RecordKind.VISIT, day, household=alone[0])
        if month != 1:
            _record(work, RecordKind.VISIT, day, household=alone[1])
    q1 = _quarter(work, 1)
    progress = _progress(work, TaskKind.VULNERABLE_VISIT, q1[1] + timedelta(days=1), q1)
    # Three months of two households: the second missed one month.
    assert (progress.done, progress.target, progress.status) == (5, 6, Status.OVERDUE)


def test_a_month_without_visits_is_overdue_even_if_the_next_is_busy(work):
    start = work["start"]
    alone = _households(work, 1, vulnerable=True)[0]
    for extra in range(3):  # three visits in month two, none in month one
        _record(work, RecordKind.VISIT, start + timedelta(days=35 + extra), household=alone)
    progress = _progress(work, TaskKind.VULNERABLE_VISIT, start + timedelta(days=40),
                         _quarter(work, 1))
    assert progress.status is Status.OVERDUE
    assert progress.done == 1  # capped per month


def test_enterprises_monthly_and_shops_quarterly(work):
    start = work["start"]
    firms = _premises(work, PremisesKind.ENTERPRISE, 2)
    shops = _premises(work, PremisesKind.SHOP, 3)
    for month in range(3):
        for firm in firms:
            _record(work, RecordKind.INSPECTION, start + timedelta(days=31 * month + 2),
                    premises=firm)
    for shop in shops:
        _record(work, RecordKind.INSPECTION, start + timedelta(days=70), premises=shop,
                hazards=1, findings="灭火器过期")
    q1 = _quarter(work, 1)
    after = q1[1] + timedelta(days=1)
    firms_done = _progress(work, TaskKind.ENTERPRISE_INSPECTION, after, q1)
    shops_done = _progress(work, TaskKind.SHOP_INSPECTION, after, q1)
    assert (firms_done.done, firms_done.target, firms_done.status) == (6, 6, Status.DONE)
    assert (shops_done.done, shops_done.target, shops_done.status) == (3, 3, Status.DONE)
    # The six enterprise inspections did not count for the shops; a later quarter has not
    # started yet.
    assert _progress(work, TaskKind.SHOP_INSPECTION, after, _quarter(work, 3)).status \
        is Status.NOT_STARTED


def test_information_collection_ramps_ten_percent_a_week(work):
    start = work["start"]
    homes = _households(work, 20)
    # Two households a week for three weeks: on schedule (10% of 20 = 2 a week).
    for week in range(3):
        for home in homes[2 * week:2 * week + 2]:
            _record(work, RecordKind.INFO_UPDATE, start + timedelta(days=7 * week + 1),
                    household=home)
    q1 = _quarter(work, 1)
    on_time = _progress(work, TaskKind.INFO_COLLECTION, start + timedelta(days=21), q1)
    assert on_time.status is Status.ON_TRACK and on_time.done == 6
    # A week later nothing more was collected: behind the weekly schedule.
    behind = _progress(work, TaskKind.INFO_COLLECTION, start + timedelta(days=28), q1)
    assert behind.status is Status.OVERDUE
    # All of it by week ten: done, and the quarter's target is the whole register.
    for home in homes[6:]:
        _record(work, RecordKind.INFO_UPDATE, start + timedelta(days=30), household=home)
    finished = _progress(work, TaskKind.INFO_COLLECTION, start + timedelta(days=75), q1)
    assert (finished.done, finished.target, finished.status) == (20, 20, Status.DONE)


def test_counts_per_grid_do_not_borrow_from_each_other(work):
    start = work["start"]
    task = _task(work, TaskKind.PATROL)  # once a week per grid
    assert task.per_grid and task.quantity == 1
    week = (start, start + timedelta(days=6))
    for _ in range(len(work["grids"])):
        _record(work, RecordKind.PATROL, start + timedelta(days=1), grid=0)
    progress = _progress(work, TaskKind.PATROL, start + timedelta(days=7), week)
    assert (progress.done, progress.target, progress.status) == (1, len(work["grids"]),
                                                                 Status.OVERDUE)
    first_grid = _progress(work, TaskKind.PATROL, start + timedelta(days=7), week,
                           grid=work["grids"][0])
    assert first_grid.status is Status.DONE


def test_one_joint_meeting_a_quarter(work):
    start = work["start"]
    q1 = _quarter(work, 1)
    assert _progress(work, TaskKind.JOINT_MEETING, start + timedelta(days=80), q1).status \
        is Status.AT_RISK  # most of the quarter gone, no meeting yet
    _record(work, RecordKind.JOINT_MEETING, start + timedelta(days=85), grid=None,
            title="第一季度联席会议", participants=8, minutes="通报进度，部署下季度工作。")
    progress = _progress(work, TaskKind.JOINT_MEETING, start + timedelta(days=86), q1)
    assert (progress.done, progress.target, progress.status) == (1, 1, Status.DONE)


def test_corrected_and_withdrawn_records_do_not_count(work):
    start = work["start"]
    home = _households(work, 1)[0]
    _record(work, RecordKind.VISIT, start + timedelta(days=3), household=home,
            status=RecordStatus.WITHDRAWN, withdraw_reason="录错住户")
    _record(work, RecordKind.VISIT, start + timedelta(days=4), household=home,
            status=RecordStatus.CORRECTED)
    progress = _progress(work, TaskKind.HOUSEHOLD_VISIT, start + timedelta(days=5),
                         _quarter(work, 1))
    assert progress.done == 0


def _case(work, day, hours_late=None, state=CaseState.CLOSED, grid=0):
    reported = datetime(day.year, day.month, day.day, 9, tzinfo=SHANGHAI)
    due = reported + timedelta(hours=72)
    handled = None if hours_late is None else due + timedelta(hours=hours_late)
    case = GridCase(number=f"T{day:%m%d}{hours_late}{state.value}", community_id=work["community"].id,
                    grid_id=work["grids"][grid].id, category=CaseCategory.SAFETY,
                    urgency=Urgency.NORMAL, state=state, title="测试", description="测试",
                    reporter_id=work["staff"].id, reported_at=reported, due_at=due,
                    handled_at=handled, handler_id=work["staff"].id if handled else None)
    db.session.add(case)
    db.session.flush()
    return case


def test_grid_cases_count_as_handled_in_time(work):
    start = work["start"]
    q1 = _quarter(work, 1)
    for n in range(19):
        _case(work, start + timedelta(days=n + 1), hours_late=-10)
    _case(work, start + timedelta(days=30), hours_late=5)        # handled late
    _case(work, start + timedelta(days=31), state=CaseState.CANCELLED)  # not counted
    progress = _progress(work, TaskKind.GRID_CASES, q1[1] + timedelta(days=1), q1)
    # 95% of 20 cases = 19 in time: met.
    assert (progress.done, progress.target, progress.status) == (19, 19, Status.DONE)
    _case(work, start + timedelta(days=40), hours_late=1)
    missed = _progress(work, TaskKind.GRID_CASES, q1[1] + timedelta(days=1), q1)
    assert (missed.done, missed.target, missed.status) == (19, 20, Status.OVERDUE)


def test_window_services_count_the_share_resolved(work):
    start = work["start"]
    q1 = _quarter(work, 1)
    for n in range(19):
        _record(work, RecordKind.WINDOW_SERVICE, start + timedelta(days=n), grid=None,
                resolved=True, title="办理居住证明")
    _record(work, RecordKind.WINDOW_SERVICE, start + timedelta(days=20), grid=None,
            resolved=False, title="转办低保申请")
    progress = _progress(work, TaskKind.WINDOW_SERVICE, q1[1] + timedelta(days=1), q1)
    assert (progress.done, progress.target, progress.status) == (19, 19, Status.DONE)


def test_an_empty_register_has_no_target(work):
    progress = _progress(work, TaskKind.ENTERPRISE_INSPECTION, work["start"] + timedelta(days=40),
                         _quarter(work, 1))
    assert progress.status is Status.NO_TARGET and progress.ratio is None


def test_quarter_summary_gives_each_task_and_the_overall_completion(work):
    start = work["start"]
    homes = _households(work, 2)
    for home in homes:
        _record(work, RecordKind.VISIT, start + timedelta(days=5), household=home)
    summary = completion.quarter_summary(work["agreement"], work["community"], 1,
                                         as_of=start + timedelta(days=200))
    visits = next(i for i in summary["items"] if i["task"] == "入户走访")
    assert (visits["done"], visits["required"], visits["percent"]) == (2, 2, 100)
    assert summary["quarter"].number == 1
    assert 0 < summary["overall"] < 100  # other tasks have no records
    assert summary["alerts"] > 0


def test_alerts_list_the_current_quarters_overdue_items_by_grid(work):
    start = work["start"]
    _households(work, 2, grid=1, vulnerable=True)
    book = completion.ledger(work["agreement"], work["community"], start + timedelta(days=40))
    found = {(t.kind, g.id if g else None) for t, g, _ in completion.alerts(book)}
    assert (TaskKind.VULNERABLE_VISIT, work["grids"][1].id) in found
    assert (TaskKind.VULNERABLE_VISIT, None) in found
    assert (TaskKind.VULNERABLE_VISIT, work["grids"][0].id) not in found  # nobody to visit


def test_target_rules_refuse_unmeasurable_targets():
    with pytest.raises(DomainError, match="按周递进"):
        task_list.check_target(TaskKind.INFO_COLLECTION,
                               Target(Measure.RAMP, Frequency.MONTHLY, Population.HOUSEHOLDS, 10))
    with pytest.raises(DomainError, match="不能按台账"):
        task_list.check_target(TaskKind.ACTIVITY,
                               Target(Measure.COVERAGE, Frequency.MONTHLY, Population.HOUSEHOLDS))
    with pytest.raises(DomainError, match="次数"):
        task_list.check_target(TaskKind.ACTIVITY, Target(Measure.COUNT, Frequency.MONTHLY))
    with pytest.raises(DomainError, match="期限"):
        task_list.check_target(TaskKind.HOUSEHOLD_VISIT,
                               Target(Measure.COVERAGE, Frequency.WITHIN, Population.HOUSEHOLDS))
    for kind, _, _, target in task_list.DEFAULT_TASKS:
        task_list.check_target(kind, target)  # the defaults are all measurable


def test_the_task_list_is_fixed_once_signing_starts(work, contracts):
    task = _task(work, TaskKind.ACTIVITY)
    with pytest.raises(DomainError, match="不能再修改"):
        task_list.update_task(contracts.manager, task, title="社区活动", description="",
                              target=Target(Measure.COUNT, Frequency.MONTHLY, quantity=5))


def test_a_week_cut_short_by_the_agreements_end_asks_for_nothing(work):
    agreement = work["agreement"]
    task = _task(work, TaskKind.PATROL)
    end = agreement.start_date + timedelta(days=7 * 3)  # three weeks and one day
    weeks = completion.units_of(task, agreement.start_date, end)
    assert len(weeks) == 3 and weeks[-1][1] == end - timedelta(days=1)
    longer = completion.units_of(task, agreement.start_date, end + timedelta(days=3))
    assert len(longer) == 4 and longer[-1] == (end, end + timedelta(days=3))
