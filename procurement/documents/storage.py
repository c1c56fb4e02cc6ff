"""Uploads: checked for type, size and name, stored outside `static/` under random names.

The original name is kept for display and download only; it never becomes a path.
"""
import hashlib
import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, send_file
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from procurement.core.errors import DomainError
from procurement.documents.models import StoredFile
from procurement.extensions import db


@dataclass(frozen=True)
class FileKind:
    extension: str
    content_type: str
    magic: tuple[bytes, ...]  # accepted leading bytes; empty means plain text


KINDS = {kind.extension: kind for kind in (
    FileKind("pdf", "application/pdf", (b"%PDF-",)),
    FileKind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             (b"PK\x03\x04",)),
    FileKind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             (b"PK\x03\x04",)),
    FileKind("doc", "application/msword", (b"\xd0\xcf\x11\xe0",)),
    FileKind("xls", "application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0",)),
    FileKind("jpg", "image/jpeg", (b"\xff\xd8\xff",)),
    FileKind("jpeg", "image/jpeg", (b"\xff\xd8\xff",)),
    FileKind("png", "image/png", (b"\x89PNG\r\n\x1a\n",)),
    FileKind("zip", "application/zip", (b"PK\x03\x04",)),
)}
DOCUMENT_EXTENSIONS = ("pdf", "docx", "doc", "xlsx", "xls", "jpg", "jpeg", "png", "zip")
MAX_NAME_LENGTH = 200


def clean_name(name: str | None) -> str:
    """A display name without any directory part or control characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    if not name:
        raise DomainError("文件名无效，请重命名后再上传。", field="files")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:MAX_NAME_LENGTH - len(ext) - 1] + dot + ext) if dot else name[:MAX_NAME_LENGTH]
    return name


def readable_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{max(size // 1024, 1)} KB"


def upload_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def max_file_size() -> int:
    return current_app.config.get("MAX_UPLOAD_FILE_SIZE", 10 * 1024 * 1024)


@dataclass(frozen=True)
class CheckedFile:
    name: str
    kind: FileKind
    data: bytes


def check(upload: FileStorage, *, extensions: tuple[str, ...] = DOCUMENT_EXTENSIONS,
          field: str = "files") -> CheckedFile:
    """Read and check an upload without keeping anything: call it for every file before a
    service writes its first row, so a refusal leaves neither rows nor files behind."""
    name = clean_name(upload.filename)
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    kind = KINDS.get(extension)
    if kind is None or extension not in extensions:
        allowed = "、".join(e.upper() for e in extensions)
        raise DomainError(f"“{name}”的文件类型不允许，只接受 {allowed}。", field=field)
    limit = max_file_size()
    data = upload.stream.read(limit + 1)
    if not data:
        raise DomainError(f"“{name}”是空文件。", field=field)
    if len(data) > limit:
        raise DomainError(f"“{name}”超过 {readable_size(limit)} 的上限。", field=field)
    if kind.magic and not data.startswith(kind.magic):
        raise DomainError(f"“{name}”的内容与扩展名 .{extension} 不符。", field=field)
    return CheckedFile(name, kind, data)


# Files written in the session's current transaction: kept when it commits, removed when it
# ends any other way (a refusal later in the same request rolls back, an error, a closed
# session), so a stored file exists exactly when its StoredFile row does.
_UNCOMMITTED = "uncommitted_uploads"


@event.listens_for(Session, "after_commit")
def _keep_committed_uploads(session):
    if not session.in_nested_transaction():  # a released savepoint commits nothing yet
        session.info.pop(_UNCOMMITTED, None)


@event.listens_for(Session, "after_transaction_end")
def _remove_uncommitted_uploads(session, transaction):
    if transaction.parent is None and not transaction.nested:
        for path in session.info.pop(_UNCOMMITTED, ()):
            path.unlink(missing_ok=True)


def save(checked: CheckedFile, *, area: str, actor=None) -> StoredFile:
    stored_name = secrets.token_hex(16)
    target = upload_dir() / stored_name
    with open(target, "xb") as handle:
        handle.write(checked.data)
    os.chmod(target, 0o600)
    db.session.info.setdefault(_UNCOMMITTED, []).append(target)
    stored = StoredFile(area=area, original_name=checked.name, stored_name=stored_name,
                        content_type=checked.kind.content_type, size=len(checked.data),
                        sha256=hashlib.sha256(checked.data).hexdigest(),
                        uploaded_by_id=getattr(actor, "id", None))
    db.session.add(stored)
    return stored


def store(upload: FileStorage, *, area: str, actor=None,
          extensions: tuple[str, ...] = DOCUMENT_EXTENSIONS, field: str = "files") -> StoredFile:
    """Check an upload and keep it. Refuses with a DomainError naming the problem."""
    return save(check(upload, extensions=extensions, field=field), area=area, actor=actor)


def send(stored: StoredFile):
    """The file as a download. Callers check permission first."""
    path = upload_dir() / stored.stored_name
    if not path.is_file():
        raise DomainError("文件已不在存储中，请联系管理员。")
    return send_file(path, mimetype=stored.content_type, as_attachment=True,
                     download_name=stored.original_name, max_age=0)
