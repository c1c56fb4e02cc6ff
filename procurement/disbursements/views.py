"""Disbursement pages (拨付): the agreements with their totals, an agreement's ledger (per
account its instalments, totals, reconciliation, a chart of paid against scheduled, the
movements, the payment rule, spending against the budget), its Excel export, the instalment
page with its history and the step the current user may take, and the payment voucher
(拨付单) PDF. Views hold no rules: every refusal is the services' message."""
import sqlalchemy as sa
from flask import Blueprint, Response, abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from procurement.accounts.forms import ConfirmForm
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.contracts.models import Agreement, BudgetLine, Cooperation
from procurement.contracts.rules import quarters
from procurement.contracts.states import BudgetCategory
from procurement.core import clock
from procurement.core.numbers import format_percent, percent_number
from procurement.core.pages import paginate, perform
from procurement.core.permissions import allow, require
from procurement.documents.excel import attachment, streamed_xlsx_response
from procurement.documents.pdf import pdf_response
from procurement.extensions import db
from procurement.disbursements import ledger_export, overview, services, spending
from procurement.disbursements.forms import (PayForm, ReleaseForm, ReverseForm, RuleForm,
                                             spending_form)
from procurement.disbursements.models import Account, Instalment, Movement
from procurement.disbursements.permissions import (can_view_account, can_view_disbursements,
                                                   visible_account_condition)
from procurement.disbursements.states import InstalmentState as S, MovementKind
from procurement.disbursements.voucher import (load_movement, quarter_of, voucher_context,
                                               voucher_filename)
from procurement.tasks.permissions import visible_agreements

bp = Blueprint("disbursements", __name__, url_prefix="/disbursements")

AGENCY, COMMITTEE, AUDITOR = Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.AUDITOR
MANAGER, FINANCE, LEADER = Role.CONTRACT_MANAGER, Role.FINANCE_OFFICER, Role.LEADER
READERS = (AGENCY, COMMITTEE, MANAGER, FINANCE, LEADER)
APPROVERS = (FINANCE, LEADER)


def load_agreement(agreement_id: int) -> Agreement:
    # With its cooperation and agency, which the permission check and every page read.
    agreement = db.session.scalar(sa.select(Agreement).where(Agreement.id == agreement_id).options(
        joinedload(Agreement.cooperation).joinedload(Cooperation.agency)))
    if agreement is None:
        abort(404)
    require(can_view_disbursements(current_user, agreement))
    return agreement


def load_instalment(instalment_id: int) -> Instalment:
    instalment = db.session.scalar(
        sa.select(Instalment).where(Instalment.id == instalment_id).options(
            joinedload(Instalment.requested_by), joinedload(Instalment.approved_by),
            joinedload(Instalment.account).options(
                joinedload(Account.community), joinedload(Account.special),
                joinedload(Account.agreement).joinedload(Agreement.cooperation))))
    if instalment is None:
        abort(404)
    require(can_view_account(current_user, instalment.account))
    return instalment


def load_payment(movement_id: int) -> Movement:
    movement = load_movement(movement_id)
    if movement is None:
        abort(404)
    require(can_view_account(current_user, movement.instalment.account))
    return movement


def _is_office(user, agreement: Agreement, *roles) -> bool:
    """Staff of the agreement's street office holding one of the roles: whom a step form
    is shown to. The service decides again on POST."""
    return user.has_role(*roles) and user.org_id == agreement.cooperation.street_office_id


# --- the list ------------------------------------------------------------------------------


@bp.route("/")
@allow(*READERS, read_only=[AUDITOR])
def index():
    query = (visible_agreements(current_user)
             .where(Agreement.id.in_(sa.select(Account.agreement_id)
                                     .where(visible_account_condition(current_user))))
             .options(joinedload(Agreement.cooperation).joinedload(Cooperation.agency))
             .order_by(Agreement.start_date.desc(), Agreement.id.desc()))
    page = paginate(query)
    return render_template("disbursements/index.html", page=page,
                           totals=overview.totals(current_user, [a.id for a in page.items]))


@bp.route("/export.xlsx")
@allow(*READERS, read_only=[AUDITOR])
def export_all():
    """Every instalment the user reads across agreements (the list's scoping), streamed."""
    filename = f"拨付台账_{clock.today():%Y%m%d}.xlsx"
    return streamed_xlsx_response(filename, _("拨付台账"), ledger_export.headers(),
                                  ledger_export.rows(current_user))


# --- the agreement's ledger ----------------------------------------------------------------


def _spending_form(agreement: Agreement, posted: bool = False):
    """The agency's spending report form, for its own agreement only."""
    cooperation = agreement.cooperation
    if not (current_user.has_role(AGENCY) and current_user.org_id == cooperation.agency_id):
        return None
    today = clock.today()
    started = [q for q in quarters(agreement.start_date, agreement.end_date) if q.start <= today]
    if not started:
        return None
    used = set(db.session.scalars(sa.select(BudgetLine.category).where(
        BudgetLine.agreement_id == agreement.id)))
    categories = [c for c in BudgetCategory if c in used] or list(BudgetCategory)
    form = spending_form(categories, [row.community for row in agreement.communities], started,
                         posted=posted)
    if not posted:
        ended = [q for q in started if q.end < today]
        form.quarter.data = (ended or started)[-1].number
    return form


