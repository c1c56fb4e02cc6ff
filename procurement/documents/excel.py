"""Excel exports, written in openpyxl's write-only mode so large tables stream row by row."""
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

from flask import Response, current_app, request
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from werkzeug.wsgi import wrap_file

from procurement.core.calendar import local_today, to_local


def _cell_value(value):
    if isinstance(value, datetime):
        return to_local(value).replace(tzinfo=None)  # Excel has no time zones: show local time
    if isinstance(value, Decimal):
        return value  # openpyxl writes Decimal exactly as a number
    if isinstance(value, date) or value is None or isinstance(value, (int, str)):
        return value
    return str(value)


def _safe_text(value):
    # A cell starting with = + - @ would be run as a formula by Excel (CSV/formula injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def write_xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    # Spool to disk past a few MB so a big export does not sit in memory twice.
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as buffer:
        write_xlsx_to(buffer, title, headers, rows)
        buffer.seek(0)
        return buffer.read()


def disposition(filename: str, inline: bool = False) -> str:
    """A Content-Disposition that carries a Chinese file name to every browser: an ASCII
    fallback for old clients and the RFC 5987 UTF-8 form for the rest. `inline` lets the
    browser show the file (a PDF to print) instead of saving it."""
    ascii_name = filename.encode("ascii", "ignore").decode().replace('"', "") or "export"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def attachment(filename: str) -> str:
    """A Content-Disposition that makes the browser save the file under `filename`."""
    return disposition(filename)


def xlsx_response(title: str, headers: Sequence[str], rows: Iterable[Sequence]) -> Response:
    data = write_xlsx(title, headers, rows)
    filename = f"{title}_{local_today():%Y%m%d}.xlsx"
    return Response(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": attachment(filename)},
    )


# --- streamed exports: rows from a cursor, the workbook in a temporary file ------------------

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def write_xlsx_to(file, title: str, headers: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Write one sheet to an open binary file and return the bytes written. Write-only
    worksheets keep each appended row in their own temporary file, so memory stays flat
    however many rows `rows` (a generator over a server-side cursor) yields."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    header_cells = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_safe_text(_cell_value(v)) for v in row])
    start = file.tell()
    workbook.save(file)
    return file.tell() - start


def streamed_xlsx_response(filename: str, title: str, headers: Sequence[str],
                           rows: Iterable[Sequence]) -> Response:
    """An .xlsx download written to an anonymous temporary file and sent from it in
    chunks: neither the rows nor the finished workbook are ever held in memory whole. The
    file disappears when the response is closed."""
    file = tempfile.TemporaryFile()
    try:
        size = write_xlsx_to(file, title, headers, rows)
        file.seek(0)
    except BaseException:
        file.close()
        raise
    response = current_app.response_class(wrap_file(request.environ, file),
                                          mimetype=XLSX_MIMETYPE, direct_passthrough=True)
    response.content_length = size
    response.headers["Content-Disposition"] = attachment(filename)
    response.headers["Cache-Control"] = "no-store"
    return response
