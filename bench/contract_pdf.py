"""How long the contract PDF (年度服务协议) takes to render, and how big it is.

Builds the Lingyuan demo in a throw-away SQLite database and takes its first annual
agreement in force (two communities × 400,000 yuan, six sub-contracts, five signing
organisations, one amendment). Renders it N times the way the route does (queries included).

    .venv/bin/python bench/contract_pdf.py [-n 20] [--out contract.pdf]

Prints `name value` lines: contract_pdf_median_s (goal ≤ 0.5), contract_pdf_bytes (goal
≤ 400 KB), and for context the first (cold) render, the fastest, pages, queries per render
and the font subsetter.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=20, help="number of timed renders")
    parser.add_argument("--out", help="also write the rendered PDF to this file")
    args = parser.parse_args()

    import sqlalchemy as sa

    from pdf_common import demo_app, print_figures, print_subsetter, query_log, timed
    from procurement.contracts.document import contract_context
    from procurement.contracts.models import Agreement
    from procurement.contracts.states import DocumentState
    from procurement.documents.pdf import render_pdf
    from procurement.extensions import db

    with demo_app():
        agreement_id = db.session.scalar(
            sa.select(Agreement.id).where(Agreement.state == DocumentState.IN_FORCE)
            .order_by(Agreement.id).limit(1))
        queries = query_log()

        def render() -> bytes:
            db.session.expire_all()  # each render queries, as a request would
            queries.clear()
            return render_pdf("pdf/contract.html",
                              **contract_context(db.session.get(Agreement, agreement_id)))

        result = timed(render, args.n)
        count = len(queries)

    if args.out:
        Path(args.out).write_bytes(result[0])
    print_figures("contract_pdf", result)
    print(f"contract_pdf_queries {count}")
    print_subsetter()


if __name__ == "__main__":
    main()
