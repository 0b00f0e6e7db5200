"""The dispatch desk in the workbench: thin Qt views over
``citydesk.incidents.desk.DispatchDesk``."""
