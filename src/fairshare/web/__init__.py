"""The workbench: a web app (FastAPI) over the engine for the people in the process.

Settings come from the environment (:mod:`settings`); state lives in a SQL database (SQLite file by
default, PostgreSQL with ``FAIRSHARE_DATABASE_URL``) whose schema Alembic migrations manage; every
change is written to an append-only audit log.
"""
