"""The OpenAPI document, assembled from the code: each API view carries an `@operation(...)`
with its summary, query parameters and response schema, and `document()` walks the URL map.
Nothing is written beside the code, so a route cannot be missing from the document."""
import re
from collections.abc import Callable

from flask import Flask

API_PREFIX = "/api/v1"


# --- schema shorthands -------------------------------------------------------------------

def string(fmt: str | None = None, nullable: bool = False, **extra) -> dict:
    schema = {"type": "string", **extra}
    if fmt:
        schema["format"] = fmt
    if nullable:
        schema["nullable"] = True
    return schema


def integer(nullable: bool = False, **extra) -> dict:
    return {"type": "integer", **({"nullable": True} if nullable else {}), **extra}


def number(nullable: bool = False) -> dict:
    return {"type": "number", **({"nullable": True} if nullable else {})}


def boolean(nullable: bool = False) -> dict:
    return {"type": "boolean", **({"nullable": True} if nullable else {})}


def obj(nullable: bool = False, **properties) -> dict:
    schema = {"type": "object", "properties": properties}
    if nullable:
        schema["nullable"] = True
    return schema


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


MONEY = string(description="金额（元），两位小数的字符串", pattern=r"^-?\d+\.\d{2}$")
MONEY_OR_NULL = {**MONEY, "nullable": True}

COMPONENTS = {
    "Error": obj(error=obj(code=string(description="稳定的错误代码，如 not_found"),
                           message=string(description="中文说明"),
                           field=string(nullable=True, description="出错的参数名"))),
    "Links": obj(self=string(), next=string(nullable=True), prev=string(nullable=True)),
    "Meta": obj(page=integer(), per_page=integer(), total=integer()),
}


def page_of(item: dict) -> dict:
    return obj(data=array(item), meta=ref("Meta"), links=ref("Links"))


# --- query parameters --------------------------------------------------------------------

def param(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


PAGE = param("page", "页码，从 1 开始", integer(minimum=1))
PER_PAGE = param("per_page", "每页条数，最多 100", integer(minimum=1, maximum=100))
UPDATED_SINCE = param("updated_since", "只返回此时间之后修改的记录（ISO 8601；无时区时按北京时间）",
                      string("date-time"))
COMMUNITY = param("community_id", "只返回涉及该社区的记录", integer(minimum=1))
YEAR = param("year", "只返回与该年度（公历）重叠的记录", integer(minimum=2000, maximum=2100))
PAGINATED = (PAGE, PER_PAGE)


# --- the registry ------------------------------------------------------------------------

def operation(summary: str, response: dict, *, tag: str, params=(), description: str = "",
              conditional: bool = True, body=None, status: int = 200,
              media_type: str = "application/json") -> Callable:
    """Describe an API view; `document()` reads it back from the view function. A write
    names its body's fields (procurement.api.body) and its success status."""
    def decorator(view: Callable) -> Callable:
        view.openapi = {"summary": summary, "response": response, "tag": tag,
                        "params": list(params), "description": description,
                        "conditional": conditional and body is None, "body": body,
                        "status": status, "media_type": media_type}
        return view

    return decorator


_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
ERROR_STATUSES = {"400": "参数有误", "401": "缺少或无效的令牌", "403": "没有权限",
                  "404": "不存在", "429": "请求过于频繁"}
# A write may also be refused by the service (409: the state or a rule forbids it; 422: a
# field's value), or sent as something other than JSON (415).
WRITE_STATUSES = {"409": "业务规则不允许（如状态不对）", "413": "请求内容过大",
                  "415": "请求内容不是 JSON", "422": "字段取值有误（field 指出字段）"}


def _path_and_params(rule) -> tuple[str, list[dict]]:
    params = []

    def replace(match):
        converter, name = match.group(1) or "string", match.group(2)
        schema = integer(minimum=1, maximum=2**31 - 1) if converter == "int" else string()
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    return _CONVERTER.sub(replace, rule.rule), params


def api_rules(app: Flask):
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")]


def document(app: Flask) -> dict:
    from procurement.core.permissions import rules_of

    paths: dict[str, dict] = {}
    access = rules_of(app)
    for rule in sorted(api_rules(app), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        meta = getattr(view, "openapi", None)
        if meta is None:
            continue  # the test on the document names such a route
        path, path_params = _path_and_params(rule)
        responses = {str(meta["status"]): {
            "description": "已创建" if meta["status"] == 201 else "成功",
            "content": {meta["media_type"]: {"schema": meta["response"]}}}}
        if meta["conditional"]:
            responses["304"] = {"description": "未修改（If-None-Match 与 ETag 相同）"}
        errors = dict(ERROR_STATUSES, **(WRITE_STATUSES if meta["body"] is not None else {}))
        for status, text in errors.items():
            responses[status] = {"description": text, "content": {
                "application/json": {"schema": ref("Error")}}}
        rule_of = access.get(rule.endpoint)
        op = {"operationId": rule.endpoint.removeprefix("api."), "summary": meta["summary"],
              "tags": [meta["tag"]], "parameters": path_params + meta["params"],
              "responses": responses}
        description = meta["description"]
        if rule_of is not None:
            description = (description + "\n\n" if description else "") + \
                f"可使用的角色：{rule_of.describe()}"
        op["description"] = description
        if meta["body"] is not None:
            from procurement.api.body import schema_of

            op["requestBody"] = {"required": bool(meta["body"]), "content": {
                "application/json": {"schema": schema_of(meta["body"])}}}
        if rule_of is not None and rule_of.public:
            op["security"] = []
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "政府购买服务管理平台 API", "version": "1",
                 "description": "读取与写入接口（写入与页面调用同一业务服务，规则相同）。认证：在个人账号页面或用 `flask users token create` "
                                "创建令牌，请求时加上 `Authorization: Bearer <令牌>`。"
                                "权限与机构范围和页面相同。"},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": COMPONENTS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    }
