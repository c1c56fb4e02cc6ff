"""The registers' workbooks: the columns of each register, the template and export
workbooks, and reading and checking an uploaded one row by row (procurement/tasks/
registers.py imports the result). Nothing here writes to the database."""
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from werkzeug.datastructures import FileStorage

from procurement.core.errors import DomainError
from procurement.documents import storage
from procurement.extensions import db
from procurement.orgs.models import Community, Grid
from procurement.tasks.models import Household, Premises
from procurement.tasks.states import PremisesKind

MAX_ROWS = 20_000
MAX_MEMBERS = 99
# An .xlsx is a zip: refuse one that would unpack to more than this (a "zip bomb").
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
FIELD = "file"  # the upload form's field, where a refusal of the whole file is shown
YES, NO = "是", "否"
PHONE = re.compile(r"[0-9+\-() /转,、]+")
# GB 32100-2015: 18 characters from digits and capital letters without I, O, S, V, Z.
CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")


@dataclass(frozen=True)
class Column:
    header: str
    required: bool
    help: str
    width: int = 12


@dataclass(frozen=True)
class Register:
    """One register's workbook: its data sheet title and columns."""
    key: str            # "households" / "premises" (the URL and the audit action)
    title: str          # the data sheet's name and the file name
    noun: str           # what one row is, for messages
    columns: tuple[Column, ...]

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]


GRID_HELP = "网格编号（1、2、3…）或网格名称（如“第一网格”），须为本社区已有的网格。"
FLAG_HELP = "填“是”或“否”，不是可留空。"
PHONE_HELP = "手机或固定电话，最多 30 个字符。"

HOUSEHOLDS = Register("households", "住户台账", "住户", (
    Column("网格", True, GRID_HELP, 10),
    Column("楼栋", True, "楼栋或门牌，如“3号楼”“灵水村27号”，最多 60 个字符。", 14),
    Column("房号", False, "如“201”；独门独户可留空。地址 = 楼栋 + 房号（如“3号楼201”），"
                         "同一社区内不能重复，再次导入时按地址更新。", 10),
    Column("户主姓名", True, "最多 40 个字符。", 12),
    Column("联系电话", False, PHONE_HELP, 16),
    Column("家庭人口", True, f"整数（0–{MAX_MEMBERS}），如 3；全角数字“３”也可以，不要写“3人”。", 10),
    Column("独居老人", False, FLAG_HELP, 10),
    Column("困难家庭", False, FLAG_HELP, 10),
    Column("流动人口", False, FLAG_HELP, 10),
    Column("社区矫正", False, FLAG_HELP, 10),
    Column("残疾人", False, FLAG_HELP, 10),
    Column("备注", False, "最多 500 个字符。", 30),
))

PREMISES = Register("premises", "企业与店铺台账", "企业或店铺", (
    Column("网格", True, GRID_HELP, 10),
    Column("类别", True, "填“企业”或“店铺”。企业每月、店铺每季度安全检查一次。", 8),
    Column("名称", True, "最多 100 个字符。", 24),
    Column("地址", True, "最多 120 个字符。同一社区内类别、名称、地址都相同的视为同一家，"
                       "再次导入时更新。", 24),
    Column("统一社会信用代码", False, "18 位数字或大写字母；没有可留空。", 22),
    Column("行业", False, "行业或经营范围，最多 60 个字符。", 14),
    Column("联系人", False, "最多 40 个字符。", 10),
    Column("联系电话", False, PHONE_HELP, 16),
))

REGISTERS = {r.key: r for r in (HOUSEHOLDS, PREMISES)}
KIND_NAMES = {PremisesKind.ENTERPRISE: "企业", PremisesKind.SHOP: "店铺"}
KIND_BY_NAME = {name: kind for kind, name in KIND_NAMES.items()}
FLAG_COLUMNS = dict(zip(Household.VULNERABLE_FLAGS, ("独居老人", "困难家庭", "流动人口", "社区矫正",
                                                     "残疾人")))
HOUSEHOLD_FIELDS = ("grid_id", "building", "head_name", "phone", "members",
                    *Household.VULNERABLE_FLAGS, "notes", "active")
PREMISES_FIELDS = ("grid_id", "credit_code", "business", "contact", "phone", "active")


def register(key: str) -> Register | None:
    return REGISTERS.get(key)


# --- workbooks ------------------------------------------------------------------------------


