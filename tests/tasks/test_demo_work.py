"""The demo's first year of service work: the registers imported from Excel, every household
visited in the first quarter, information collected at 10% a week, 143 enterprise and 870
shop inspections in the first ten months, 30+ activities, and completion computed from it
all. Loaded once per test here (it takes seconds), so the checks share one test."""
from datetime import date

import sqlalchemy as sa

from procurement.contracts.models import Agreement
from procurement.demo import load_demo
from procurement.extensions import db
from procurement.tasks import completion
from procurement.tasks.completion import Status
from procurement.tasks.models import Household, Premises, ServiceTask, WorkRecord
from procurement.tasks.states import PremisesKind, RecordKind, RecordStatus, TaskKind


def _count(*where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(WorkRecord)
                             .outerjoin(Premises, Premises.id == WorkRecord.premises_id)
                             .where(WorkRecord.status == RecordStatus.CURRENT, *where))


def test_the_demo_replays_a_year_of_lingyuan_service_work(db):
    assert load_demo() is True
    agreement = db.session.scalar(sa.select(Agreement).where(Agreement.number == "HT2016-001-1"))
    households = db.session.scalar(sa.select(sa.func.count()).select_from(Household))
    assert households == 2150 + 1860  # the communities' own household counts
    first_quarter = WorkRecord.day < date(2016, 8, 1)
    visited = db.session.scalar(sa.select(sa.func.count(sa.distinct(WorkRecord.household_id)))
                                .where(WorkRecord.kind == RecordKind.VISIT, first_quarter))
    assert visited == households
    ten_months = WorkRecord.day < date(2017, 3, 1)
    assert _count(Premises.kind == PremisesKind.ENTERPRISE, ten_months) == 143
    assert _count(Premises.kind == PremisesKind.SHOP, ten_months) == 870
    five_months = WorkRecord.day < date(2016, 10, 1)
    assert _count(WorkRecord.kind == RecordKind.ACTIVITY, five_months) >= 30
    participants = db.session.scalar(sa.select(sa.func.sum(WorkRecord.participants)).where(
        WorkRecord.kind == RecordKind.ACTIVITY, five_months))
    assert participants >= 2000
    # One record corrected and one withdrawn, kept with their reasons.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WorkRecord).where(
        WorkRecord.status != RecordStatus.CURRENT)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceTask)) == 32

    for row in agreement.communities:
        book = completion.ledger(agreement, row.community, date(2017, 5, 1))
        by_kind = {r.task.kind: r for r in completion.table(book, with_grids=False)}
        assert by_kind[TaskKind.HOUSEHOLD_VISIT].quarters[0].status is Status.DONE
        ramp = by_kind[TaskKind.INFO_COLLECTION].quarters[0]
        assert ramp.status is Status.DONE and ramp.done == row.community.households
        assert by_kind[TaskKind.ENTERPRISE_INSPECTION].year.status is Status.DONE
        assert by_kind[TaskKind.SHOP_INSPECTION].year.status is Status.DONE
        assert by_kind[TaskKind.JOINT_MEETING].year.status is Status.DONE
    assert load_demo() is False
