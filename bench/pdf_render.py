"""How long the printable PDFs take to render, and how big they are.

Builds the Lingyuan demo in a throw-away SQLite database, then renders N times, each the
way its route does (queries included): the organisation directory (/admin/orgs/directory.pdf)
and the evaluation report (评标报告) of the demo's 2016 tender (two rounds, five judges).

    .venv/bin/python bench/pdf_render.py [-n 20]

Prints `name value` lines: org_directory_pdf_median_s, org_directory_pdf_bytes,
evaluation_report_pdf_median_s, evaluation_report_pdf_bytes, and a few more for context
(the first, cold render; pages; queries per report; which font subsetter WeasyPrint uses).
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=20, help="number of timed renders")
    args = parser.parse_args()

    import sqlalchemy as sa

    from pdf_common import demo_app, print_figures, print_subsetter, query_log, timed
    from procurement.demo import LINGYUAN_TENDER
    from procurement.documents.pdf import render_pdf
    from procurement.extensions import db
    from procurement.orgs.views import directory_context
    from procurement.tenders.models import Tender
    from procurement.tenders.report import report_context

    with demo_app():
        def render() -> bytes:
            db.session.expire_all()  # each render queries, as a request would
            return render_pdf("pdf/org_directory.html", **directory_context())

        tender_id = db.session.scalar(sa.select(Tender.id).where(Tender.number == LINGYUAN_TENDER))
        queries = query_log()

        def render_report() -> bytes:
            db.session.expire_all()
            queries.clear()
            return render_pdf("pdf/evaluation_report.html",
                              **report_context(db.session.get(Tender, tender_id)))

        directory = timed(render, args.n)
        report = timed(render_report, args.n)
        report_queries = len(queries)

    print_figures("org_directory_pdf", directory)
    print_figures("evaluation_report_pdf", report)
    print(f"evaluation_report_pdf_queries {report_queries}")
    print_subsetter()


if __name__ == "__main__":
    main()
