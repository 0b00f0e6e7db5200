"""The plugin host in the workbench: generated algorithm dialogs, manager, history."""
