"""The annual agreement (年度协议): its page with parties, sub-contracts, money, evaluation
settings and signatures; the edit forms of a draft (any save after a signature makes a new
version and the signatures start over); signing the version on screen; the PDF. Routes are
registered on the `contracts` blueprint of `views.py`."""
from decimal import Decimal

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from procurement.accounts.forms import ConfirmForm
from procurement.contracts import services, signing
from procurement.contracts.forms import (BANDS, SignForm, duties_form, evaluation_form,
                                         sub_contracts_form, terms_form)
from procurement.contracts.models import Agreement, Signature
from procurement.contracts.permissions import can_manage, can_sign, can_view
from procurement.contracts.states import EDITABLE, DocumentState, EvaluationSource, Grade
from procurement.core.numbers import percent_number
from procurement.core.pages import perform
from procurement.core.permissions import allow, require
from procurement.extensions import db
from procurement.tasks.team_views import agreement_box
from procurement.contracts.views import (ENDED, MANAGER, READERS, SIGNERS, bp, gate_message,
                                         link, renewable, sign_deadline)


def load_agreement(agreement_id: int) -> Agreement:
    # With its cooperation, which the permission check and the page read.
    agreement = db.session.scalar(sa.select(Agreement).where(Agreement.id == agreement_id)
                                  .options(joinedload(Agreement.cooperation)))
    if agreement is None:
        abort(404)
    require(can_view(current_user, agreement.cooperation))
    return agreement


def editable(agreement: Agreement) -> bool:
    return agreement.state in EDITABLE and agreement.cooperation.state not in ENDED


# --- the agreement page --------------------------------------------------------------------


def signature_rows(agreement: Agreement) -> list[dict]:
    """Each party with its signature on the current version, if any."""
    signed = {s.org_id: s for s in signing.signatures(agreement)}
    return [{"party": p, "signature": signed.get(p.org_id)} for p in agreement.parties]


def earlier_signatures(agreement: Agreement) -> list[Signature]:
    """Signatures on earlier versions: they no longer count."""
    return list(db.session.scalars(sa.select(Signature).where(
        Signature.document_kind == agreement.kind, Signature.document_id == agreement.id,
        Signature.version < agreement.version).order_by(Signature.version, Signature.signed_at)))


def budget_tables(agreement: Agreement) -> list[dict]:
    tables = []
    for row in agreement.communities:
        lines = [line for line in agreement.budget_lines if line.community_id == row.community_id]
        total = sum(line.amount_fen for line in lines)
        tables.append({"community": row.community, "amount": row.amount_fen, "lines": lines,
                       "total": total, "balanced": total == row.amount_fen})
    return tables


def weight_rows(agreement: Agreement) -> list[tuple[str, str]]:
    weights = agreement.evaluation_weights or {}
    return [(source.label, percent_number(weights[source.value]))
            for source in EvaluationSource if source.value in weights]


def band_rows(agreement: Agreement) -> list[tuple[str, str]]:
    bands = agreement.grade_bands or {}
    rows = [(grade.label, _("%(score)s 分及以上", score=format(Decimal(str(bands[grade.value]))
                                                             .normalize(), "f")))
            for grade in BANDS if grade.value in bands]
    if Grade.PASS.value in bands:
        rows.append((Grade.FAIL.label, _("低于基本合格分数线")))
    return rows


def agreement_steps(agreement: Agreement, ctx: dict) -> list[str]:
    steps = []
    if agreement.state is DocumentState.CANCELLED:
        return [_("本协议已作废。")]
    if agreement.state is DocumentState.IN_FORCE:
        steps.append(_("协议已于各方签署后生效（第 %(v)s 版）。如需修改，请提出变更，经各方重新签署后"
                       "生效。", v=agreement.version))
        return steps if ctx["manage"] else []
    if not editable(agreement):
        return [_("合作已结束，本协议不能再签署。")]
    if ctx["manage"] and agreement.state is DocumentState.DRAFT:
        steps.append(_("核对金额与预算、子合同、各方职责和评估设置，确认无误后请各方签署。"))
    if ctx["gate"]:
        steps.append(ctx["gate"])
    elif ctx["missing"]:
        steps.append(_("尚待签署：%(who)s。各方均签署本版本后协议生效。",
                       who="、".join(o.name for o in ctx["missing"])))
    if ctx["sign_form"] is not None:
        steps.append(_("请完整阅读本页内容，确认后点击“签署本版本”代表%(org)s签署。",
                       org=current_user.org.name))
    deadline = ctx["deadline"]
    if deadline and deadline["warn"]:
        steps.append(_("签订期限 %(due)s 已过，请尽快完成签署。", due=deadline["due"].isoformat())
                     if deadline["passed"] else
                     _("距签订期限 %(due)s 只剩 %(left)s 天。", due=deadline["due"].isoformat(),
                       left=deadline["left"]))
    return steps


