"""``inspect.json``: an :class:`~compare.inside.inspection.Inspection` as plain JSON data."""

from __future__ import annotations

import automata as am
from automimic_io.jsontext import jsonable
from compare.inside.inspection import Inspection


def to_json(inspection: Inspection) -> dict:
    """Plain data for ``inspect.json``: probe accuracy overall and per group, top units,
    extraction distances."""
    truth, extraction = inspection.truth, inspection.extraction
    return jsonable({
        "truth": {"name": truth.name, "kind": truth.kind, "states": list(truth.states)},
        "model": inspection.model_info,
        "strings": inspection.split, "prefixes": inspection.rows,
        "settings": inspection.settings,
        "probe": inspection.probe.to_dict(),
        "state_units": inspection.state_units,
        "groups": {g.name: {"states": list(g.states), "share": g.share,
                            "probe": g.probe.to_dict(), "best_unit": g.best_unit,
                            "top_units": g.units} for g in inspection.groups},
        "shown_units": [{"unit": u["unit"], "why": u["why"]} for u in inspection.shown_units],
        "extraction": {
            "k": extraction.k, "states": len(extraction.automaton.states),
            "clustering": extraction.method, "probabilities": inspection.probabilities,
            "determinism": extraction.determinism,
            "validation_bits_per_symbol": {str(k): v for k, v in extraction.validation.items()},
            "purity": inspection.purity,
            "contingency": {"clusters": [f"c{j}" for j in range(extraction.k)],
                            "states": list(truth.states),
                            "counts": inspection.contingency.tolist()},
            "distances": inspection.distances,
            "automaton": am.to_dict(extraction.automaton),
        },
    })
