"""Thin Qt views over ``planning`` and ``optimization``: dialogs that build a spec, runs in
the task runner, results as project layers."""
