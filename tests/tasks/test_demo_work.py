"""The demo's first year: the registers imported from Excel, every household visited in the
first quarter, information collected at 10% a week, 143 enterprise and 870 shop inspections
in the first ten months, 30+ activities, completion computed from it all; then the four
quarters' evaluations and the payments they drove. Loading it takes seconds, so the checks
share one test."""
from datetime import date

import sqlalchemy as sa

from procurement.contracts.models import Agreement
from procurement.contracts.states import Grade
from procurement.disbursements import ledger
from procurement.disbursements.models import Movement
from procurement.disbursements.states import MovementKind
from procurement.evaluations.models import EvaluationSheet, PeriodResult, Survey, SurveyResponse
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
    _evaluations_and_payments(agreement)
    assert load_demo() is False


def _evaluations_and_payments(agreement):
    """Four quarters with every source for both communities, one self-assessment returned
    and resubmitted, 灵水 graded lower, survey answers for both; the year's grade set; each
    instalment paid, 灵水's 基本合格 quarter partly withheld and released; ledger reconciled."""
    results = db.session.scalars(sa.select(PeriodResult)).all()
    assert len(results) == 4 * len(agreement.communities)
    assert all({line["source"] for line in r.breakdown} >= {"street_office", "committee",
                                                            "university", "residents"}
               for r in results)
    by_community = {}
    for r in results:
        by_community.setdefault(r.community.name, []).append(r.grade)
    assert set(by_community["林口社区"]) == {Grade.EXCELLENT}
    assert Grade.PASS in by_community["灵水社区"] and Grade.EXCELLENT not in by_community["灵水社区"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EvaluationSheet).where(
        EvaluationSheet.returns > 0)) == 1
    assert db.session.scalar(sa.select(sa.func.count(sa.distinct(Survey.community_id))).join(
        SurveyResponse, SurveyResponse.survey_id == Survey.id)) == 2
    assert agreement.annual_grade is Grade.GOOD
    books = ledger.ledger(agreement)
    assert all(book.reconciles() for book in books)
    releases = db.session.scalars(sa.select(Movement).where(
        Movement.kind == MovementKind.RELEASE)).all()
    assert len(releases) == 1 and releases[0].instalment.grade is Grade.PASS
    assert sum(book.paid for book in books) == sum(book.account.limit_fen for book in books)