def _safe(value):
    # A cell starting with = + - @ would run as a formula in Excel: write it as text. The
    # import takes the apostrophe off again, so an export re-imports to the same value.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def build_workbook(reg: Register, rows: Iterable[Sequence] = (),
                   grids: Sequence[Grid] = ()) -> bytes:
    """An .xlsx with the register's data sheet (headers, then `rows`) and a "填写说明" sheet
    explaining each column and listing the community's grids. The template (no rows), the
    export and the demo all build their workbooks here, so they always match the import."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(reg.title)
    sheet.freeze_panes = "A2"
    for n, column in enumerate(reg.columns, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = column.width
    # Drop-down lists for the yes/no and kind columns (Excel still accepts typing).
    for n, column in enumerate(reg.columns, start=1):
        choices = {"类别": "企业,店铺"}.get(column.header) or (
            f"{YES},{NO}" if column.header in FLAG_COLUMNS.values() else None)
        if choices:
            letter = get_column_letter(n)
            validation = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True)
            validation.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
            sheet.data_validations.append(validation)
    header = []
    for column in reg.columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = Font(bold=True, color="C00000" if column.required else None)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([_safe(v) for v in row])

    guide = workbook.create_sheet("填写说明")
    guide.column_dimensions["A"].width = 18
    guide.column_dimensions["B"].width = 8
    guide.column_dimensions["C"].width = 90
    wrap = Alignment(wrap_text=True, vertical="top")

    def line(*values, bold=False):
        cells = []
        for value in values:
            cell = WriteOnlyCell(guide, value=value)
            cell.alignment = wrap
            if bold:
                cell.font = Font(bold=True)
            cells.append(cell)
        guide.append(cells)

    line(f"{reg.title}填写说明", bold=True)
    line("从第 2 行起每行填一条，不要改动第 1 行的列名和列的顺序。红色列名为必填。"
         f"一次最多 {MAX_ROWS} 行。导入前会逐行检查，只要有一行有错就不导入任何数据，"
         "并列出出错的行和列；改正后重新导入即可。已有的记录按下面说明的方式更新，不会删除。")
    line()
    line("列名", "必填", "填写说明", bold=True)
    for column in reg.columns:
        line(column.header, YES if column.required else "", column.help)
    if grids:
        line()
        line("网格编号", "", "网格名称", bold=True)
        for grid in grids:
            line(grid.number, "", grid.name)
    with io.BytesIO() as buffer:
        workbook.save(buffer)
        return buffer.getvalue()


def _room(household: Household) -> str:
    """The room part of the address: the address is the building followed by the room."""
    if household.address.startswith(household.building):
        return household.address[len(household.building):]
    return household.address


def _yes_no(flag: bool) -> str:
    return YES if flag else NO


def household_rows(community: Community) -> list[list]:
    """The community's households in register (in the template's columns), grid by grid.
    Only those in the register: re-importing the export must not bring back a removed one."""
    found = db.session.execute(
        sa.select(Household, Grid.name).join(Grid, Grid.id == Household.grid_id)
        .where(Household.community_id == community.id, Household.active.is_(True))
        .order_by(Grid.number, Household.address)).all()
    return [[grid_name, h.building, _room(h), h.head_name, h.phone, h.members,
             *(_yes_no(getattr(h, f)) for f in Household.VULNERABLE_FLAGS), h.notes]
            for h, grid_name in found]


def premises_rows(community: Community) -> list[list]:
    found = db.session.execute(
        sa.select(Premises, Grid.name).join(Grid, Grid.id == Premises.grid_id)
        .where(Premises.community_id == community.id, Premises.active.is_(True))
        .order_by(Grid.number, Premises.kind, Premises.name)).all()
    return [[grid_name, KIND_NAMES[p.kind], p.name, p.address, p.credit_code, p.business,
             p.contact, p.phone] for p, grid_name in found]


def template(reg: Register, community: Community) -> bytes:
    return build_workbook(reg, (), community.grids)


def export(reg: Register, community: Community) -> bytes:
    rows = household_rows(community) if reg is HOUSEHOLDS else premises_rows(community)
    return build_workbook(reg, rows, community.grids)


# --- reading an uploaded workbook -----------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int       # the Excel row number
    column: str    # the column header ("" for the whole row)
    message: str


class ImportRejected(DomainError):
    """At least one row is wrong: nothing was imported. `errors` lists every problem."""

    def __init__(self, errors: list[RowError]):
        rows = len({e.row for e in errors})
        super().__init__(f"有 {rows} 行存在 {len(errors)} 处错误，未导入任何数据。"
                         "请按下表改正后重新导入。", field=FIELD)
        self.errors = errors


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rows: int = 0


def checked_file(upload, filename: str | None) -> storage.CheckedFile:
    """The upload's bytes after the storage rules: .xlsx only, not empty, within the size
    limit, and really a zip (an .xlsx) inside."""
    if isinstance(upload, FileStorage):
        file = upload if filename is None else FileStorage(upload.stream, filename=filename)
    else:
        stream = io.BytesIO(upload) if isinstance(upload, (bytes, bytearray)) else upload
        file = FileStorage(stream, filename=filename or "")
    return storage.check(file, extensions=("xlsx",), field=FIELD)


def _unreadable(name: str) -> DomainError:
    return DomainError(f"无法读取“{name}”：文件已损坏或不是 Excel 工作簿（.xlsx）。"
                       "请在 Excel 中另存为 .xlsx 后再导入。", field=FIELD)


def _open_sheet(reg: Register, checked: storage.CheckedFile):
    try:
        with zipfile.ZipFile(io.BytesIO(checked.data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _unreadable(checked.name) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise DomainError(f"“{checked.name}”内容过大，请分成几个文件导入"
                          f"（每个不超过 {MAX_ROWS} 行）。", field=FIELD)
    try:
        workbook = load_workbook(io.BytesIO(checked.data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any failure to parse an untrusted file is "unreadable"
        raise _unreadable(checked.name) from None
    sheets = [s for s in workbook.worksheets if s.title == reg.title] or [
        s for s in workbook.worksheets if s.title != "填写说明"]
    if not sheets:
        raise DomainError(f"“{checked.name}”中没有数据表。", field=FIELD)
    return workbook, sheets[0]


def _text(value, fold: bool = True) -> str:
    """A cell as trimmed text: numbers without a trailing .0, full-width letters and digits
    folded (ＡＢ１２ → AB12) unless `fold` is off (prose keeps its ，。), runs of spaces and
    line breaks as one space, and the apostrophe the export puts before = + - @ removed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, (date, datetime)):
        value = value.isoformat()
    text = str(value)
    if fold:
        text = unicodedata.normalize("NFKC", text)
    text = " ".join(text.split())
    if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@"):
        text = text[1:]
    return text