def agreement_context(agreement: Agreement) -> dict:
    cooperation = agreement.cooperation
    manage = can_manage(current_user, cooperation)
    missing = signing.missing_parties(agreement) if agreement.state in EDITABLE else []
    gate = gate_message(agreement)
    may_sign = (editable(agreement) and not gate and can_sign(current_user, agreement)
                and current_user.org_id in {o.id for o in missing})
    sign_form = None
    if may_sign:
        sign_form = SignForm()
        sign_form.shown_hash.data = agreement.content_hash
    ctx = dict(agreement=agreement, cooperation=cooperation, manage=manage,
               editable=manage and editable(agreement), signatures=signature_rows(agreement),
               earlier=earlier_signatures(agreement), budgets=budget_tables(agreement),
               weights=weight_rows(agreement), bands=band_rows(agreement),
               gate=gate, missing=missing, sign_form=sign_form,
               deadline=sign_deadline(agreement), confirm=ConfirmForm(),
               renew=manage and renewable(cooperation) is agreement,
               pdf=link("contracts.agreement_pdf", agreement_id=agreement.id),
               amendments=[(m, link("contracts.amendment", amendment_id=m.id,
                                    agreement_id=agreement.id, cooperation_id=cooperation.id))
                           for m in agreement.amendments])
    ctx["next_steps"] = agreement_steps(agreement, ctx)
    ctx["team"] = agreement_box(agreement)  # integration period and team gaps
    return ctx


@bp.route("/agreements/<int:agreement_id>")
@allow(MANAGER, read_only=READERS)
def agreement(agreement_id: int):
    agreement = load_agreement(agreement_id)
    return render_template("contracts/agreement.html", **agreement_context(agreement))


@bp.route("/agreements/<int:agreement_id>.pdf")
@allow(MANAGER, read_only=READERS)
def agreement_pdf(agreement_id: int):
    """The contract as signed (or as it stands), to print: parties, duties, sub-contracts,
    amounts in figures and 大写, budget table and signature blocks."""
    agreement = load_agreement(agreement_id)
    from procurement.contracts.document import contract_context
    from procurement.documents.pdf import pdf_response

    return pdf_response("pdf/contract.html", f"{agreement.number}.pdf",
                        **contract_context(agreement))


@bp.route("/agreements/<int:agreement_id>/sign", methods=["POST"])
@allow(*SIGNERS)
def sign(agreement_id: int):
    agreement = db.get_or_404(Agreement, agreement_id)
    require(can_sign(current_user, agreement), _("贵单位不是本协议的当事方，不能签署。"))
    form = SignForm()
    if form.validate_on_submit():
        perform(lambda: services.sign_agreement(current_user, agreement, form.shown_hash.data),
                lambda s: _("已代表%(org)s签署第 %(v)s 版。", org=s.org.name, v=s.version) + (
                    _("各方均已签署，协议已生效。") if agreement.state is DocumentState.IN_FORCE
                    else _("尚待：%(who)s。", who="、".join(
                        o.name for o in signing.missing_parties(agreement)))))
    else:
        flash(_("签署请求无效，请刷新页面后重试。"), "danger")
    return redirect(url_for("contracts.agreement", agreement_id=agreement.id))


# --- editing a draft -----------------------------------------------------------------------


def _edit(agreement_id: int, build, save, template: str, title: str):
    """Load, check, validate, save through the service, redirect; or show the form again."""
    agreement = db.get_or_404(Agreement, agreement_id)
    require(can_manage(current_user, agreement.cooperation))
    back = url_for("contracts.agreement", agreement_id=agreement.id)
    if not editable(agreement):
        flash(_("协议已生效或合作已结束，不能直接修改；生效后的修改请通过变更。"), "warning")
        return redirect(back)
    form = build(agreement)
    if form.validate_on_submit():
        version = agreement.version

        def done(result):
            if result.version != version:
                return _("已保存。原有签署已作废，协议现为第 %(v)s 版，需各方重新签署。",
                         v=result.version)
            return _("已保存。")

        if perform(lambda: save(agreement, form), done, form):
            return redirect(back)
    signed = signing.signatures(agreement)
    return render_template(template, form=form, agreement=agreement, title=title, back=back,
                           signed=signed)


@bp.route("/agreements/<int:agreement_id>/terms", methods=["GET", "POST"])
@allow(MANAGER)
def edit_terms(agreement_id: int):
    return _edit(agreement_id, terms_form, lambda a, f: services.update_terms(
        current_user, a, start_date=f.start_date.data, end_date=f.end_date.data,
        amounts=f.amounts(), budget=f.budget()),
        "contracts/edit_terms.html", _("期限、金额与预算"))


@bp.route("/agreements/<int:agreement_id>/sub-contracts", methods=["GET", "POST"])
@allow(MANAGER)
def edit_sub_contracts(agreement_id: int):
    return _edit(agreement_id, sub_contracts_form,
                 lambda a, f: services.update_sub_contracts(current_user, a, f.rows()),
                 "contracts/edit_sub_contracts.html", _("子合同"))


@bp.route("/agreements/<int:agreement_id>/duties", methods=["GET", "POST"])
@allow(MANAGER)
def edit_duties(agreement_id: int):
    return _edit(agreement_id, duties_form,
                 lambda a, f: services.update_duties(current_user, a, f.duties()),
                 "contracts/edit_duties.html", _("各方职责"))


@bp.route("/agreements/<int:agreement_id>/evaluation", methods=["GET", "POST"])
@allow(MANAGER)
def edit_evaluation(agreement_id: int):
    return _edit(agreement_id, evaluation_form,
                 lambda a, f: services.update_evaluation(current_user, a, weights=f.weights(),
                                                         bands=f.bands()),
                 "contracts/edit_evaluation.html", _("评估来源、权重与等级分数线"))
