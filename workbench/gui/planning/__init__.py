"""The planning dock: scenarios listed, edited, run, compared, decided and reported."""
