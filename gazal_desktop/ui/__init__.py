"""PySide6 widgets, dialogs and workers. The only package that imports Qt."""