def read_rows(reg: Register, checked: storage.CheckedFile) -> list[tuple[int, tuple]]:
    """The data rows as (Excel row number, cells), blank rows skipped, after checking the
    header row against the template."""
    workbook, sheet = _open_sheet(reg, checked)
    width = len(reg.columns)
    rows = []
    try:
        lines = sheet.iter_rows(min_col=1, max_col=width, values_only=True)
        header = next(lines, None)
        got = [_text(v) for v in (header or ())] + [""] * width
        for n, expected in enumerate(reg.headers):
            if got[n] != expected:
                raise DomainError(
                    f"第 1 行的列名与模板不符：第 {n + 1} 列应为“{expected}”，实为“{got[n] or '空白'}”。"
                    "请下载模板，按模板的列填写后再导入。", field=FIELD)
        for number, cells in enumerate(lines, start=2):
            cells = tuple(cells) + (None,) * (width - len(cells))
            if all(_text(v) == "" for v in cells):
                continue
            rows.append((number, cells))
            if len(rows) > MAX_ROWS:
                raise DomainError(f"一次最多导入 {MAX_ROWS} 行，请分成几个文件导入。", field=FIELD)
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - a broken sheet inside a valid zip
        raise _unreadable(checked.name) from None
    finally:
        workbook.close()
    if not rows:
        raise DomainError(f"“{checked.name}”中没有数据：请从第 2 行起每行填写一条。", field=FIELD)
    return rows


# --- checking rows --------------------------------------------------------------------------


class _Row:
    """Reads one row's cells by column header and collects its errors."""

    def __init__(self, reg: Register, number: int, cells: tuple, errors: list[RowError]):
        self.number, self.errors = number, errors
        self.cells = dict(zip(reg.headers, cells))
        self.columns = {c.header: c for c in reg.columns}

    def error(self, header: str, message: str) -> None:
        self.errors.append(RowError(self.number, header, message))

    def text(self, header: str, limit: int, fold: bool = True) -> str | None:
        value = _text(self.cells[header], fold)
        if not value:
            if self.columns[header].required:
                self.error(header, "必填，不能为空。")
            return None
        if len(value) > limit:
            self.error(header, f"不能超过 {limit} 个字符（现有 {len(value)} 个）。")
            return None
        return value

    def phone(self, header: str) -> str | None:
        value = self.text(header, 30)
        if value and not (PHONE.fullmatch(value) and any(ch.isdigit() for ch in value)):
            self.error(header, f"“{value}”不是电话号码：只能有数字、空格和 + - ( )。")
            return None
        return value

    def flag(self, header: str) -> bool:
        value = _text(self.cells[header])
        if value not in (YES, NO, ""):
            self.error(header, f"应填“是”或“否”（不是可留空），不能填“{value}”。")
        return value == YES

    def count(self, header: str, maximum: int) -> int | None:
        raw = self.cells[header]
        if isinstance(raw, float) and not raw.is_integer():
            self.error(header, f"应为整数，不能有小数（{raw:g}）。")
            return None
        value = _text(raw)
        if not value:
            self.error(header, "必填，不能为空。")
            return None
        if not (value.isascii() and value.isdigit()):
            self.error(header, f"应为整数，如 3（不能写文字、小数或负数），不能填“{value}”。")
            return None
        if int(value) > maximum:
            self.error(header, f"应在 0 到 {maximum} 之间。")
            return None
        return int(value)


