"""How long the organisation directory PDF takes to render, and how big it is.

Builds the Lingyuan demo in a throw-away SQLite database, then renders the directory the
way the /admin/orgs/directory.pdf route does (its queries included) N times.

    .venv/bin/python bench/pdf_render.py [-n 20]

Prints `name value` lines: org_directory_pdf_median_s, org_directory_pdf_bytes, and a few
more for context (the first, cold render; pages; which font subsetter WeasyPrint uses).
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
    from procurement.demo import load_demo
    from procurement.documents.pdf import render_pdf
    from procurement.extensions import db
    from procurement.orgs.views import directory_context

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

            start = time.perf_counter()
            data = render()  # cold: fonts found and loaded, stylesheet parsed
            first = time.perf_counter() - start
            times = []
            for _ in range(args.n):
                start = time.perf_counter()
                data = render()
                times.append(time.perf_counter() - start)
            db.session.remove()
            db.engine.dispose()

    pages = len(PdfReader(io.BytesIO(data)).pages)
    subsetter = "harfbuzz" if weasy_fonts.harfbuzz_subset is not None else "fonttools"
    print(f"org_directory_pdf_median_s {statistics.median(times):.3f}")
    print(f"org_directory_pdf_bytes {len(data)}")
    print(f"org_directory_pdf_first_s {first:.3f}")
    print(f"org_directory_pdf_min_s {min(times):.3f}")
    print(f"org_directory_pdf_pages {pages}")
    print(f"org_directory_pdf_runs {args.n}")
    print(f"pdf_font_subsetter {subsetter}")


if __name__ == "__main__":
    main()
