"""How long the street-office-wide ledger export (/disbursements/export.xlsx) takes on a
2,000-community ledger, how much memory it needs and how big the workbook is.

Seeds a throw-away database with `flask bench-seed --communities N` in a child process (so
the seeding's memory is not this process's): a temporary SQLite file by default, or a fresh
database on a PostgreSQL server with BENCH_DATABASE_URL / --database
(e.g. postgresql+psycopg://postgres@127.0.0.1:5432; dropped afterwards). Without bench-seed
the Lingyuan demo is used instead (said on stderr and in ledger_export_communities). Then
signs in with the test client as the auditor (`bench-auditor`, who reads every account: the
whole city's ledger; `--user` for another) and downloads the export the way a browser does,
reading the body in chunks and keeping none of it.

    .venv/bin/python bench/ledger_export.py [--communities 2000] [-n 3] [--user bench-auditor]

Prints `name value` lines: ledger_export_rows (instalments in the workbook, read back with
openpyxl), ledger_export_s (median of N downloads after a warm one), ledger_export_first_s,
ledger_export_bytes, ledger_export_peak_mb (tracemalloc's peak of Python allocations during
one export: what the route holds at once, rows, cells and workbook buffers included) and
ledger_export_rss_growth_mb (the process's RSS high-water mark during the first export
minus its RSS just before, reset through /proc/self/clear_refs on Linux; it also counts the C
side: the database driver, zlib).
"""
import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server_common import (DEMO_PASSWORD, bench_user, fresh_database,  # noqa: E402
                           migrate_and_seed, production_env)

URL = "/disbursements/export.xlsx"


def _status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def reset_peak_rss() -> float:
    """Reset the kernel's RSS high-water mark (Linux: /proc/self/clear_refs) and return the
    RSS now, in MB."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    now = _status_mb("VmRSS")
    return now if now is not None else peak_rss_mb()


def peak_rss_mb() -> float:
    peak = _status_mb("VmHWM")
    if peak is not None:
        return peak
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--communities", type=int, default=2000)
    parser.add_argument("-n", type=int, default=3, help="number of timed exports")
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="a PostgreSQL server URL; a temporary SQLite file when unset")
    parser.add_argument("--user", help="who exports (default: the auditor)")
    args = parser.parse_args()

    import logging

    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory(prefix="procurement-export-") as tmp, \
            fresh_database(args.database) as database_url:
        instance = Path(tmp)
        seeded = migrate_and_seed(production_env(database_url, instance), args.communities)
        username = args.user or bench_user(seeded["data"], "auditor")

        from openpyxl import load_workbook

        from config import TestConfig
        from procurement import create_app
        from procurement.extensions import db

        app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": database_url,
                                                "UPLOAD_DIR": str(instance / "uploads")})
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
        if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
            sys.exit(f"signing in as {username} failed")
        client.get("/disbursements/")  # templates, session and connections warm

        def export(keep: Path | None = None) -> int:
            """Download the export in chunks; returns its size in bytes."""
            response = client.get(URL, buffered=False)
            if response.status_code != 200:
                sys.exit(f"{URL} answered {response.status_code}")
            size = 0
            out = open(keep, "wb") if keep else None
            try:
                for chunk in response.response:
                    size += len(chunk)
                    if out:
                        out.write(chunk)
            finally:
                response.close()
                if out:
                    out.close()
            return size

        rss_before = reset_peak_rss()
        start = time.perf_counter()
        workbook = instance / "ledger.xlsx"
        size = export(workbook)
        first = time.perf_counter() - start
        rss_growth = peak_rss_mb() - rss_before

        times = []
        for _ in range(args.n):
            start = time.perf_counter()
            export()
            times.append(time.perf_counter() - start)

        tracemalloc.start()
        export()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

        book = load_workbook(workbook, read_only=True)
        rows = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True)) - 1
        book.close()
        with app.app_context():
            db.engine.dispose()

    print(f"ledger_export_communities {seeded['communities']}")
    print(f"ledger_export_postgresql {int(bool(args.database))}")
    print(f"ledger_export_rows {rows}")
    print(f"ledger_export_s {statistics.median(times):.3f}")
    print(f"ledger_export_first_s {first:.3f}")
    print(f"ledger_export_bytes {size}")
    print(f"ledger_export_peak_mb {peak / 1024 / 1024:.1f}")
    print(f"ledger_export_rss_growth_mb {rss_growth:.1f}")


if __name__ == "__main__":
    main()
