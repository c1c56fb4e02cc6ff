"""How long the contract PDF (年度服务协议) takes to render, and how big it is.

Builds the Lingyuan demo in a throw-away SQLite database and takes its first annual
agreement in force (两社区 × 40万元, six sub-contracts, five signing organisations, one
amendment). If the demo has no agreement yet, one like it is made through the contract
services. Then renders it N times the way the route does (queries included).

    .venv/bin/python bench/contract_pdf.py [-n 20] [--out contract.pdf]

Prints `name value` lines: contract_pdf_median_s, contract_pdf_bytes, and for context the
first (cold) render, the fastest, pages, queries per render and the font subsetter.
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
    parser.add_argument("--out", help="also write the rendered PDF to this file")
    args = parser.parse_args()

    logging.disable(logging.INFO)  # keep Alembic's progress lines out of the figures
    import sqlalchemy as sa
    from flask_migrate import upgrade
    from pypdf import PdfReader
    from weasyprint.pdf import fonts as weasy_fonts

    from config import TestConfig
    from procurement import create_app
    from procurement.contracts.document import contract_context
    from procurement.contracts.models import Agreement
    from procurement.contracts.states import DocumentState
    from procurement.demo import load_demo
    from procurement.documents.pdf import render_pdf
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
            agreement_id = db.session.scalar(
                sa.select(Agreement.id).where(Agreement.state == DocumentState.IN_FORCE)
                .order_by(Agreement.id).limit(1))
            source = "demo"
            if agreement_id is None:
                agreement_id = lingyuan_agreement()
                db.session.commit()
                source = "built"

            queries = []
            sa.event.listen(db.engine, "before_cursor_execute",
                            lambda *a: queries.append(a[2]))

            def render() -> bytes:
                db.session.expire_all()  # each render queries, as a request would
                queries.clear()
                agreement = db.session.get(Agreement, agreement_id)
                return render_pdf("pdf/contract.html", **contract_context(agreement))

            data, first, times = timed(render, args.n)
            count = len(queries)
            db.session.remove()
            db.engine.dispose()

    if args.out:
        Path(args.out).write_bytes(data)
    subsetter = "harfbuzz" if weasy_fonts.harfbuzz_subset is not None else "fonttools"
    print(f"contract_pdf_median_s {statistics.median(times):.3f}")
    print(f"contract_pdf_bytes {len(data)}")
    print(f"contract_pdf_first_s {first:.3f}")
    print(f"contract_pdf_min_s {min(times):.3f}")
    print(f"contract_pdf_pages {len(PdfReader(io.BytesIO(data)).pages)}")
    print(f"contract_pdf_queries {count}")
    print(f"contract_pdf_runs {args.n}")
    print(f"contract_pdf_agreement {source}")
    print(f"pdf_font_subsetter {subsetter}")


def lingyuan_agreement() -> int:
    """The first year of the Lingyuan cooperation as the demo describes it, through the
    services: created after the 2016 award, signed by all five organisations, amended once."""
    from datetime import date

    import sqlalchemy as sa

    from procurement.accounts.models import User
    from procurement.contracts import changes, services
    from procurement.contracts.states import BudgetCategory
    from procurement.core import clock
    from procurement.demo import LINGYUAN_TENDER, at
    from procurement.extensions import db
    from procurement.orgs.models import Organisation
    from procurement.tenders.models import Tender

    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    tender = db.session.scalar(sa.select(Tender).where(Tender.number == LINGYUAN_TENDER))
    university = db.session.scalar(sa.select(Organisation).where(
        Organisation.name == "厦门大学公共事务学院"))
    with clock.frozen(at(4, 18, 10, 0)):
        cooperation = services.create_cooperation(
            users["hetong"], tender, university=university, start_date=date(2016, 5, 1),
            end_date=date(2019, 4, 30), amount_per_community_fen=40_000_000,
            justification="社区公共服务稳定持续，街道财政连续三年安排专项资金，合作三年，一年一签。")
    agreement = cooperation.agreements[0]
    signers = ["lingdao", "linkou", "lingshui", "xiada", "cishan"]
    with clock.frozen(at(4, 25, 10, 0)):
        for username in signers:
            services.sign_agreement(users[username], agreement, agreement.content_hash)
    budget = {}
    for line in agreement.budget_lines:
        budget.setdefault(line.community_id, {})[line.category] = line.amount_fen
    first = agreement.communities[0].community_id
    budget[first][BudgetCategory.TRAINING] += 1_000_000
    budget[first][BudgetCategory.WAGES] -= 1_000_000
    with clock.frozen(at(9, 1, 10, 0)):
        amendment = changes.propose_amendment(
            users["hetong"], agreement, reason="林口社区增加网格员培训场次，相应调整培训费与工资福利预算。",
            end_date=agreement.end_date,
            amounts={c.community_id: c.amount_fen for c in agreement.communities}, budget=budget)
    with clock.frozen(at(9, 8, 10, 0)):
        for username in signers:
            changes.sign_amendment(users[username], amendment, amendment.content_hash)
    return agreement.id


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
