"""Alembic migrations of the workbench schema (env.py, versions/)."""
