"""The satisfaction survey at the same moment (PostgreSQL), beyond test_surveys.py (one token
answered at once): a survey created many times at once exists once, answers racing the
close are each either counted by the close or refused, answers racing the finalisation are
each either in the locked score or refused, and a quarter finalised many times at once is
finalised once."""
from datetime import timedelta

import sqlalchemy as sa

from conftest import Factory, agreement_past_its_first_quarter, at_once
from contracts.contract_builder import ContractBuilder
from disbursements.test_disbursements import accept_quarter
from evaluations.test_surveys import ALL_GOOD
from procurement.accounts.models import User
from procurement.audit.models import AuditEntry
from procurement.audit.services import verify_chain
from procurement.contracts.states import EvaluationSource as Src
from procurement.core.calendar import now_utc
from procurement.evaluations import plan, scoring, surveys
from procurement.evaluations.models import EvaluationPeriod, PeriodResult, Survey, SurveyResponse
from procurement.extensions import db
from procurement.orgs.models import Community
from tenders.tender_builder import TenderBuilder


def prepared(app, *, sheets=False, survey_size=None) -> dict:
    """An agreement past its first quarter; with `sheets` every rater's sheet submitted (the
    quarter only waits for its finalisation); with `survey_size` an open survey."""
    with app.app_context():
        factory = Factory()
        contracts = ContractBuilder(factory, TenderBuilder(
            factory, start=now_utc() - timedelta(days=160)))
        agreement = agreement_past_its_first_quarter(contracts)
        coop = agreement.cooperation
        period = plan.periods(agreement)[0]
        community = agreement.communities[0].community
        if sheets:
            accept_quarter({"agreement": agreement, "community": community, "quarter": period,
                            "agency": contracts.agency_user(coop),
                            "committee": contracts.committee_user,
                            "manager": contracts.manager, "professor": contracts.professor},
                           survey=False, finalise=False)
        ids = {"period": period.id, "community": community.id,
               "manager": contracts.manager.id, "leader": contracts.leader.id}
        if survey_size:
            survey = surveys.create(contracts.manager, period, community, size=survey_size,
                                    closes_at=now_utc() + timedelta(days=7))
            ids.update(survey=survey.id, tokens=surveys.tokens_of(survey))
        db.session.commit()
        return ids


def where(ids):
    return db.session.get(EvaluationPeriod, ids["period"]), db.session.get(Community, ids["community"])


def manager(ids, i: int) -> User:
    return db.session.get(User, ids["manager"] if i % 2 else ids["leader"])


def errors(results):
    return [r for r in results if r.startswith("error")]


def audit(action: str) -> list[dict]:
    return [e.after for e in db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq))]


def responses() -> int:
    return db.session.scalar(sa.select(sa.func.count(SurveyResponse.id)))


def test_a_survey_created_many_times_at_once_exists_once(committed_app):
    ids = prepared(committed_app)

    def create(i):
        period, community = where(ids)
        surveys.create(manager(ids, i), period, community, size=30,
                       closes_at=now_utc() + timedelta(days=7))

    results = at_once(committed_app, create)
    assert results.count("ok") == 1 and not errors(results), results
    assert all("已有满意度调查" in r for r in results if r != "ok"), results
    with committed_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Survey.id))) == 1
        assert len(audit("survey.create")) == 1
        assert verify_chain().ok


def test_answers_racing_the_close_are_counted_by_it_or_refused(committed_app):
    ids = prepared(committed_app, survey_size=20)

    def work(i):
        if i == 0:
            surveys.close(db.session.get(User, ids["manager"]),
                          db.session.get(Survey, ids["survey"]))
        else:
            surveys.answer(ids["tokens"][i], ALL_GOOD)

    results = at_once(committed_app, work, n=16)
    assert not errors(results), results
    assert all(r in ("ok", surveys.CLOSED) for r in results), results
    with committed_app.app_context():
        (closed,) = audit("survey.close")
        assert closed["responses"] == responses() == results.count("ok") - 1
        assert verify_chain().ok


def test_answers_racing_the_finalisation_are_in_the_locked_score_or_refused(committed_app):
    ids = prepared(committed_app, sheets=True, survey_size=20)

    def work(i):
        if i == 0:
            period, community = where(ids)
            scoring.finalise(db.session.get(User, ids["manager"]), period, community,
                             reweight_reason="部分居民尚未作答")
        else:  # answers from 2 (poor) to 5 (excellent): each one moves the mean
            surveys.answer(ids["tokens"][i], {k: 2 + i % 4 for k in ALL_GOOD})

    results = at_once(committed_app, work, n=16)
    assert not errors(results), results
    assert all(r in ("ok", surveys.CLOSED) for r in results), results
    with committed_app.app_context():
        period, community = where(ids)
        result = db.session.scalar(sa.select(PeriodResult))
        locked = {line["source"]: line["score"] for line in result.breakdown}
        now = scoring.survey_score(period, community)
        assert locked.get(Src.RESIDENTS.value) == (str(now) if now is not None else None)
        assert verify_chain().ok


def test_a_quarter_finalised_many_times_at_once_is_finalised_once(committed_app):
    ids = prepared(committed_app, sheets=True)

    def finalise(i):
        period, community = where(ids)
        scoring.finalise(manager(ids, i), period, community,
                         reweight_reason="本季度未开展满意度调查")

    results = at_once(committed_app, finalise)
    assert results.count("ok") == 1 and not errors(results), results
    assert all("已确定" in r for r in results if r != "ok"), results
    with committed_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PeriodResult.id))) == 1
        assert len(audit("evaluation.finalise")) == 1
        assert verify_chain().ok
