"""The control plane's database (users, tokens, export requests, notifications, webhooks):
models in `db.py`, Alembic migrations in `migrations/`."""
