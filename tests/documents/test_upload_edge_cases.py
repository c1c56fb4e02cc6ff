"""Every upload point of the app, through its real page with a multipart body built as a
browser (or a hostile client) sends it: tender documents, clarification attachments, bid
files, evaluation evidence and the register import (Excel).

For each point: a file whose content does not match its extension, a file over the per-file
limit, a request over MAX_CONTENT_LENGTH (a friendly 413 page), an empty file, and file names
with directory parts, control characters, Unicode and excessive length. A refusal names the
problem and leaves nothing behind: no rows, no audit entry, no file in UPLOAD_DIR. A kept
file is stored under a random name directly in UPLOAD_DIR, and its display and download
names carry no directory part and no control character.
"""
import io
import os
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from werkzeug.http import parse_options_header

from conftest import row_counts
from procurement.audit.models import AuditEntry
from procurement.contracts.states import EvaluationSource as Src
from procurement.documents import storage
from procurement.documents.models import StoredFile
from procurement.evaluations import plan
from procurement.evaluations.models import (EvaluationFile, EvaluationPeriod, EvaluationScore,
                                            EvaluationSheet)
from procurement.evaluations.sheet_forms import layout_of
from procurement.extensions import db as _db
from procurement.tasks import register_sheets
from procurement.tasks.models import Household, Premises
from procurement.tasks.registers import HOUSEHOLDS
from procurement.tenders.models import Bid, BidFile, Clarification, TenderDocument

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
ZIP_NOT_XLSX = b"PK\x03\x04" + b"\x00" * 60
ANY_PATH_PART = re.compile(r"[/\\]|^\.")


def control_free(name: str) -> bool:
    return not any(unicodedata.category(ch)[0] == "C" for ch in name)


# --- multipart bodies as they arrive on the wire -------------------------------------------


def browser(name: str) -> str:
    """The filename parameter as a browser writes it (HTML's multipart/form-data encoding:
    only CR, LF and the double quote are escaped; a backslash goes through as it is)."""
    return 'filename="' + name.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22") + '"'


def extended(name: str) -> str:
    """The RFC 2231 form a hand-made client may send: any character, percent-encoded, is
    decoded by the server exactly, so slashes, backslashes, NUL and newlines get through."""
    return "filename*=UTF-8''" + quote(name, safe="")


@dataclass
class Part:
    param: str  # the filename parameter, browser(...) or extended(...)
    data: bytes


def multipart(fields: dict, files: dict[str, list[Part]]) -> tuple[bytes, str]:
    boundary = f"----upload{uuid.uuid4().hex}"
    out = io.BytesIO()
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                      .encode())
            out.write(str(item).encode() + b"\r\n")
    for name, parts in files.items():
        for part in parts:
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                      f'{part.param}\r\nContent-Type: application/octet-stream\r\n\r\n'.encode())
            out.write(part.data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


# --- the upload points ---------------------------------------------------------------------


@dataclass
class Point:
    key: str
    extensions: tuple[str, ...]
    post: Callable[..., object]  # post(parts, **fields): one request carrying these files
    counts: Callable[[], tuple]
    kept: Callable[[], list[StoredFile]]  # the files the last accepted post stored
    download: Callable[[StoredFile], object] | None  # the page that serves a kept file


def _send(client, url, fields, field, parts, extra=None):
    body, content_type = multipart({**fields, **(extra or {})}, {field: parts})
    return client.post(url, data=body, content_type=content_type)


def _all_audit():
    return _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))


def tender_document(request) -> Point:
    live, sign_in = request.getfixturevalue("live"), request.getfixturevalue("sign_in")
    tender = live.draft()
    client = sign_in(live.officer)

    def kept():
        return [d.file for d in _db.session.scalars(
            sa.select(TenderDocument).where(TenderDocument.tender_id == tender.id)
            .order_by(TenderDocument.id.desc()).limit(1))]

    def download(stored):
        doc = _db.session.scalar(sa.select(TenderDocument).where(TenderDocument.file_id == stored.id))
        return client.get(f"/tenders/{tender.id}/documents/{doc.id}")

    return Point(
        "tender_document", storage.DOCUMENT_EXTENSIONS,
        lambda parts, **extra: _send(client, f"/tenders/{tender.id}/documents", {},
                                     "document-files", parts[:1], extra),
        lambda: (*row_counts(TenderDocument, StoredFile), _all_audit()), kept, download)


