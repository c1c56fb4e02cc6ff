from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from procurement.accounts.roles import ROLE_DUTIES
from procurement.core.pages import safe_next
from procurement.core.permissions import authenticated, public
from procurement.home import providers  # noqa: F401  (registers the foundation's to-dos)
from procurement.tenders import todos as tender_todos  # noqa: F401  (registers the tender to-dos)
from procurement.contracts import todos as contract_todos  # noqa: F401  (registers the contract to-dos)
from procurement.tasks import todos as task_todos  # noqa: F401  (registers the grid-work to-dos)
from procurement.tasks import team_todos  # noqa: F401  (registers the team to-dos)
from procurement.evaluations import todos as evaluation_todos  # noqa: F401  (registers the score-sheet to-dos)
from procurement.disbursements import todos as disbursement_todos  # noqa: F401  (registers the payment to-dos)
from procurement.home.todos import todos_for

bp = Blueprint("home", __name__)


@bp.route("/")
@authenticated
def index():
    roles = sorted(current_user.roles)
    return render_template("home/index.html", todos=todos_for(current_user), roles=roles,
                           duties=ROLE_DUTIES)


@bp.route("/lang/<code>")
@public
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.referrer and _path_of(request.referrer), url_for("home.index")))


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")


@bp.route("/healthz")
@public
def healthz():
    """A bare endpoint for load balancers and the benchmarks' baseline."""
    return jsonify(status="ok")
