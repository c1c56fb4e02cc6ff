"""How long the evaluation's period report (评估报告) takes to render and how big it is, and
how long the agreement's evaluation page and its Excel export take.

Builds the Lingyuan demo in a throw-away SQLite database (its year of evaluations included)
and takes the first finalised period of the first agreement.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=20, help="number of timed renders")
    parser.add_argument("--out", help="also write the rendered PDF to this file")
    args = parser.parse_args()

    import sqlalchemy as sa
    from flask_login import login_user

    from pdf_common import (demo_app, print_figures, print_subsetter, query_log, timed,
                            warm_times)
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

        page_times = warm_times(as_manager(lambda: views.render_agreement(
            db.session.get(Agreement, agreement_id))), args.n)
        page_queries = len(queries)
        export_times = warm_times(as_manager(lambda: views.export(agreement_id)), args.n)
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
