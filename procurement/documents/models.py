from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from procurement.core.calendar import now_utc
from procurement.core.types import UTCDateTime
from procurement.extensions import db


class StoredFile(db.Model):
    """An uploaded file kept outside `static/` under a random name; served only by the
    authorised route of the thing it belongs to (a tender document, a bid file, evidence)."""

    __tablename__ = "stored_files"
    __table_args__ = (sa.CheckConstraint("size > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area: Mapped[str] = mapped_column(sa.String(30))
    original_name: Mapped[str] = mapped_column(sa.String(200))
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    def __str__(self) -> str:
        return self.original_name