def clarification(request) -> Point:
    live, sign_in = request.getfixturevalue("live"), request.getfixturevalue("sign_in")
    tender = live.published()
    client = sign_in(live.officer)

    def kept():
        return [d.file for d in _db.session.scalars(
            sa.select(TenderDocument).where(TenderDocument.tender_id == tender.id,
                                            TenderDocument.clarification_id.is_not(None))
            .order_by(TenderDocument.id.desc()).limit(1))]

    def download(stored):
        doc = _db.session.scalar(sa.select(TenderDocument).where(TenderDocument.file_id == stored.id))
        return client.get(f"/tenders/{tender.id}/documents/{doc.id}")

    return Point(
        "clarification", storage.DOCUMENT_EXTENSIONS,
        lambda parts, **extra: _send(client, f"/tenders/{tender.id}/clarifications",
                                     {"clarify-content": "服务内容第三条修改为每月入户走访两次。"},
                                     "clarify-files", parts[:1], extra),
        lambda: (*row_counts(Clarification, TenderDocument, StoredFile), _all_audit()),
        kept, download)


def bid(request) -> Point:
    live, sign_in = request.getfixturevalue("live"), request.getfixturevalue("sign_in")
    tender = live.published()
    client = sign_in(live.agency_users[0])

    def kept():
        the_bid = _db.session.scalar(sa.select(Bid).where(Bid.tender_id == tender.id))
        _db.session.refresh(the_bid)
        return [f.file for f in the_bid.current_files]

    def download(stored):
        # A bid is sealed until the opening: nobody may download it through a page yet.
        # What the download would send is storage.send's answer for the stored file.
        with request.getfixturevalue("app").test_request_context():
            return storage.send(stored)

    return Point(
        "bid", storage.DOCUMENT_EXTENSIONS,
        lambda parts, **extra: _send(client, f"/bidding/{tender.id}/bid",
                                     {"price": "40万", "proposal": "社区服务方案：三社联动。"},
                                     "files", parts, extra),
        lambda: (*row_counts(Bid, BidFile, StoredFile), _all_audit()), kept, download)


def evidence(request) -> Point:
    a, sign_in = request.getfixturevalue("appraised"), request.getfixturevalue("sign_in")
    indicators = plan.indicator_set(a["agreement"], Src.SELF).indicators
    client = sign_in(a["agency"])
    url = (f"/evaluations/sheets/agreements/{a['agreement'].id}/quarter/1/{a['community'].id}/"
           f"{Src.SELF.value}")
    fields = {"layout": layout_of(indicators), "narrative": "本季度工作扎实。",
              "opinions": "居民反映社工入户热情。", "save": "1"}
    for n, indicator in enumerate(indicators):
        fields[f"score_{n}"] = str((indicator.max_score * Decimal("0.9")).quantize(Decimal("0.1")))

    def sheet():
        return _db.session.scalar(
            sa.select(EvaluationSheet).join(EvaluationPeriod)
            .where(EvaluationPeriod.agreement_id == a["agreement"].id,
                   EvaluationPeriod.number == 1, EvaluationSheet.source == Src.SELF))

    def kept():
        files = sorted(sheet().files, key=lambda f: f.id)
        return [f.file for f in files[-1:]]

    def download(stored):
        item = _db.session.scalar(sa.select(EvaluationFile).where(EvaluationFile.file_id == stored.id))
        return client.get(f"/evaluations/sheets/{item.sheet_id}/files/{item.id}")

    return Point(
        "evidence", storage.DOCUMENT_EXTENSIONS,
        lambda parts, **extra: _send(client, url, fields, "files", parts, extra),
        lambda: (*row_counts(EvaluationSheet, EvaluationScore, EvaluationFile, StoredFile),
                 _all_audit()), kept, download)


def register_import(request) -> Point:
    serving, sign_in = request.getfixturevalue("serving"), request.getfixturevalue("sign_in")
    client = sign_in(serving["worker"])
    return Point(
        "register_import", ("xlsx",),
        lambda parts, **extra: _send(
            client, f"/registers/{serving['community'].id}/households/import", {}, "file",
            parts[:1], extra),
        lambda: (*row_counts(Household, Premises, StoredFile), _all_audit()),
        lambda: [], None)


POINTS = {f.__name__: f for f in (tender_document, clarification, bid, evidence,
                                  register_import)}
