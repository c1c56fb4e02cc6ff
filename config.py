"""Configuration classes, read from the environment.

`create_app()` picks one by `PROCUREMENT_CONFIG` (development, production, testing);
development is the default so that `make run` works on a fresh machine.
"""
import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("PROCUREMENT_INSTANCE", BASE_DIR / "instance"))


def database_url(url: str | None) -> str | None:
    """Normalise a DATABASE_URL so PostgreSQL always goes through psycopg 3."""
    if not url:
        return url
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _dev_secret_key() -> str:
    # A development key that survives restarts (sessions stay valid) without being
    # committed anywhere: generated once into instance/.
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    @classmethod
    def check(cls) -> None:
        """Fill or refuse settings that cannot be decided at import time."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL")) or (
        f"sqlite:///{INSTANCE_DIR / 'procurement.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 20 * 1024 * 1024))
    # One uploaded file (a bid's attachment, a tender document); the request limit above
    # caps several files together.
    MAX_UPLOAD_FILE_SIZE = int(os.environ.get("MAX_UPLOAD_FILE_SIZE", 10 * 1024 * 1024))

    # Sessions and cookies
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    SESSION_COOKIE_NAME = "procurement_session"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=int(os.environ.get("SESSION_HOURS", 8)))
    REMEMBER_COOKIE_DURATION = timedelta(days=1)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = 8 * 3600

    # Accounts
    PASSWORD_HASH_METHOD = "scrypt"
    PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", 10))
    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", 5))
    LOGIN_LOCK_MINUTES = int(os.environ.get("LOGIN_LOCK_MINUTES", 15))
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;60 per hour")
    # Per API token; per address for the residents' survey answers.
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per hour")
    SURVEY_RATE_LIMIT = os.environ.get("SURVEY_RATE_LIMIT", "30 per minute;300 per hour")
    # Where `flask backup` writes by default (instance/backups when unset).
    BACKUP_DIR = os.environ.get("BACKUP_DIR") or None
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True

    # Grid cases: hours from report to closure, per urgency (local practice; a setting).
    # The agency's quarterly self-assessment is due this many working days after the quarter.
    SELF_ASSESSMENT_DUE_WORKING_DAYS = int(os.environ.get("SELF_ASSESSMENT_DUE_WORKING_DAYS", 10))
    # A quarter's instalment falls due this many working days after the quarter ends.
    DISBURSEMENT_DUE_WORKING_DAYS = int(os.environ.get("DISBURSEMENT_DUE_WORKING_DAYS", 20))
    GRID_CASE_HOURS = {"normal": int(os.environ.get("GRID_CASE_HOURS_NORMAL", 72)),
                       "urgent": int(os.environ.get("GRID_CASE_HOURS_URGENT", 24)),
                       "emergency": int(os.environ.get("GRID_CASE_HOURS_EMERGENCY", 4))}

    # Language and time
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_CN": "中文", "en": "English"}

    # Bootstrap and every script come from our own static files (offline intranets).
    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BTN_STYLE = "primary"
    PER_PAGE = 20

    # Open data (OCDS): ocid = prefix + "-" + tender number. Register a prefix with the Open
    # Contracting Partnership before publishing for real; never change it afterwards.
    OCDS_OCID_PREFIX = os.environ.get("OCDS_OCID_PREFIX", "ocds-lyjd16")
    # The licence the published data carries, and the publisher's name (default: the
    # platform's name).
    OCDS_LICENSE = os.environ.get("OCDS_LICENSE", "https://creativecommons.org/licenses/by/4.0/")
    OCDS_PUBLISHER_NAME = os.environ.get("OCDS_PUBLISHER_NAME", "")


class DevelopmentConfig(Config):
    DEBUG = True

    @classmethod
    def check(cls) -> None:
        if not cls.SECRET_KEY:
            cls.SECRET_KEY = _dev_secret_key()


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    # tests/conftest.py replaces this with a fresh database per run (SQLite file, or a new
    # database on the TEST_DATABASE_URL server).
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    # Fast hashes keep the suite quick; the production method is tested separately.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    RATELIMIT_STORAGE_URI = "memory://"
    # Forms are posted without tokens in most tests; tests/test_security.py turns CSRF
    # back on and proves every form refuses a post without one.
    WTF_CSRF_ENABLED = False


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PREFERRED_URL_SCHEME = "https" if SESSION_COOKIE_SECURE else "http"

    @classmethod
    def check(cls) -> None:
        missing = [name for name in ("SECRET_KEY",) if not getattr(cls, name)]
        if missing:
            raise RuntimeError(f"生产环境必须设置环境变量：{', '.join(missing)}")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestConfig,
    "production": ProductionConfig,
}
