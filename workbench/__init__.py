"""The application: Qt main window and widgets (``citydesk.workbench.gui``) and the
``citydesk`` command line (``citydesk.workbench.cli``). Only ``citydesk.workbench.gui`` imports
Qt, and only when the GUI starts, so the CLI and the headless demo run on machines with no
display and no Qt libraries."""
