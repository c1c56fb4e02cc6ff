"""Residents' satisfaction surveys: the street office's pages (tokens, QR sheet, results) and the residents' public answer page."""
import segno
import sqlalchemy as sa
from flask import (Blueprint, current_app, get_flashed_messages, redirect, render_template,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from procurement.accounts.forms import ConfirmForm
from procurement.accounts.roles import Role
from procurement.core import clock
from procurement.core.errors import DomainError
from procurement.core.forms import show_domain_error
from procurement.core.pages import paginate, perform
from procurement.core.permissions import allow, public, require
from procurement.documents.excel import xlsx_response
from procurement.documents.pdf import pdf_response
from procurement.evaluations import plan, surveys
from procurement.evaluations.models import EvaluationPeriod, Survey, SurveyResponse
from procurement.evaluations.survey_forms import AnswerForm, NewSurveyForm
from procurement.extensions import db, limiter
from procurement.orgs.models import Community

bp = Blueprint("surveys", __name__, url_prefix="/surveys")
public_bp = Blueprint("survey_public", __name__, url_prefix="/s")

MANAGERS = (Role.CONTRACT_MANAGER, Role.LEADER)
READERS = (*MANAGERS, Role.FINANCE_OFFICER, Role.AGENCY_STAFF, Role.COMMITTEE_STAFF,
           Role.UNIVERSITY_EVALUATOR)
QR_PER_PAGE = 12


def load(survey_id: int) -> Survey:
    survey = db.get_or_404(Survey, survey_id)
    require(surveys.can_view_survey(current_user, survey))
    return survey


# --- the street office's pages --------------------------------------------------------------


@bp.route("/")
@allow(*READERS, read_only=[Role.AUDITOR])
def index():
    query = (surveys.visible_surveys(current_user)
             .options(joinedload(Survey.community),
                      joinedload(Survey.period).joinedload(EvaluationPeriod.agreement))
             .order_by(Survey.closes_at.desc(), Survey.id.desc()))
    page = paginate(query)
    counts = dict(db.session.execute(
        sa.select(SurveyResponse.survey_id, sa.func.count(SurveyResponse.id))
        .where(SurveyResponse.survey_id.in_([s.id for s in page.items]))
        .group_by(SurveyResponse.survey_id)).all())
    return render_template("surveys/index.html", page=page, counts=counts, now=clock.now())


def _choices():
    """The periods and communities of the agreements this user runs surveys for. A period
    is named by agreement, kind and number (periods may not have rows yet)."""
    periods, communities = [], {}
    for agreement in surveys.manageable_agreements(current_user):
        for period in plan.periods(agreement):
            periods.append((f"{agreement.id}-{period.kind.value}-{period.number}",
                            f"{agreement.number} {period.label}"
                            f"（{period.start_date} 至 {period.end_date}）"))
        for row in agreement.communities:
            c = row.community
            communities[c.id] = _("%(name)s（%(households)s 户，建议至少 %(minimum)s 份）",
                                  name=c.name, households=c.households,
                                  minimum=surveys.recommended_minimum(c))
    return periods, sorted(communities.items(), key=lambda item: item[1])


def _period_of(key: str) -> EvaluationPeriod | None:
    agreement_id, _sep, rest = (key or "").partition("-")
    if not agreement_id.isdigit():
        return None
    agreement = next((a for a in surveys.manageable_agreements(current_user)
                      if a.id == int(agreement_id)), None)
    if agreement is None:
        return None
    return next((p for p in plan.periods(agreement)
                 if f"{p.kind.value}-{p.number}" == rest), None)


@bp.route("/new", methods=["GET", "POST"])
@allow(*MANAGERS)
def new():
    periods, communities = _choices()
    form = NewSurveyForm(periods, communities)
    if form.validate_on_submit():
        period = _period_of(form.period.data)
        community = db.session.get(Community, form.community.data)
        if period is None or community is None:
            show_domain_error(form, DomainError("选项无效，请从列表中选择。", field="period"))
        else:
            size = form.size.data or surveys.recommended_minimum(community)
            survey = perform(lambda: surveys.create(current_user, period, community, size=size,
                                                    closes_at=form.closes_at.data),
                             lambda s: _("已发起%(community)s%(period)s的满意度调查，共 %(size)s 个二维码。",
                                         community=s.community.name, period=s.period.label,
                                         size=s.size), form)
            if survey:
                return redirect(url_for("surveys.show", survey_id=survey.id))
    return render_template("surveys/new.html", form=form)


@bp.route("/<int:survey_id>")
@allow(*READERS, read_only=[Role.AUDITOR])
def show(survey_id: int):
    survey = load(survey_id)
    return render_template("surveys/show.html", survey=survey, results=surveys.results(survey),
                           is_open=surveys.is_open(survey),
                           manages=surveys.can_manage_survey(current_user, survey),
                           confirm=ConfirmForm(), choices=surveys.CHOICES)


@bp.route("/<int:survey_id>/close", methods=["POST"])
@allow(*MANAGERS)
def close(survey_id: int):
    survey = load(survey_id)
    require(surveys.can_manage_survey(current_user, survey))
    if ConfirmForm().validate_on_submit():
        perform(lambda: surveys.close(current_user, survey), _("满意度调查已结束。"))
    return redirect(url_for("surveys.show", survey_id=survey.id))


def public_url(token: str) -> str:
    """The link printed under a QR code: PUBLIC_BASE_URL when the site is reached under
    another name than the one staff use, else this request's host."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    path = url_for("survey_public.answer", token=token)
    return base.rstrip("/") + path if base else url_for("survey_public.answer", token=token,
                                                          _external=True)


@bp.route("/<int:survey_id>/qr.pdf")
@allow(*MANAGERS)
def qr_pdf(survey_id: int):
    """The sheet of QR codes to cut up and hand out: every token, used or not, so a
    reprint gives nothing away about which were answered."""
    survey = load(survey_id)
    require(surveys.can_manage_survey(current_user, survey))
    if not surveys.is_open(survey):
        return render_template("errors/error.html", code=409, title=_("操作未能完成"),
                               message=_("满意度调查已结束，不再打印二维码。")), 409
    codes = []
    for token in surveys.tokens_of(survey):
        url = public_url(token)
        codes.append({"url": url, "image": segno.make(url, error="m").png_data_uri(
            scale=5, border=2)})
    pages = [codes[i:i + QR_PER_PAGE] for i in range(0, len(codes), QR_PER_PAGE)]
    filename = f"{survey.community.name}{survey.period.label}满意度调查二维码.pdf"
    return pdf_response("pdf/survey_qr.html", filename, survey=survey, pages=pages)


@bp.route("/<int:survey_id>/responses.xlsx")
@allow(*READERS, read_only=[Role.AUDITOR])
def export(survey_id: int):
    """The anonymous responses: answers, score and comment, nothing else."""
    survey = load(survey_id)
    rows = db.session.execute(sa.select(SurveyResponse.answers, SurveyResponse.score,
                                        SurveyResponse.comment)
                              .where(SurveyResponse.survey_id == survey.id)
                              .order_by(SurveyResponse.id))
    headers = [_("序号"), *[str(q.label) for q in surveys.QUESTIONS], _("得分"), _("意见和建议")]
    title = f"{survey.community.name}{survey.period.label}满意度调查"
    return xlsx_response(title, headers, (
        [n, *[(answers or {}).get(q.key) for q in surveys.QUESTIONS], score, comment or ""]
        for n, (answers, score, comment) in enumerate(rows, start=1)))


# --- the residents' answer page (no login) --------------------------------------------------


def _answer_limit() -> str:
    return current_app.config.get("SURVEY_RATE_LIMIT", "30 per minute;300 per hour")


def _plain(template: str, status: int = 200, **context):
    response = current_app.make_response((render_template(template, **context), status))
    # The page carries the token and a CSRF token: keep it out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response


STATUS_OF = {"unknown": 404, "closed": 410, "used": 410}


def _refusal(state: str, survey: Survey | None):
    message = {"unknown": surveys.UNKNOWN, "closed": surveys.CLOSED, "used": surveys.USED}[state]
    return _plain("surveys/unavailable.html", STATUS_OF[state], message=message, survey=survey,
                  state=state)


@public_bp.route("/thanks")
@public
def thanks():
    return _plain("surveys/thanks.html")


@public_bp.route("/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_answer_limit, methods=["POST"])
def answer(token: str):
    survey, state = surveys.token_state(token)
    if state != "open":
        return _refusal(state, survey)
    form = AnswerForm()
    if form.validate_on_submit():
        answers = {q.key: form[q.key].data for q in surveys.QUESTIONS}
        done = perform(lambda: surveys.answer(token, answers, form.comment.data),
                       _("问卷已提交。"), form)
        if done is not None:
            return redirect(url_for("survey_public.thanks"))
        survey, state = surveys.token_state(token)
        if state != "open":  # spent or closed meanwhile: say so, not the form again
            get_flashed_messages()  # the page says it; do not show it twice
            return _refusal(state, survey)
    return _plain("surveys/answer.html", survey=survey, form=form,
                  questions=surveys.QUESTIONS)
