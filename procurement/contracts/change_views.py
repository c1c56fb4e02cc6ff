"""Pages for amendments (变更) to an agreement in force and for special-service agreements
(专项服务合作协议): propose or draft them, read them, sign the version on screen, cancel
them before they are in force. Routes on the `contracts` blueprint of `views.py`."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from procurement.accounts.roles import Role
from procurement.contracts import changes, signing
from procurement.contracts.change_forms import (CancelForm, SignForm, amendment_form,
                                                special_form)
from procurement.contracts.models import Agreement, Amendment, SpecialAgreement
from procurement.contracts.permissions import OFFICE_READERS, can_manage, can_sign, can_view
from procurement.contracts.states import EDITABLE, BudgetCategory, DocumentState
from procurement.contracts.views import bp
from procurement.core.pages import perform
from procurement.core.permissions import allow, require
from procurement.extensions import db

MANAGER = Role.CONTRACT_MANAGER
# Everyone else whom permissions.can_view may let in (which cooperation is its decision).
READERS = (*[r for r in OFFICE_READERS if r is not MANAGER], Role.AUDITOR,
           Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.UNIVERSITY_EVALUATOR)
# Who signs for a party; the service checks the organisation.
SIGNERS = tuple(dict.fromkeys(signing.SIGNING_ROLE.values()))


# --- loading, with the object-level checks -------------------------------------------------


def _agreement(agreement_id: int) -> Agreement:
    agreement = db.get_or_404(Agreement, agreement_id)
    require(can_manage(current_user, agreement.cooperation))
    return agreement


def _viewed(model, document_id: int):
    document = db.get_or_404(model, document_id)
    require(can_view(current_user, document.agreement.cooperation))
    return document


def _managed(model, document_id: int):
    document = db.get_or_404(model, document_id)
    require(can_manage(current_user, document.agreement.cooperation))
    return document


def _link(endpoint: str, **values) -> str | None:
    """A link to a page of the agreement side, if that page exists."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _agreement_links(agreement: Agreement) -> dict:
    return {"agreement_url": _link("contracts.agreement", agreement_id=agreement.id),
            "cooperation_url": _link("contracts.show",
                                     cooperation_id=agreement.cooperation_id)}


# --- the document pages (shared by both kinds) -------------------------------------------


def _signing_context(document) -> dict:
    """Signature status per party, who still has to sign, and the user's own part."""
    agreement = document.agreement
    by_org = {s.org_id: s for s in signing.signatures(document)}
    parties = [(party, by_org.get(party.org_id)) for party in agreement.parties]
    open_ = document.state in EDITABLE
    own_signed = current_user.org_id in by_org
    may_sign = open_ and not own_signed and can_sign(current_user, document)
    sign_form = (SignForm(formdata=None, data={"shown_hash": document.content_hash})
                 if may_sign else None)
    return {
        "document": document,
        "agreement": agreement,
        "cooperation": agreement.cooperation,
        "parties": parties,
        "missing": signing.missing_parties(document) if open_ else [],
        "own_signed": own_signed,
        "sign_form": sign_form,
        "manage": can_manage(current_user, agreement.cooperation),
        **_agreement_links(agreement),
    }


def _show(template: str, document, cancel_form=None, **extra):
    context = _signing_context(document)
    if context["manage"] and document.state in EDITABLE:
        context["cancel_form"] = cancel_form or CancelForm(formdata=None)
    return render_template(template, **context, **extra)


def _show_amendment(amendment: Amendment, cancel_form=None):
    return _show("contracts/changes/amendment.html", amendment, cancel_form)


def _show_special(special: SpecialAgreement, cancel_form=None):
    budget = [(category, special.budget.get(category.value, 0)) for category in BudgetCategory
              if special.budget.get(category.value)]
    return _show("contracts/changes/special.html", special, cancel_form, budget=budget)


