"""The ``citydesk`` command line: every GUI action, scriptable and batchable."""
