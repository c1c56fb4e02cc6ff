"""What the PDF benchmarks share: the demo in a throw-away database, timing renders and
printing the figures as `name value` lines."""
import io
import logging
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def demo_app():
    """An app context on a fresh SQLite database holding the Lingyuan demo."""
    logging.disable(logging.INFO)  # keep Alembic's progress lines out of the figures
    from flask_migrate import upgrade

    from config import TestConfig
    from procurement import create_app
    from procurement.demo import load_demo
    from procurement.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(TestConfig, overrides={
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
            "UPLOAD_DIR": str(Path(tmp) / "uploads"),
        })
        with app.app_context():
            upgrade()
            load_demo()
            db.session.commit()
            try:
                yield app
            finally:
                db.session.remove()
                db.engine.dispose()


def query_log() -> list:
    """Statements run from now on (cleared by the caller before each render)."""
    import sqlalchemy as sa

    from procurement.extensions import db

    queries = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *args: queries.append(args[2]))
    return queries


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


def print_figures(name: str, result: tuple[bytes, float, list[float]]) -> None:
    from pypdf import PdfReader

    data, first, times = result
    print(f"{name}_median_s {statistics.median(times):.3f}")
    print(f"{name}_bytes {len(data)}")
    print(f"{name}_first_s {first:.3f}")
    print(f"{name}_min_s {min(times):.3f}")
    print(f"{name}_pages {len(PdfReader(io.BytesIO(data)).pages)}")
    print(f"{name}_runs {len(times)}")


def print_subsetter() -> None:
    from weasyprint.pdf import fonts as weasy_fonts

    subsetter = "harfbuzz" if weasy_fonts.harfbuzz_subset is not None else "fonttools"
    print(f"pdf_font_subsetter {subsetter}")


def warm_times(work, n: int) -> list[float]:
    """Run once to warm (templates compiled, fonts loaded), then time N runs."""
    work()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times
