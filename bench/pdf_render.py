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
import io
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=20, help="number of timed renders")
    args = parser.parse_args()

    logging.disable(logging.INFO)  # keep Alembic's progress lines out of the figures
    from flask_migrate import upgrade
    from pypdf import PdfReader
    from weasyprint.pdf import fonts as weasy_fonts

    from config import TestConfig
    from procurement import create_app
    import sqlalchemy as sa

    from procurement.demo import LINGYUAN_TENDER, load_demo
    from procurement.documents.pdf import render_pdf
    from procurement.extensions import db
    from procurement.orgs.views import directory_context
    from procurement.tenders.models import Tender
    from procurement.tenders.report import report_context

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(TestConfig, overrides={
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
            "UPLOAD_DIR": str(Path(tmp) / "uploads"),
        })
        with app.app_context():
            upgrade()
            load_demo()
            db.session.commit()

            def render() -> bytes:
                db.session.expire_all()  # each render queries, as a request would
                return render_pdf("pdf/org_directory.html", **directory_context())

            tender_id = db.session.scalar(sa.select(Tender.id).where(
                Tender.number == LINGYUAN_TENDER))
            queries = []
            sa.event.listen(db.engine, "before_cursor_execute",
                            lambda *args: queries.append(args[2]))

            def render_report() -> bytes:
                db.session.expire_all()
                queries.clear()
                tender = db.session.get(Tender, tender_id)
                return render_pdf("pdf/evaluation_report.html", **report_context(tender))

            directory = timed(render, args.n)
            report = timed(render_report, args.n)
            report_queries = len(queries)
            db.session.remove()
            db.engine.dispose()

    subsetter = "harfbuzz" if weasy_fonts.harfbuzz_subset is not None else "fonttools"
    for name, (data, first, times) in (("org_directory_pdf", directory),
                                       ("evaluation_report_pdf", report)):
        pages = len(PdfReader(io.BytesIO(data)).pages)
        print(f"{name}_median_s {statistics.median(times):.3f}")
        print(f"{name}_bytes {len(data)}")
        print(f"{name}_first_s {first:.3f}")
        print(f"{name}_min_s {min(times):.3f}")
        print(f"{name}_pages {pages}")
        print(f"{name}_runs {args.n}")
    print(f"evaluation_report_pdf_queries {report_queries}")
    print(f"pdf_font_subsetter {subsetter}")


def timed(render, n: int) -> tuple[bytes, float, list[float]]:
    """The last document, the first (cold) render's time and the N timed renders."""
    start = time.perf_counter()
    data = render()  # cold: fonts found and loaded, stylesheet parsed, queries compiled
    first = time.perf_counter() - start
    times = []
    for _ in range(n):
        start = time.perf_counter()
        data = render()
        times.append(time.perf_counter() - start)
    return data, first, times


if __name__ == "__main__":
    main()
