"""Imports every domain's models so the metadata (and Alembic) sees all tables.
Each domain keeps its own models.py; this module only gathers them."""
from procurement.accounts.models import User, UserRole  # noqa: F401
from procurement.audit.models import AuditEntry  # noqa: F401
from procurement.orgs.models import Community, Grid, Organisation  # noqa: F401
