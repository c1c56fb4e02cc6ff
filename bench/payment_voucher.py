"""How long the payment voucher (拨付单) takes to render and how big it is, and how long the
agreement's ledger page (拨付台账) and its Excel export take.

Builds the Lingyuan demo in a throw-away SQLite database with its evaluations and payments
(procurement/demo_evaluations.py and demo_disbursements.py: four quarters per community,
each requested, approved and paid, 灵水's withheld 10,000 yuan released), takes the first
payment and renders its voucher N times the way the route does (queries included), then
the ledger page and the export as the street office's finance officer.

    .venv/bin/python bench/payment_voucher.py [-n 20] [--out voucher.pdf]

Prints `name value` lines: payment_voucher_median_s (goal ≤ 0.3), payment_voucher_bytes
(goal ≤ 200 KB), disbursement_page_median_s (goal ≤ 0.2), disbursement_export_median_s,
the queries of each, and for context the first (cold) render, the fastest, pages and the
font subsetter.
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
    from procurement.disbursements import views
    from procurement.disbursements.models import Account, Instalment, Movement
    from procurement.disbursements.states import MovementKind
    from procurement.disbursements.voucher import load_movement, voucher_context
    from procurement.documents.pdf import render_pdf
    from procurement.extensions import db

    with demo_app() as app:
        payment = db.session.scalar(sa.select(Movement).where(
            Movement.kind == MovementKind.PAYMENT).order_by(Movement.id).limit(1))
        if payment is None:
            sys.exit("the demo holds no payment to print")
        movement_id = payment.id
        agreement_id = db.session.scalar(
            sa.select(Account.agreement_id).join(Instalment, Instalment.account_id == Account.id)
            .where(Instalment.id == payment.instalment_id))
        office_id = db.session.get(Agreement, agreement_id).cooperation.street_office_id
        finance_id = next(u.id for u in db.session.scalars(sa.select(User))
                          if u.has_role(Role.FINANCE_OFFICER) and u.org_id == office_id)
        movements = db.session.scalar(sa.select(sa.func.count()).select_from(Movement))
        queries = query_log()

        def render() -> bytes:
            db.session.expire_all()  # each render queries, as a request would
            queries.clear()
            return render_pdf("pdf/payment_voucher.html",
                              **voucher_context(load_movement(movement_id)))

        voucher = timed(render, args.n)
        voucher_queries = len(queries)

        def as_finance(view):
            def work():
                with app.test_request_context(f"/disbursements/{agreement_id}"):
                    db.session.expire_all()
                    login_user(db.session.get(User, finance_id))
                    queries.clear()
                    view()
            return work

        page_times = warm_times(as_finance(lambda: views.agreement(agreement_id)), args.n)
        page_queries = len(queries)
        export_times = warm_times(as_finance(lambda: views.export(agreement_id)), args.n)
        export_queries = len(queries)
        db.session.rollback()  # a page may create the evaluation periods it reads: keep nothing

    if args.out:
        Path(args.out).write_bytes(voucher[0])
    print_figures("payment_voucher", voucher)
    print(f"payment_voucher_queries {voucher_queries}")
    print(f"disbursement_movements {movements}")
    print(f"disbursement_page_median_s {statistics.median(page_times):.3f}")
    print(f"disbursement_page_queries {page_queries}")
    print(f"disbursement_export_median_s {statistics.median(export_times):.3f}")
    print(f"disbursement_export_queries {export_queries}")
    print_subsetter()


if __name__ == "__main__":
    main()
