"""Backup and restore of the whole installation: the database and the uploaded files.

SQLite is copied with its online backup API (a consistent snapshot while the app runs);
PostgreSQL with `pg_dump --format=custom` / `pg_restore --clean --if-exists`. The uploads go
into a tar next to the database backup (`<backup>.uploads.tar`). The database is copied
first: uploads are written before the row that names them is committed and are never
changed, so every file the database snapshot refers to is already on disk when the tar is
made. A restore refuses anything that is not a backup of this application, and ends by
verifying the audit chain of what it restored.
"""
import hashlib
import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy.engine import URL

from procurement.core.calendar import SHANGHAI, now_utc
from procurement.core.errors import DomainError
from procurement.extensions import db

# Tables every database of this application has; a file without them is not our backup.
KEY_TABLES = ("alembic_version", "audit_entries", "users", "organisations")
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
UPLOADS_SUFFIX = ".uploads.tar"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    sha256: str
    uploads_path: Path
    uploads_sha256: str
    upload_count: int


@dataclass(frozen=True)
class BackupInfo:
    """What a checked backup file holds."""
    kind: str  # "sqlite" or "postgresql"
    revision: str
    is_current: bool  # at the migrations' head; otherwise run `flask db upgrade` after restoring


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def uploads_archive_for(path: Path) -> Path:
    return path.with_name(path.name + UPLOADS_SUFFIX)


def _dialect() -> str:
    return db.engine.dialect.name


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise DomainError("内存数据库无法备份或恢复，请使用数据库文件。")
    return Path(database)


def default_backup_path() -> Path:
    """instance/backups/procurement-YYYYmmdd-HHMMSS.<ext>, in Shanghai time (real time, not
    the business clock: a backup is an operation, not a business event)."""
    directory = Path(current_app.config.get("BACKUP_DIR") or Path(current_app.instance_path) / "backups")
    stamp = now_utc().astimezone(SHANGHAI).strftime("%Y%m%d-%H%M%S")
    extension = "sqlite3" if _dialect() == "sqlite" else "dump"
    return directory / f"procurement-{stamp}.{extension}"


# ---------------------------------------------------------------------------- backup

def create_backup(target: Path | None = None) -> BackupResult:
    """Write a backup of the configured database and the upload directory; refuses to
    overwrite an existing file."""
    target = Path(target) if target else default_backup_path()
    archive = uploads_archive_for(target)
    for path in (target, archive):
        if path.exists():
            raise DomainError(f"{path} 已存在，请换一个文件名。")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        if _dialect() == "sqlite":
            _sqlite_backup(partial)
        elif _dialect() == "postgresql":
            _run_pg("pg_dump", "--format=custom", "--no-password", f"--file={partial}")
        else:
            raise DomainError(f"不支持备份 {_dialect()} 数据库。")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    count = _archive_uploads(archive)
    return BackupResult(target, sha256_of(target), archive, sha256_of(archive), count)


