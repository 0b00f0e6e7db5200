"""``citydesk optimize landuse --weights``: raw weights by default (the help's example,
economic=1,social=1000, is in the objectives' own units), or scaled by each objective's range
with ``--normalise``, as a scenario's weights are."""

from __future__ import annotations

from citydesk.optimization.solve import SolveOutcome, SolveStatus
from citydesk.workbench.cli.main import main


def _capture(monkeypatch) -> dict:
    from citydesk.optimization import landuse

    seen: dict = {}

    def fake(inputs, weights, options, feedback=None, normalise=False, **_):
        seen.update(weights=weights, normalise=normalise)
        return SolveOutcome(SolveStatus.NO_SOLUTION, None, None, 0.0, "cbc"), None

    monkeypatch.setattr(landuse, "solve_landuse", fake)
    return seen


def test_normalise_reaches_the_plan_and_raw_weights_stay_the_default(demo_copy, monkeypatch):
    seen = _capture(monkeypatch)
    main(["optimize", "landuse", str(demo_copy), "--weights", "economic=1,social=1"])
    assert seen == {"weights": {"economic": 1.0, "social": 1.0}, "normalise": False}
    main(["optimize", "landuse", str(demo_copy), "--weights", "economic,social", "--normalise"])
    assert seen == {"weights": {"economic": 1.0, "social": 1.0}, "normalise": True}


def test_normalise_on_a_front_is_refused_not_ignored(demo_copy, capsys):
    args = ["optimize", "landuse", str(demo_copy), "--objectives", "economic,social"]
    assert main([*args, "--normalise"]) == 2
    assert "--normalise weighs a plan's objectives; a front has no weights." in (
        capsys.readouterr().err
    )