STORING = [k for k in POINTS if k != "register_import"]


@pytest.fixture(params=list(POINTS))
def point(request) -> Point:
    return POINTS[request.param](request)


@pytest.fixture(params=STORING)
def storing_point(request) -> Point:
    return POINTS[request.param](request)


def good_file(point: Point) -> bytes:
    """A file this point accepts."""
    if point.key == "register_import":
        rows = [[1, "3号楼", "101", "王秀兰", "13800000001", 3, "", "", "", "", "", None]]
        return register_sheets.build_workbook(HOUSEHOLDS, rows)
    return PDF


def good_name(point: Point, stem: str = "材料") -> str:
    return f"{stem}.xlsx" if point.key == "register_import" else f"{stem}.pdf"


def upload_dir_listing(app) -> set[str]:
    path = Path(app.config["UPLOAD_DIR"])
    return set(os.listdir(path)) if path.exists() else set()


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def untouched(app):
    """Asserts, for a refused upload, that the UPLOAD_DIR listing did not change."""
    before = upload_dir_listing(app)
    yield
    assert upload_dir_listing(app) == before, "a refused upload left a file behind"


def assert_refused(point: Point, parts: list[Part], message: str, app, status=200, **fields):
    before, listing = point.counts(), upload_dir_listing(app)
    response = point.post(parts, **fields)
    assert response.status_code == status, text(response)[:2000]
    assert message in text(response), text(response)[:4000]
    assert point.counts() == before
    assert upload_dir_listing(app) == listing
    return response


# --- wrong types ---------------------------------------------------------------------------


@pytest.mark.parametrize("name, data, document_message, import_message", [
    ("setup.pdf", EXE, "“setup.pdf”的内容与扩展名 .pdf 不符", "“setup.pdf”的文件类型不允许，只接受 XLSX"),
    ("名单.xlsx", HTML, "“名单.xlsx”的内容与扩展名 .xlsx 不符", "“名单.xlsx”的内容与扩展名 .xlsx 不符"),
    ("方案.docx", PDF, "“方案.docx”的内容与扩展名 .docx 不符", "“方案.docx”的文件类型不允许"),
    ("setup.exe", EXE, "“setup.exe”的文件类型不允许", "“setup.exe”的文件类型不允许"),
    ("page.html", HTML, "“page.html”的文件类型不允许", "“page.html”的文件类型不允许"),
    ("无扩展名", PDF, "“无扩展名”的文件类型不允许", "“无扩展名”的文件类型不允许"),
])
def test_a_file_whose_type_or_content_is_wrong_is_refused_and_nothing_is_kept(
        point, app, name, data, document_message, import_message):
    message = import_message if point.key == "register_import" else document_message
    assert_refused(point, [Part(browser(name), data)], message, app)


def test_a_zip_named_xlsx_that_is_no_workbook_is_refused_by_the_import(request, app):
    point = register_import(request)
    assert_refused(point, [Part(browser("住户.xlsx"), ZIP_NOT_XLSX)],
                   "无法读取“住户.xlsx”：文件已损坏或不是 Excel 工作簿", app)


def test_a_workbook_that_unpacks_too_large_is_refused_by_the_import(request, app, monkeypatch):
    point = register_import(request)
    monkeypatch.setattr(register_sheets, "MAX_UNPACKED_BYTES", 200_000)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * 300_000)
    assert_refused(point, [Part(browser("住户.xlsx"), bomb.getvalue())], "内容过大，请分成几个文件导入", app)


def test_a_wrong_file_among_good_ones_refuses_them_all(request, app):
    for point in (bid(request), evidence(request)):
        assert_refused(point, [Part(browser("方案.pdf"), PDF), Part(browser("setup.pdf"), EXE)],
                       "“setup.pdf”的内容与扩展名 .pdf 不符", app)


# --- sizes ---------------------------------------------------------------------------------


