"""Plain-Python case library (no Qt): SQLite store, migrations, import/export, backups."""
