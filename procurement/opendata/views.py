"""The open-data API (公开数据接口): OCDS 1.1 release packages, public like the notices they
mirror. Bad input gets a JSON error, never a page or a 500."""
import unicodedata

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import gettext as _

from procurement.core.permissions import public
from procurement.extensions import db
from procurement.opendata import ocds
from procurement.tenders.models import Tender

bp = Blueprint("opendata", __name__, url_prefix="/api/v1/ocds")

MAX_PAGE = 10**6


def _error(code: int, message: str):
    return jsonify(error={"code": code, "message": message}), code


def _page() -> int | None:
    """?page= as a positive whole number (full-width digits accepted), None if it is not."""
    raw = unicodedata.normalize("NFKC", request.args.get("page", "1")).strip()
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        return None
    return int(raw)


@bp.route("/releases")
@public
def releases():
    page = _page()
    if page is None:
        return _error(400, _("页码应为 1 至 %(max)s 之间的整数。", max=MAX_PAGE))
    per_page = int(current_app.config.get("OCDS_PAGE_SIZE", 100))
    query = ocds.published_tenders()
    ocid = request.args.get("ocid", "").strip()
    args = {}
    if ocid:
        number = ocid.removeprefix(ocds.prefix() + "-")
        if number == ocid:
            return _error(404, _("没有该编号的开放数据。"))
        query = query.where(Tender.number == number)
        args["ocid"] = ocid
    rows = db.session.scalars(query.limit(per_page + 1).offset((page - 1) * per_page)).all()
    if not rows:  # a release package holds at least one release (OCDS schema)
        return _error(404, _("没有该编号的开放数据。") if ocid else
                      _("没有这一页。") if page > 1 else _("目前还没有公开的采购项目。"))
    more = len(rows) > per_page
    result = ocds.package(
        rows[:per_page],
        uri=url_for("opendata.releases", page=page, _external=True, **args),
        policy_uri=url_for("opendata.policy", _external=True),
        next_uri=url_for("opendata.releases", page=page + 1, _external=True, **args)
        if more else None)
    return current_app.response_class(ocds.dumps(result), mimetype="application/json")


@bp.route("/policy")
@public
def policy():
    """The publication policy the packages point to: what is published and what never is."""
    return jsonify(policy={
        "standard": "OCDS 1.1",
        "releases": url_for("opendata.releases", _external=True),
        "ocid_prefix": ocds.prefix(),
        "statements": [
            _("每个已发布公告的采购项目为一个开放数据记录（ocid = 前缀-项目编号），包含其招标、中标、生效协议及变更和拨付情况的最新状态。"),
            _("开标前不公开任何投标信息；开标后仅公开投标人名称；中标后公开中标人和中标金额，与中标公告一致。"),
            _("只公开各方签署生效的协议、变更和专项协议，草稿和签署中的文件不公开。"),
            _("拨付按实际支付记录公开；已冲正的拨付及其冲正记录均不列出，合计即实际支付金额。"),
            _("金额单位为人民币元（CNY），精确到分；时间为北京时间（UTC+8）。"),
        ],
    })
