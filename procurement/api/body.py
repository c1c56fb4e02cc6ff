"""JSON request bodies of the API's write operations: each operation names its fields once,
and the same list gives the OpenAPI request schema and reads the body. Reading only checks
shapes (types, lengths, dates, ids that exist); every business rule is the service's, so a
rule that holds on a page holds here.

A refused body changes nothing: the view has not called the service yet."""
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import request

from procurement.api import MAX_ID, ApiError
from procurement.api import spec as s
from procurement.core.money import MoneyError, parse_money, to_fen
from procurement.extensions import db


def invalid(name: str, message: str) -> ApiError:
    return ApiError(422, message, "invalid", name)


@dataclass
class Field:
    name: str
    label: str
    schema: dict
    parse: Callable  # (field, JSON value) -> Python value; raises ApiError
    required: bool = False

    def read(self, value):
        return self.parse(self, value)


# --- field kinds ---------------------------------------------------------------------------

def _text(limit: int):
    def parse(f: Field, value):
        if not isinstance(value, str):
            raise invalid(f.name, f"{f.label}应为文字。")
        if len(value) > limit:
            raise invalid(f.name, f"{f.label}最多 {limit} 个字。")
        if "\x00" in value:
            raise invalid(f.name, f"{f.label}含有不能保存的控制字符。")
        return value
    return parse


def text(name: str, label: str, limit: int, required: bool = False,
         description: str = "") -> Field:
    return Field(name, label, s.string(maxLength=limit, description=description or label),
                 _text(limit), required)


def count(name: str, label: str, minimum: int = 0, maximum: int = 1_000_000,
          required: bool = False) -> Field:
    def parse(f: Field, value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(f.name, f"{f.label}应为整数。")
        if not minimum <= value <= maximum:
            raise invalid(f.name, f"{f.label}应在 {minimum} 到 {maximum} 之间。")
        return value
    return Field(name, label, s.integer(minimum=minimum, maximum=maximum, description=label),
                 parse, required)


def day(name: str, label: str, required: bool = False) -> Field:
    """A date as YYYY-MM-DD (full-width digits accepted, as on the pages)."""
    def parse(f: Field, value):
        if not isinstance(value, str):
            raise invalid(f.name, f"{f.label}应为日期字符串，例如 2026-03-31。")
        try:
            return date.fromisoformat(unicodedata.normalize("NFKC", value).strip())
        except ValueError:
            raise invalid(f.name, f"{f.label}不是有效日期，格式为 2026-03-31。") from None
    return Field(name, label, s.string("date", description=label), parse, required)


def choice(name: str, label: str, enum_cls, required: bool = False, allowed=None) -> Field:
    members = list(allowed or enum_cls)
    values = [m.value for m in members]

    def parse(f: Field, value):
        if not isinstance(value, str) or value not in values:
            raise invalid(f.name, f"{f.label}的取值只能是：{'、'.join(values)}。")
        return enum_cls(value)
    return Field(name, label, s.string(enum=values, description=label), parse, required)


def flag(name: str, label: str, required: bool = False) -> Field:
    def parse(f: Field, value):
        if not isinstance(value, bool):
            raise invalid(f.name, f"{f.label}应为 true 或 false。")
        return value
    return Field(name, label, s.boolean(), parse, required)


def _id(f: Field, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise invalid(f.name, f"{f.label}应为有效的编号（正整数）。")
    return value


def ref(name: str, label: str, model, required: bool = False) -> Field:
    """The id of a row, read as the row; an unknown id is the field's error."""
    def parse(f: Field, value):
        row = db.session.get(model, _id(f, value))
        if row is None:
            raise invalid(f.name, f"{f.label}不存在。")
        return row
    return Field(name, label, s.integer(minimum=1, maximum=MAX_ID, description=f"{label}的编号"),
                 parse, required)


def ids(name: str, label: str, max_items: int, required: bool = False) -> Field:
    def parse(f: Field, value):
        if not isinstance(value, list):
            raise invalid(f.name, f"{f.label}应为编号的数组。")
        if len(value) > max_items:
            raise invalid(f.name, f"{f.label}一次最多 {max_items} 个。")
        return [_id(f, item) for item in value]
    schema = {**s.array(s.integer(minimum=1, maximum=MAX_ID)), "maxItems": max_items,
              "description": label}
    return Field(name, label, schema, parse, required)


def money(name: str, label: str, required: bool = False) -> Field:
    """An amount in yuan as a string ("12345.60"; as on the pages, 万 and full-width digits
    are understood), read as integer fen. Never a JSON number: no float near money."""
    def parse(f: Field, value):
        if not isinstance(value, str):
            raise invalid(f.name, f"{f.label}应为字符串形式的金额，例如 \"12345.60\"。")
        try:
            return to_fen(parse_money(value))
        except MoneyError as exc:
            raise invalid(f.name, f"{f.label}：{exc}") from None
    schema = s.string(description=f"{label}（元，字符串，如 12345.60）",
                      pattern=r"^\d{1,12}(\.\d{1,2})?$")
    return Field(name, label, schema, parse, required)


def scores(name: str = "scores", label: str = "各指标得分") -> Field:
    """[{"indicator_id": 1, "score": "8.5" | null}]: null (or absent) is "not scored yet"."""
    item = s.obj(indicator_id=s.integer(minimum=1, maximum=MAX_ID),
                 score=s.string(nullable=True, pattern=r"^\d{1,3}(\.\d)?$",
                                description="得分，最多一位小数；null 表示未评"))
    item["required"] = ["indicator_id"]
    item["additionalProperties"] = False

    def parse(f: Field, value):
        if not isinstance(value, list) or len(value) > 500:
            raise invalid(f.name, f"{f.label}应为数组（每项含 indicator_id 和 score）。")
        found: dict[int, object] = {}
        for entry in value:
            if not isinstance(entry, dict) or set(entry) - {"indicator_id", "score"}:
                raise invalid(f.name, f"{f.label}的每一项只能含 indicator_id 和 score。")
            indicator = _id(f, entry.get("indicator_id"))
            score = entry.get("score")
            if isinstance(score, bool) or not isinstance(score, (str, int, type(None))):
                raise invalid(f.name, f"{f.label}的得分应为字符串（如 \"8.5\"）或 null。")
            if indicator in found:
                raise invalid(f.name, f"指标 {indicator} 出现了两次。")
            found[indicator] = None if score is None else str(score)
        return found
    return Field(name, label, {**s.array(item), "maxItems": 500, "description": label}, parse)


# --- the body ------------------------------------------------------------------------------

def schema_of(fields) -> dict:
    schema = {"type": "object", "properties": {f.name: f.schema for f in fields},
              "additionalProperties": False}
    required = [f.name for f in fields if f.required]
    if required:
        schema["required"] = required
    return schema


def read(fields) -> dict:
    """The request's JSON object as {name: value} for the fields it holds (null is None);
    a missing required field, an unknown one or a value of the wrong shape is a 4xx naming
    the field."""
    if not request.is_json:
        raise ApiError(415, "请求内容必须是 JSON（Content-Type: application/json）。",
                       "unsupported_media_type")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "请求内容必须是一个 JSON 对象。", "bad_request")
    known = {f.name: f for f in fields}
    for name in data:
        if name not in known:
            raise ApiError(400, f"不认识的字段：{str(name)[:60]}。", "unknown_field", str(name)[:60])
    values = {}
    for f in fields:
        if f.name not in data or data[f.name] is None:
            if f.required:
                raise invalid(f.name, f"请填写{f.label}。")
            if f.name in data:
                values[f.name] = None
            continue
        values[f.name] = f.read(data[f.name])
    return values

