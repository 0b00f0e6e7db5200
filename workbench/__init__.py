"""The application: Qt main window and widgets (``workbench.gui``) and the ``citydesk`` command
line (``workbench.cli``). Only ``workbench.gui`` imports Qt, and only when the GUI starts, so the
CLI and the headless demo run on machines with no display and no Qt libraries."""
