"""The domain and its persistence, used by the web app, the worker and the command line.

Packages, from the bottom layer up (a package imports only those below it; import-linter
checks it, see pyproject.toml):

- `core`: settings, database engines and sessions, errors, the vocabulary, the request contract
- `models`: the tables (and `migrations/`, their Alembic history)
- `access`: users, passwords, API tokens, roles, a school admin's reach, the audit log
- `filters`: saved ad hoc filters, and the SQL of who is a current student, staff or contact
- `people`: one person's preferences (view, edit, search, export), defaults, Reach
- `batches` (with `batches.pipeline`) and `imports`: batches from request to result and undo;
  district data in
- `schedules`: batch templates run by a rule in the district's time zone, each run claimed once

Nothing here imports Flask or Celery.
"""