def _sqlite_backup(target: Path) -> None:
    source = sqlite3.connect(f"file:{_sqlite_path()}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        # One self-contained file: no -wal/-shm companions to forget when it is moved.
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
        source.close()


def _archive_uploads(archive: Path) -> int:
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    files = sorted(p for p in upload_dir.iterdir() if p.is_file()) if upload_dir.is_dir() else []
    partial = archive.with_name(archive.name + ".partial")
    try:
        with tarfile.open(partial, "w") as tar:
            for path in files:
                tar.add(path, arcname=path.name)
        os.replace(partial, archive)
    finally:
        partial.unlink(missing_ok=True)
    return len(files)


# ---------------------------------------------------------------------------- checking

def check_backup(path: Path) -> BackupInfo:
    """Refuse a file that is not a backup of this application for the configured kind of
    database; return its migration revision."""
    path = Path(path)
    if not path.is_file():
        raise DomainError(f"找不到备份文件 {path}。")
    with open(path, "rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    kind = "sqlite" if head == SQLITE_MAGIC else "postgresql" if head.startswith(PG_CUSTOM_MAGIC) else None
    if kind is None:
        raise DomainError(f"{path} 不是本系统的备份文件。")
    if kind != _dialect():
        raise DomainError(f"{path} 是 {kind} 数据库的备份，当前数据库是 {_dialect()}，不能恢复。")
    tables, revision = _sqlite_contents(path) if kind == "sqlite" else _pg_contents(path)
    missing = [t for t in KEY_TABLES if t not in tables]
    if missing or not revision:
        raise DomainError(f"{path} 不是本系统的备份文件（缺少 {'、'.join(missing) or 'alembic_version 记录'}）。")
    scripts = ScriptDirectory(current_app.extensions["migrate"].directory)
    try:
        known = scripts.get_revision(revision) is not None
    except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown id
        known = False
    if not known:
        raise DomainError(f"{path} 的数据库版本 {revision} 不属于本程序（备份来自更新的版本？），不能恢复。")
    return BackupInfo(kind, revision, revision in scripts.get_heads())


def _sqlite_contents(path: Path) -> tuple[set[str], str | None]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            revision = None
            if "alembic_version" in tables:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = row[0] if row else None
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        raise DomainError(f"{path} 已损坏或不是 SQLite 数据库。") from None
    return tables, revision


def _pg_contents(path: Path) -> tuple[set[str], str | None]:
    listing = _run("pg_restore", "--list", str(path), what=f"{path} 无法读取").stdout
    tables = set()
    for line in listing.splitlines():
        # "215; 1259 16390 TABLE public audit_entries postgres"
        parts = line.split()
        if len(parts) >= 6 and parts[3] == "TABLE" and parts[4] != "DATA":
            tables.add(parts[5])
    revision = None
    if "alembic_version" in tables:
        data = _run("pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(path),
                    what=f"{path} 无法读取").stdout
        lines = iter(data.splitlines())
        for line in lines:
            if line.startswith("COPY ") and "alembic_version" in line:
                value = next(lines, "\\.")
                revision = None if value == "\\." else value.strip()
                break
    return tables, revision


# ---------------------------------------------------------------------------- restoring

def restore_backup(path: Path):
    """Replace the configured database (and add the uploaded files) from a backup, then
    verify the audit chain of the result. Returns (BackupInfo, restored upload count or
    None when no upload archive lies next to the backup, ChainReport)."""
    from procurement.audit import verify_chain

    path = Path(path)
    info = check_backup(path)
    # No pooled connection may outlive the old database or hold a lock against pg_restore.
    db.session.remove()
    db.engine.dispose()
    if info.kind == "sqlite":
        _sqlite_restore(path)
    else:
        _run_pg("pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                "--single-transaction", "--exit-on-error", "--no-password", str(path))
    uploads = _restore_uploads(uploads_archive_for(path))
    db.engine.dispose()
    report = verify_chain()
    db.session.remove()
    return info, uploads, report


def _sqlite_restore(path: Path) -> None:
    live = _sqlite_path()
    live.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = sqlite3.connect(live)
    try:
        target.execute("PRAGMA busy_timeout=5000")
        source.backup(target)
    finally:
        target.close()
        source.close()


def _restore_uploads(archive: Path) -> int | None:
    """Add the archived files to the upload directory. Stored names are random and files
    never change, so files uploaded after the backup are left alone (unreferenced)."""
    if not archive.is_file():
        return None
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    upload_dir.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers() if m.isfile() and "/" not in m.name]
            tar.extractall(upload_dir, members=members, filter="data")
    except tarfile.TarError:
        raise DomainError(f"上传文件归档 {archive} 已损坏。") from None
    return len(members)


def missing_uploads() -> int:
    """Stored files named in the database that are not in the upload directory."""
    from procurement.documents.models import StoredFile

    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    names = db.session.scalars(sa.select(StoredFile.stored_name))
    return sum(1 for name in names if not (upload_dir / name).is_file())


# ---------------------------------------------------------------------------- PostgreSQL tools

def pg_connection(url: URL) -> tuple[str, dict]:
    """A libpq URL without the password, and an environment that carries it: the password
    never appears on a command line (visible in `ps`) or in a message."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                       database=url.database, query=url.query).render_as_string(hide_password=False)
    return plain, env


def _run_pg(tool: str, *args: str) -> subprocess.CompletedProcess:
    target, env = pg_connection(db.engine.url)
    return _run(tool, f"--dbname={target}", *args, env=env, what=f"{tool} 失败")


def _run(tool: str, *args: str, env: dict | None = None, what: str) -> subprocess.CompletedProcess:
    executable = shutil.which(tool)
    if executable is None:
        raise DomainError(f"找不到 {tool}，请安装 PostgreSQL 客户端（postgresql-client）。")
    result = subprocess.run([executable, *args], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        message = result.stderr.strip()
        password = (env or {}).get("PGPASSWORD")
        if password:
            message = message.replace(password, "***")
        raise DomainError(f"{what}：{message}")
    return result
