"""The Qt workbench. Imported only when the GUI starts (``citydesk gui``)."""
