"""How long the evaluation's period report (评估报告) takes to render and how big it is, and
how long the agreement's evaluation page and its Excel export take.

Builds the Lingyuan demo in a throw-away SQLite database with its evaluations (the demo's
own when it has them; otherwise the first quarter of each community is rated and finalised
here through the services) and takes the first finalised period of the first agreement.
Renders the report N times the way the route does (queries included), then the agreement
page and the export as the street office's contract manager.

    .venv/bin/python bench/evaluation_report.py [-n 20] [--out report.pdf]

Prints `name value` lines: evaluation_report_median_s (goal ≤ 0.5), evaluation_report_bytes
(goal ≤ 300 KB), evaluation_page_median_s (goal ≤ 0.2), evaluation_export_median_s, the
queries of each (they do not grow with the number of periods, sheets or answers), and for
context the first (cold) render, the fastest, pages and the font subsetter.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _ensure_evaluations(agreement) -> None:
    """The demo's evaluations, or a finalised first quarter per community made here."""
    from datetime import datetime, timedelta
    from decimal import Decimal

    import sqlalchemy as sa

    from procurement.accounts.models import User
    from procurement.accounts.roles import Role
    from procurement.contracts.states import EvaluationSource as Src
    from procurement.core import clock
    from procurement.core.calendar import SHANGHAI
    from procurement.evaluations import plan, scoring, sheets
    from procurement.evaluations.models import PeriodResult, Survey, SurveyResponse
    from procurement.evaluations.states import SurveyState
    from procurement.extensions import db

    try:
        from procurement.demo_evaluations import load_evaluations
        load_evaluations(agreement.cooperation.number)
        db.session.commit()
    except ImportError:
        pass
    if db.session.scalar(sa.select(PeriodResult.id).limit(1)) is not None:
        return
    cooperation = agreement.cooperation
    users = list(db.session.scalars(sa.select(User)))

    def one(role, org_id):
        return next(u for u in users if u.has_role(role) and u.org_id == org_id)

    manager = one(Role.CONTRACT_MANAGER, cooperation.street_office_id)
    raters = {Src.STREET_OFFICE: manager,
              Src.UNIVERSITY: one(Role.UNIVERSITY_EVALUATOR, cooperation.university_id),
              Src.SELF: one(Role.AGENCY_STAFF, cooperation.agency_id)}
    period = plan.periods(agreement)[0]
    day = period.end_date + timedelta(days=5)
    with clock.frozen(datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI)):
        for row in agreement.communities:
            community = row.community
            who = {**raters, Src.COMMITTEE: one(Role.COMMITTEE_STAFF, community.committee_id)}
            for source, rater in who.items():
                indicators = plan.indicator_set(agreement, source).indicators
                sheet = sheets.save(rater, period, community, source,
                                    scores={i.id: str(i.max_score * Decimal("0.9"))
                                            for i in indicators},
                                    narrative="本季度按服务清单完成各项任务。" * 5,
                                    opinions="居民反映社工入户热情、办事及时。")
                sheets.submit(rater, sheet)
                if source is Src.SELF:
                    sheets.accept(manager, sheet, "同意。")
            survey = Survey(period_id=period.id, community_id=community.id, size=60,
                            closes_at=clock.now(), state=SurveyState.CLOSED,
                            created_by_id=manager.id)
            db.session.add(survey)
            db.session.flush()
            db.session.add_all(SurveyResponse(survey_id=survey.id, answers={"q": 5},
                                              score=Decimal(80 + n % 20)) for n in range(48))
            db.session.flush()
            scoring.finalise(manager, period, community)
    db.session.commit()


def _timed(work, n: int) -> list[float]:
    work()  # warm: templates compiled, fonts loaded
    times = []
    for _ in range(n):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=20, help="number of timed renders")
    parser.add_argument("--out", help="also write the rendered PDF to this file")
    args = parser.parse_args()

    import sqlalchemy as sa
    from flask_login import login_user

    from pdf_common import demo_app, print_figures, print_subsetter, query_log, timed
    from procurement.accounts.models import User
    from procurement.accounts.roles import Role
    from procurement.contracts.models import Agreement
    from procurement.contracts.states import DocumentState
    from procurement.documents.pdf import render_pdf
    from procurement.evaluations import views
    from procurement.evaluations.models import EvaluationPeriod, PeriodResult
    from procurement.evaluations.report import report_context
    from procurement.extensions import db
    from procurement.orgs.models import Community

    with demo_app() as app:
        agreement = db.session.scalar(
            sa.select(Agreement).where(Agreement.state == DocumentState.IN_FORCE)
            .order_by(Agreement.id).limit(1))
        _ensure_evaluations(agreement)
        agreement_id = agreement.id
        result = db.session.scalar(
            sa.select(PeriodResult).join(EvaluationPeriod)
            .where(EvaluationPeriod.agreement_id == agreement_id)
            .order_by(EvaluationPeriod.end_date, PeriodResult.id).limit(1))
        period_id, community_id = result.period_id, result.community_id
        manager_id = next(u.id for u in db.session.scalars(sa.select(User))
                          if u.has_role(Role.CONTRACT_MANAGER)
                          and u.org_id == agreement.cooperation.street_office_id)
        queries = query_log()

        def render() -> bytes:
            db.session.expire_all()  # each render queries, as a request would
            queries.clear()
            return render_pdf("pdf/evaluation_period_report.html", **report_context(
                db.session.get(EvaluationPeriod, period_id),
                db.session.get(Community, community_id)))

        report = timed(render, args.n)
        report_queries = len(queries)

        def as_manager(view):
            def work():
                with app.test_request_context(f"/evaluations/{agreement_id}"):
                    db.session.expire_all()
                    login_user(db.session.get(User, manager_id))
                    queries.clear()
                    view()
            return work

        page_times = _timed(as_manager(lambda: views.render_agreement(
            db.session.get(Agreement, agreement_id))), args.n)
        page_queries = len(queries)
        export_times = _timed(as_manager(lambda: views.export(agreement_id)), args.n)
        export_queries = len(queries)
        db.session.rollback()  # the page may create the periods it reads: keep nothing

    if args.out:
        Path(args.out).write_bytes(report[0])
    print_figures("evaluation_report", report)
    print(f"evaluation_report_queries {report_queries}")
    print(f"evaluation_page_median_s {statistics.median(page_times):.3f}")
    print(f"evaluation_page_queries {page_queries}")
    print(f"evaluation_export_median_s {statistics.median(export_times):.3f}")
    print(f"evaluation_export_queries {export_queries}")
    print_subsetter()


if __name__ == "__main__":
    main()