def _sign(document, operation, page_endpoint: str, **page_args):
    """One click signs the version whose hash the page showed; a refusal is flashed."""
    form = SignForm()
    if form.validate_on_submit():
        perform(lambda: operation(current_user, document, form.shown_hash.data),
                lambda _s: (_("已签署。各方均已签署，文件已生效。")
                            if document.state is DocumentState.IN_FORCE
                            else _("已签署，等待其他各方签署。")))
    else:
        flash(_("页面已过期，请刷新后重新签署。"), "danger")
    return redirect(url_for(page_endpoint, **page_args))


def _cancel(document, done: str, show, page_url: str):
    """作废 with a reason; a refusal shows the page again with the message on the form."""
    form = CancelForm()
    if form.validate_on_submit() and perform(
            lambda: changes.cancel(current_user, document, form.reason.data) or document,
            done, form) is not None:
        return redirect(page_url)
    return show(document, cancel_form=form)


# --- amendments ----------------------------------------------------------------------------


@bp.route("/agreements/<int:agreement_id>/amendments/new", methods=["GET", "POST"])
@allow(MANAGER)
def new_amendment(agreement_id: int):
    agreement = _agreement(agreement_id)
    form = amendment_form(agreement)
    if form.validate_on_submit():
        amendment = perform(
            lambda: changes.propose_amendment(current_user, agreement, reason=form.reason.data,
                                              end_date=form.end_date.data,
                                              amounts=form.amounts(), budget=form.budget()),
            lambda a: _("第 %(n)s 号变更已提交，各方签署后生效。", n=a.number), form)
        if amendment is not None:
            return redirect(url_for("contracts.amendment", amendment_id=amendment.id))
    return render_template("contracts/changes/new_amendment.html", form=form,
                           agreement=agreement, cooperation=agreement.cooperation,
                           **_agreement_links(agreement))


@bp.route("/amendments/<int:amendment_id>")
@allow(MANAGER, read_only=READERS)
def amendment(amendment_id: int):
    return _show_amendment(_viewed(Amendment, amendment_id))


@bp.route("/amendments/<int:amendment_id>/sign", methods=["POST"])
@allow(*SIGNERS)
def sign_amendment(amendment_id: int):
    amendment = _viewed(Amendment, amendment_id)
    return _sign(amendment, changes.sign_amendment, "contracts.amendment",
                 amendment_id=amendment.id)


@bp.route("/amendments/<int:amendment_id>/cancel", methods=["POST"])
@allow(MANAGER)
def cancel_amendment(amendment_id: int):
    amendment = _managed(Amendment, amendment_id)
    return _cancel(amendment, _("变更已作废。"), _show_amendment,
                   url_for("contracts.amendment", amendment_id=amendment.id))


# --- special-service agreements ----------------------------------------------------------


@bp.route("/agreements/<int:agreement_id>/specials/new", methods=["GET", "POST"])
@allow(MANAGER)
def new_special(agreement_id: int):
    agreement = _agreement(agreement_id)
    form = special_form(agreement)
    if form.validate_on_submit():
        special = perform(
            lambda: changes.create_special(current_user, agreement, title=form.title.data,
                                           content=form.content.data, budget=form.budget(),
                                           start_date=form.start_date.data,
                                           end_date=form.end_date.data),
            lambda s: _("专项服务合作协议已起草，各方签署后生效。"), form)
        if special is not None:
            return redirect(url_for("contracts.special", special_id=special.id))
    return render_template("contracts/changes/new_special.html", form=form,
                           agreement=agreement, cooperation=agreement.cooperation,
                           **_agreement_links(agreement))


@bp.route("/specials/<int:special_id>")
@allow(MANAGER, read_only=READERS)
def special(special_id: int):
    return _show_special(_viewed(SpecialAgreement, special_id))


@bp.route("/specials/<int:special_id>/sign", methods=["POST"])
@allow(*SIGNERS)
def sign_special(special_id: int):
    special = _viewed(SpecialAgreement, special_id)
    return _sign(special, changes.sign_special, "contracts.special", special_id=special.id)


@bp.route("/specials/<int:special_id>/cancel", methods=["POST"])
@allow(MANAGER)
def cancel_special(special_id: int):
    special = _managed(SpecialAgreement, special_id)
    return _cancel(special, _("专项服务合作协议已作废。"), _show_special,
                   url_for("contracts.special", special_id=special.id))
