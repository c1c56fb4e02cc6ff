"""The schema comes only from migrations; they must describe exactly the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext



def test_migrations_match_the_models(db):
    # The test database was built by `flask db upgrade` (see conftest); compare it with
    # the models as Alembic's autogenerate would.
    connection = db.session.connection()
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ; run `flask db migrate`: {diff}"


def test_audit_table_has_append_only_triggers(db):
    import sqlalchemy as sa

    if db.session.get_bind().dialect.name == "postgresql":
        names = db.session.scalars(sa.text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_entries'::regclass")).all()
        assert "audit_entries_append_only" in names
    else:
        names = db.session.scalars(sa.text(
            "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_entries'")).all()
        assert set(names) == {"audit_entries_no_update", "audit_entries_no_delete"}