class _Grids:
    """Finds a grid of the community by its number or its name."""

    def __init__(self, community: Community):
        self.grids = community.grids
        self.by_number = {g.number: g for g in self.grids}
        names: dict[str, list[Grid]] = {}
        for g in self.grids:
            names.setdefault(_text(g.name), []).append(g)
        self.by_name = names

    def find(self, row: _Row, header: str = "网格") -> Grid | None:
        value = _text(row.cells[header])
        if not value:
            row.error(header, "必填，不能为空。")
            return None
        if value.isascii() and value.isdigit():
            grid = self.by_number.get(int(value))
        else:
            matches = self.by_name.get(value, [])
            if len(matches) > 1:
                row.error(header, f"有多个网格叫“{value}”，请填写网格编号。")
                return None
            grid = matches[0] if matches else None
        if grid is None:
            numbers = f"1–{len(self.grids)}" if self.grids else "（本社区尚无网格）"
            row.error(header, f"本社区没有网格“{value}”：请填写网格编号 {numbers} 或网格名称。")
        return grid


def check_households(community: Community, lines) -> tuple[list[dict], list[RowError]]:
    errors: list[RowError] = []
    grids, parsed, seen = _Grids(community), [], {}
    for number, cells in lines:
        row = _Row(HOUSEHOLDS, number, cells, errors)
        before = len(errors)
        grid = grids.find(row)
        building = row.text("楼栋", 60)
        room = row.text("房号", 60) or ""
        values = {
            "grid_id": grid.id if grid else None, "building": building,
            "head_name": row.text("户主姓名", 40), "phone": row.phone("联系电话"),
            "members": row.count("家庭人口", MAX_MEMBERS),
            **{name: row.flag(header) for name, header in FLAG_COLUMNS.items()},
            "notes": row.text("备注", 500, fold=False),
        }
        if building:
            address = building + room
            if len(address) > 120:
                row.error("房号", "楼栋和房号合起来不能超过 120 个字符。")
            elif address in seen:
                row.error("房号", f"地址“{address}”与第 {seen[address]} 行重复。")
            else:
                seen[address] = number
                values["address"] = address
        if len(errors) == before:
            parsed.append(values)
    return parsed, errors


def check_premises(community: Community, lines) -> tuple[list[dict], list[RowError]]:
    errors: list[RowError] = []
    grids, parsed, seen = _Grids(community), [], {}
    for number, cells in lines:
        row = _Row(PREMISES, number, cells, errors)
        before = len(errors)
        grid = grids.find(row)
        kind_text = _text(row.cells["类别"])
        kind = KIND_BY_NAME.get(kind_text)
        if kind is None:
            row.error("类别", "必填，不能为空。" if not kind_text
                      else f"应填“企业”或“店铺”，不能填“{kind_text}”。")
        code = row.text("统一社会信用代码", 60)
        if code:
            code = code.replace(" ", "").upper()
            if not CREDIT_CODE.fullmatch(code):
                row.error("统一社会信用代码",
                          f"应为 18 位数字或大写字母（不含 I、O、S、V、Z），现为 {len(code)} 位“{code}”。"
                          if len(code) != 18 else f"“{code}”含有不允许的字符（不含 I、O、S、V、Z）。")
        values = {
            "grid_id": grid.id if grid else None, "kind": kind,
            "name": row.text("名称", 100), "address": row.text("地址", 120),
            "credit_code": code or None, "business": row.text("行业", 60),
            "contact": row.text("联系人", 40), "phone": row.phone("联系电话"),
        }
        if kind and values["name"] and values["address"]:
            key = (kind, values["name"], values["address"])
            if key in seen:
                row.error("名称", f"与第 {seen[key]} 行是同一{KIND_NAMES[kind]}（名称和地址都相同）。")
            else:
                seen[key] = number
        if len(errors) == before:
            parsed.append(values)
    return parsed, errors