def _rule_form(agreement: Agreement):
    if not _is_office(current_user, agreement, MANAGER):
        return None
    shares = services.shares_of(agreement)
    form = RuleForm(formdata=None)
    for grade, field in form.fields_by_grade().items():
        field.data = percent_number(shares[grade])
    return form


def render_ledger(agreement: Agreement, rule_form=None, spending=None):
    books, movements = overview.books_and_movements(current_user, agreement)
    shares = services.shares_of(agreement)
    rule_locked = db.session.scalar(
        sa.select(sa.func.count()).select_from(Instalment).join(Account)
        .where(Account.agreement_id == agreement.id, Instalment.state != S.SCHEDULED)) > 0
    totals = {"scheduled": sum(b.scheduled for b in books), "paid": sum(b.paid for b in books),
              "withheld": sum(b.withheld for b in books),
              "remaining": sum(b.remaining for b in books),
              "outstanding": sum(r.outstanding for b in books for r in b.rows)}
    return render_template(
        "disbursements/agreement.html", agreement=agreement, books=books, totals=totals,
        reconciles=all(b.reconciles() for b in books), movements=movements,
        blocks=overview.blocks(books, clock.today()),
        chart=overview.progress_chart(books, movements, clock.today()), shares=shares,
        rule_locked=rule_locked, rule_form=rule_form or _rule_form(agreement),
        spending_form=spending or _spending_form(agreement),
        execution=overview.execution(agreement, books),
        quarters=quarters(agreement.start_date, agreement.end_date), quarter_of=quarter_of,
        percent=format_percent)


@bp.route("/<int:agreement_id>")
@allow(*READERS, read_only=[AUDITOR])
def agreement(agreement_id: int):
    return render_ledger(load_agreement(agreement_id))


@bp.route("/<int:agreement_id>/rule", methods=["POST"])
@allow(MANAGER)
def set_rule(agreement_id: int):
    agreement = load_agreement(agreement_id)
    form = RuleForm()
    if form.validate_on_submit():
        shares = {grade: field.data / 100 for grade, field in form.fields_by_grade().items()}
        if perform(lambda: services.set_rule(current_user, agreement, shares),
                   _("已保存拨付规则。"), form):
            return redirect(url_for("disbursements.agreement", agreement_id=agreement.id,
                                    _anchor="rule"))
    return render_ledger(agreement, rule_form=form)


@bp.route("/<int:agreement_id>/spending", methods=["POST"])
@allow(AGENCY)
def report_spending(agreement_id: int):
    agreement = load_agreement(agreement_id)
    form = _spending_form(agreement, posted=True)
    require(form is not None)
    if form.validate_on_submit():
        community = next(r.community for r in agreement.communities
                         if r.community_id == form.community.data)
        if perform(lambda: spending.report(current_user, agreement, community,
                                           form.quarter.data, form.amounts(), form.note.data),
                   _("已报告经费使用情况。"), form):
            return redirect(url_for("disbursements.agreement", agreement_id=agreement.id,
                                    _anchor="execution"))
    return render_ledger(agreement, spending=form)


# --- the Excel export ----------------------------------------------------------------------


@bp.route("/<int:agreement_id>/export.xlsx")
@allow(*READERS, read_only=[AUDITOR])
def export(agreement_id: int):
    """Two sheets: every instalment with its figures, and every movement of money."""
    agreement = load_agreement(agreement_id)
    books, movements = overview.books_and_movements(current_user, agreement)
    data = overview.workbook(books, movements)
    filename = f"拨付台账_{agreement.number}_{clock.today():%Y%m%d}.xlsx"
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument"
                                   ".spreadsheetml.sheet",
                    headers={"Content-Disposition": attachment(filename)})


# --- the instalment page -------------------------------------------------------------------


def history(instalment: Instalment) -> list[AuditEntry]:
    """Every step of the instalment, who took it and when, from the audit trail."""
    return list(db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.object_type == Instalment.__tablename__,
                                    AuditEntry.object_id == str(instalment.id),
                                    AuditEntry.action.like("disbursement.%"))
        .order_by(AuditEntry.seq)))


def available_actions(instalment: Instalment) -> set[str]:
    """Which step forms to show this user now; the service decides again on POST."""
    agreement, user, state = instalment.account.agreement, current_user, instalment.state
    actions = set()
    if state is S.SCHEDULED and _is_office(user, agreement, MANAGER):
        actions.add("request")
    if state is S.REQUESTED and _is_office(user, agreement, *APPROVERS) \
            and user.id != instalment.requested_by_id:
        actions.add("approve")
    if state is S.APPROVED and _is_office(user, agreement, FINANCE):
        actions.add("pay")
    if state in (S.PAID, S.WITHHELD) and instalment.withheld_fen > 0 \
            and _is_office(user, agreement, *APPROVERS):
        actions.add("release")
    return actions


