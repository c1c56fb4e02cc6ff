"""The OpenAPI document and its browsable page (rendered on the server: no scripts)."""
from flask import current_app, jsonify, render_template

from procurement.api import bp
from procurement.api import spec as s
from procurement.core.permissions import public


@bp.route("/openapi.json")
@public
@s.operation("本接口的 OpenAPI 文档", s.obj(), tag="文档", conditional=False)
def openapi():
    return jsonify(s.document(current_app))


@bp.route("/docs")
@public
@s.operation("接口说明页面（HTML）", s.string(), tag="文档", conditional=False,
             media_type="text/html")
def docs():
    return render_template("api/docs.html", doc=s.document(current_app))
