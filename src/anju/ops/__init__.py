"""The operations database: organisations, users and their scopes, communities and their dated profiles,
notices, tasks, the audit log, web sessions and background jobs (SQLAlchemy 2 + Alembic; SQLite or PostgreSQL)."""