def render_instalment(instalment: Instalment, pay=None, release=None, reverse=None):
    agreement = instalment.account.agreement
    actions = available_actions(instalment)
    movements = list(db.session.scalars(
        sa.select(Movement).where(Movement.instalment_id == instalment.id)
        .options(joinedload(Movement.recorded_by)).order_by(Movement.id)))
    reversible = {m.id for m in movements
                  if m.kind is not MovementKind.REVERSAL and not m.reversed}
    reverse_forms = {}
    if _is_office(current_user, agreement, FINANCE):
        reverse_forms = {m_id: ReverseForm(formdata=None, prefix=f"m{m_id}")
                         for m_id in reversible}
        if reverse is not None:
            reverse_forms[reverse[0]] = reverse[1]
    if "pay" in actions and pay is None:
        pay = PayForm(formdata=None, data={"amount": instalment.payable_fen,
                                           "paid_on": clock.today()})
    if "release" in actions and release is None:
        release = ReleaseForm(formdata=None, data={"amount": instalment.withheld_fen,
                                                   "paid_on": clock.today()})
    block = (overview.block_of(instalment, clock.today())
             if instalment.state is S.SCHEDULED else None)
    paid = sum(m.amount_fen for m in movements)
    return render_template(
        "disbursements/instalment.html", instalment=instalment, agreement=agreement,
        account=instalment.account, label=services.label(instalment),
        quarter=quarter_of(instalment), movements=movements, paid=paid, steps=history(instalment),
        actions=actions, block=block, confirm=ConfirmForm(), pay=pay, release=release,
        reverse_forms=reverse_forms, percent=format_percent,
        requester_may_not_approve=(instalment.state is S.REQUESTED
                                   and current_user.id == instalment.requested_by_id))


@bp.route("/instalments/<int:instalment_id>")
@allow(*READERS, read_only=[AUDITOR])
def instalment(instalment_id: int):
    return render_instalment(load_instalment(instalment_id))


def _step(instalment_id: int, form_class, name: str, operation, done: str):
    """Load and check, validate the step's form and run the service through perform; back
    to the instalment page on success, the page with the message otherwise."""
    instalment = load_instalment(instalment_id)
    form = form_class()
    if form.validate_on_submit() and perform(lambda: operation(instalment, form), done, form):
        return redirect(url_for("disbursements.instalment", instalment_id=instalment.id))
    instalment = load_instalment(instalment_id)  # after a rollback: what the database holds
    return render_instalment(instalment, **({name: form} if name in ("pay", "release") else {}))


@bp.route("/instalments/<int:instalment_id>/request", methods=["POST"])
@allow(MANAGER)
def request_payment(instalment_id: int):
    return _step(instalment_id, ConfirmForm, "request",
                 lambda i, form: services.request(current_user, i), _("已申请拨付。"))


@bp.route("/instalments/<int:instalment_id>/approve", methods=["POST"])
@allow(*APPROVERS)
def approve(instalment_id: int):
    return _step(instalment_id, ConfirmForm, "approve",
                 lambda i, form: services.approve(current_user, i), _("已审批拨付。"))


@bp.route("/instalments/<int:instalment_id>/pay", methods=["POST"])
@allow(FINANCE)
def pay(instalment_id: int):
    return _step(instalment_id, PayForm, "pay",
                 lambda i, form: services.pay(current_user, i, paid_on=form.paid_on.data,
                                              voucher_no=form.voucher_no.data,
                                              amount_fen=form.amount.data,
                                              reason=form.reason.data),
                 _("已登记拨付。"))


@bp.route("/instalments/<int:instalment_id>/release", methods=["POST"])
@allow(*APPROVERS)
def release(instalment_id: int):
    return _step(instalment_id, ReleaseForm, "release",
                 lambda i, form: services.release(current_user, i, amount_fen=form.amount.data,
                                                  paid_on=form.paid_on.data,
                                                  voucher_no=form.voucher_no.data,
                                                  reason=form.reason.data),
                 _("已补拨暂扣款。"))


@bp.route("/movements/<int:movement_id>/reverse", methods=["POST"])
@allow(FINANCE)
def reverse(movement_id: int):
    movement = load_payment(movement_id)
    instalment_id = movement.instalment_id
    form = ReverseForm(prefix=f"m{movement.id}")
    if form.validate_on_submit() and perform(
            lambda: services.reverse(current_user, movement, reason=form.reason.data),
            _("已冲正，原拨付记录保留。"), form):
        return redirect(url_for("disbursements.instalment", instalment_id=instalment_id))
    return render_instalment(load_instalment(instalment_id), reverse=(movement_id, form))


# --- the payment voucher -------------------------------------------------------------------


@bp.route("/movements/<int:movement_id>/voucher.pdf")
@allow(*READERS, read_only=[AUDITOR])
def voucher(movement_id: int):
    movement = load_payment(movement_id)
    if movement.kind is MovementKind.REVERSAL:
        abort(404)
    return pdf_response("pdf/payment_voucher.html", voucher_filename(movement),
                        **voucher_context(movement))
