"""The dispatch desk in the workbench: thin Qt views over ``incidents.desk.DispatchDesk``."""
