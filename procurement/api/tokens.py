"""Per-user API tokens. Only a SHA-256 of the token is stored (and a short prefix so the
owner can tell tokens apart); the token itself is shown once, when it is created."""
import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procurement.audit import record, snapshot
from procurement.core import clock
from procurement.core.calendar import now_utc
from procurement.core.errors import DomainError
from procurement.core.types import UTCDateTime
from procurement.extensions import db

TOKEN_PREFIX = "gps_"
MAX_ACTIVE_TOKENS = 10


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    prefix: Mapped[str] = mapped_column(sa.String(12))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_of(user) -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def create_token(actor, user, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the plain token (shown once)."""
    name = (name or "").strip()
    if not name:
        raise DomainError("请填写令牌名称。", field="name")
    if len(name) > 60:
        raise DomainError("令牌名称不能超过 60 个字。", field="name")
    if not user.is_active:
        raise DomainError("停用的账号不能创建令牌。", field="name")
    active = db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    if active >= MAX_ACTIVE_TOKENS:
        raise DomainError(f"每个账号最多 {MAX_ACTIVE_TOKENS} 个有效令牌，请先撤销不用的令牌。",
                          field="name")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, user=user, name=name, prefix=plain[:10],
                     token_hash=_digest(plain), created_at=clock.now())
    db.session.add(token)
    db.session.flush()
    record(actor, "api.token_create", token, after=snapshot(token, "user_id", "name", "prefix"))
    return token, plain


def revoke_token(actor, token: ApiToken) -> ApiToken:
    if token.revoked_at is not None:
        raise DomainError("该令牌已撤销。")
    before = snapshot(token, "revoked_at")
    token.revoked_at = clock.now()
    record(actor, "api.token_revoke", token, before=before, after=snapshot(token, "revoked_at"))
    db.session.flush()
    return token


def authenticate(header: str | None) -> ApiToken | None:
    """The active token named by an `Authorization: Bearer …` header, or None. The owner
    must still be an active user."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or len(value) > 200:
        return None
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == _digest(value)))
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    return token
