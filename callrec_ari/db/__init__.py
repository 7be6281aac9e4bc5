"""SQL storage of call metadata (SQLite or PostgreSQL, through SQLAlchemy's asyncio API).

::

    base.py        declarative base, naming convention, the UTC timestamp type
    models.py      the ``calls`` table
    session.py     engine and session factory (built by the caller, never at import)
    repository.py  queries; the only place that converts rows to ``CallRecord``
    writer.py      background writer: the call path hands snapshots over and never waits
    migrate.py     Alembic, driven from code: migrations are the only way the schema changes
"""
