"""The migrations build exactly the schema the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared.core.db import SessionFactory
from shared.models import Base


def test_the_migrated_schema_is_the_models_schema(session_factory: SessionFactory):
    engine = session_factory.kw["bind"]
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
