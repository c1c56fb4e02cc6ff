"""How long computing the task list's completion takes on the demo's year of records, and
how long the pages that show it take.

Builds the Lingyuan demo (two communities, 4,010 households, 304 enterprises and shops,
about 15,000 records and 54 grid cases) in a throw-away SQLite database, then times:
- the ledger plus the full table (16 tasks × 4 quarters × 5 grids) for one community;
- the community completion page, the agreement page and the records list through the test
  client as the contract manager (queries per request included).

    .venv/bin/python bench/completion.py [-n 10]

Prints `name value` lines (seconds are medians of N runs).
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=10, help="number of timed runs")
    args = parser.parse_args()

    import sqlalchemy as sa

    from pdf_common import demo_app, query_log
    from procurement.demo import DEMO_PASSWORD
    from procurement.contracts.models import Agreement
    from procurement.extensions import db
    from procurement.tasks import completion
    from procurement.tasks.models import WorkRecord

    with demo_app() as app:
        agreement = db.session.scalar(sa.select(Agreement).order_by(Agreement.id).limit(1))
        community = agreement.communities[0].community
        records = db.session.scalar(sa.select(sa.func.count()).select_from(WorkRecord))
        print(f"records {records}")

        def compute():
            return completion.table(completion.ledger(agreement, community))

        times = []
        for _ in range(args.n):
            start = time.perf_counter()
            compute()
            times.append(time.perf_counter() - start)
        print(f"completion_table_median_s {statistics.median(times):.3f}")

        queries = query_log()
        pages = {
            "community_page": f"/work/{agreement.id}/communities/{community.id}",
            "agreement_page": f"/work/{agreement.id}",
            "records_list": "/records/",
        }
        client = app.test_client()
        client.post("/login", data={"username": "hetong", "password": DEMO_PASSWORD})
        for name, url in pages.items():
            times = []
            for _ in range(args.n):
                queries.clear()
                start = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - start)
            assert response.status_code == 200, (url, response.status_code)
            print(f"{name}_median_s {statistics.median(times):.3f}")
            print(f"{name}_queries {len(queries)}")


if __name__ == "__main__":
    main()