def test_a_file_over_the_per_file_limit_is_refused_with_the_limit_named(point, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_FILE_SIZE", 64 * 1024)
    data = good_file(point)
    data = data + b"\x00" * (64 * 1024 + 1 - len(data))
    name = good_name(point, "大文件")
    assert_refused(point, [Part(browser(name), data)], f"“{name}”超过 64 KB 的上限", app)


def test_a_file_at_the_per_file_limit_is_accepted(storing_point, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_FILE_SIZE", 64 * 1024)
    data = PDF + b"\x00" * (64 * 1024 - len(PDF))
    response = storing_point.post([Part(browser("刚好.pdf"), data)])
    assert response.status_code == 302, text(response)[:3000]
    assert [f.size for f in storing_point.kept()] == [64 * 1024]


def test_a_request_over_max_content_length_gets_the_friendly_413_page(point, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    data = good_file(point) + b"\x00" * (1024 * 1024)
    response = assert_refused(point, [Part(browser(good_name(point)), data)],
                              "一次上传的文件合计不能超过 1 MB", app, status=413)
    assert "上传的文件过大" in text(response)
    assert "<html" in text(response)  # the app's own error page, not a bare server answer


def test_the_real_limits_refuse_a_10_mb_file_and_a_20_mb_request(request, app):
    """The configured defaults, once, at full size: 10 MB per file, 20 MB per request."""
    point = bid(request)
    assert (app.config["MAX_UPLOAD_FILE_SIZE"], app.config["MAX_CONTENT_LENGTH"]) == \
        (10 * 1024 * 1024, 20 * 1024 * 1024)
    over_file = PDF + b"\x00" * (10 * 1024 * 1024 + 1 - len(PDF))
    assert_refused(point, [Part(browser("大方案.pdf"), over_file)], "“大方案.pdf”超过 10 MB 的上限", app)
    halves = [Part(browser(f"第{n}部分.pdf"), PDF + b"\x00" * (10 * 1024 * 1024)) for n in (1, 2)]
    assert_refused(point, halves, "一次上传的文件合计不能超过 20 MB", app, status=413)


# --- empty files ---------------------------------------------------------------------------


def test_an_empty_file_is_refused(point, app):
    name = good_name(point, "空")
    assert_refused(point, [Part(browser(name), b"")], f"“{name}”是空文件", app)


# --- names ---------------------------------------------------------------------------------

LONG = "很" * 296 + ".pdf"
NAMES = [  # (name as sent, what must be kept)
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("/etc/cron.d/job.pdf", "job.pdf"),
    ("C:\\Windows\\x.pdf", "x.pdf"),
    ("..\\..\\a.pdf", "a.pdf"),
    ("\\\\server\\share\\b.pdf", "b.pdf"),
    ("标书.pdf", "标书.pdf"),
    ("ｆｕｌｌ　ｗｉｄｔｈ　标书.pdf", "ｆｕｌｌ　ｗｉｄｔｈ　标书.pdf"),
    ("a\x00b.pdf", "ab.pdf"),
    ("a\nb.pdf", "ab.pdf"),
    ("a\r\nContent-Type: text/html\r\n\r\nb.pdf", "htmlb.pdf"),  # "/" starts a base name
    ("invoice\u202efdp.pdf", "invoicefdp.pdf"),  # a right-to-left override hides the type
    ('say "hi"; x=1.pdf', 'say "hi"; x=1.pdf'),
    (".hidden.pdf", "hidden.pdf"),
    (LONG, "很" * 196 + ".pdf"),
]


def assert_safe_name(name: str):
    assert not ANY_PATH_PART.search(name), name
    assert control_free(name) and 0 < len(name) <= storage.MAX_NAME_LENGTH, name


def assert_stored_safely(app, stored: StoredFile, expected: str | None):
    if expected is not None:
        assert stored.original_name == expected
    assert_safe_name(stored.original_name)
    assert re.fullmatch(r"[0-9a-f]{32}", stored.stored_name)
    path = Path(app.config["UPLOAD_DIR"]) / stored.stored_name
    assert path.is_file() and path.read_bytes()[:5] == b"%PDF-"


def assert_safe_download(response, stored: StoredFile):
    assert response.status_code == 200
    header = response.headers["Content-Disposition"]
    assert "\r" not in header and "\n" not in header and "\x00" not in header
    kind, options = parse_options_header(header)
    assert kind == "attachment"
    assert options["filename"] == stored.original_name  # filename* when not plain ASCII
    assert_safe_name(options["filename"])


@pytest.mark.parametrize("sent, kept", NAMES, ids=[repr(n)[:40] for n, _ in NAMES])
def test_names_with_paths_and_control_characters_keep_only_a_safe_base_name(
        storing_point, app, sent, kept):
    """Sent as a hostile client can (RFC 2231, decoded exactly): the kept name is the base
    name without control characters, and the download names the same."""
    listing = upload_dir_listing(app)
    response = storing_point.post([Part(extended(sent), PDF)])
    assert response.status_code == 302, text(response)[:3000]
    (stored,) = storing_point.kept()
    assert_stored_safely(app, stored, kept)
    assert upload_dir_listing(app) - listing == {stored.stored_name}
    assert_safe_download(storing_point.download(stored), stored)


@pytest.mark.parametrize("sent", [n for n, _ in NAMES], ids=[repr(n)[:40] for n, _ in NAMES])
def test_names_as_a_browser_sends_them_are_kept_safe_too(storing_point, app, sent):
    """As a browser encodes them (CR, LF and quotes percent-escaped, a backslash as it is,
    which the multipart parser reads as an escape): whatever arrives is kept safe."""
    response = storing_point.post([Part(browser(sent), PDF)])
    assert response.status_code == 302, text(response)[:3000]
    (stored,) = storing_point.kept()
    assert_stored_safely(app, stored, None)
    assert_safe_download(storing_point.download(stored), stored)


@pytest.mark.parametrize("sent", ["../", "..\\..\\", "\x00\x00", "...", "\u202e", " "])
def test_a_name_that_is_nothing_but_path_or_control_characters_is_refused(point, app, sent):
    assert_refused(point, [Part(extended(sent), good_file(point))], "文件名无效，请重命名后再上传", app)


@pytest.mark.parametrize("sent, kept", [("../../etc/住户.xlsx", "住户.xlsx"),
                                        ("C:\\Users\\坐标\\住户\x00.xlsx", "住户.xlsx"),
                                        ("a\r\nb.xlsx", "ab.xlsx")])
def test_the_register_import_records_only_the_safe_base_name(request, app, sent, kept):
    point = register_import(request)
    response = point.post([Part(extended(sent), good_file(point))])
    assert response.status_code == 302, text(response)[:3000]
    entry = _db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "register.import_households").order_by(AuditEntry.seq.desc())).first()
    assert entry.after["file"] == kept


def test_a_refused_name_in_the_message_is_shown_without_its_path(request, app):
    point = register_import(request)
    assert_refused(point, [Part(extended("../../etc/passwd.docx"), PDF)],
                   "“passwd.docx”的文件类型不允许", app)


# --- files stored by a request that is then refused ---------------------------------------


def test_evidence_stored_before_a_refused_submission_is_removed_from_disk(request, app):
    """Save, attach and submit are one unit of work: the attachment is stored, then the
    submission is refused (a score is missing), the transaction rolls back, and the
    stored file goes with it."""
    point = evidence(request)
    before, listing = point.counts(), upload_dir_listing(app)
    response = point.post([Part(browser("签到表.pdf"), PDF)], score_0="", submit="1", save="")
    assert response.status_code == 200 and "以下指标尚未评分" in text(response)
    assert point.counts() == before
    assert upload_dir_listing(app) == listing


def test_a_bid_refused_after_its_files_were_checked_leaves_no_file(request, app):
    point = bid(request)
    assert_refused(point, [Part(browser("方案.pdf"), PDF)], "投标报价必须大于零", app, price="0")


def test_a_file_saved_in_a_transaction_that_rolls_back_is_removed(app, db, untouched):
    checked = storage.check(_upload("回滚.pdf", PDF))
    stored = storage.save(checked, area="test")
    path = Path(app.config["UPLOAD_DIR"]) / stored.stored_name
    assert path.is_file()
    db.session.rollback()
    assert not path.exists()


def test_a_file_saved_in_a_committed_transaction_stays(app, db):
    stored = storage.save(storage.check(_upload("提交.pdf", PDF)), area="test")
    path = Path(app.config["UPLOAD_DIR"]) / stored.stored_name
    db.session.commit()
    db.session.rollback()  # a later transaction's rollback does not touch it
    assert path.is_file()
    path.unlink()


def test_a_savepoint_released_inside_the_transaction_does_not_keep_a_file_the_transaction_drops(
        app, db, untouched):
    stored = storage.save(storage.check(_upload("嵌套.pdf", PDF)), area="test")
    with db.session.begin_nested():
        pass
    path = Path(app.config["UPLOAD_DIR"]) / stored.stored_name
    assert path.is_file()
    db.session.rollback()
    assert not path.exists()


def _upload(name, data):
    from werkzeug.datastructures import FileStorage
    return FileStorage(io.BytesIO(data), filename=name)
