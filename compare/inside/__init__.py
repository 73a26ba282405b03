"""What is inside the RNN: its hidden states against the true automaton's states.

- :mod:`~compare.inside.alignment`: hidden vectors and true states after every prefix, aligned;
- :mod:`~compare.inside.probes`: linear probes from hidden vectors to (groups of) true states;
- :mod:`~compare.inside.cells`: single units — correlation, mutual information, coloured text;
- :mod:`~compare.inside.extraction`: k-means on hidden vectors → a PDFA;
- :mod:`~compare.inside.inspection`: all of it for one model (:func:`inspect_model`);
- :mod:`~compare.inside.document` and :mod:`~compare.inside.page`: the result as JSON and HTML.

>>> import numpy as np
>>> import automata as am
>>> from compare.inside import align, probe_accuracy
>>> a = am.loads("kind: markov\\nalphabet: [x, y]\\nstart: {x: 0.5, y: 0.5}\\n"
...              "next: {x: {y: 0.9, $: 0.1}, y: {x: 0.5, y: 0.4, $: 0.1}}")
>>> class Oracle:  # an "RNN" whose hidden state is the one-hot true state
...     def hidden_states(self, strings):
...         return [{"h": np.eye(3)[s][None]} for s in am.prefix_states(a, strings)]
>>> alignment = align(a, Oracle(), am.sample(a, 200, seed=0))
>>> train = alignment.rows_of(np.arange(200) < 100)
>>> probe_accuracy(alignment.matrix(), alignment.labels(), train).accuracy
1.0
"""

from compare.inside.alignment import Alignment, align, group_mass, hidden_features, parse_group
from compare.inside.cells import (
    coloured_text_html,
    coloured_text_png,
    correlations,
    mutual_information,
    top_units,
)
from compare.inside.document import to_json
from compare.inside.extraction import (
    Clustering,
    Extraction,
    bits_per_symbol,
    build_pdfa,
    contingency,
    cut_tree,
    drawn_like_truth,
    extract,
    kmeans,
    next_codes,
    purity,
    ward_tree,
)
from compare.inside.inspection import GroupCells, Inspection, inspect_model
from compare.inside.page import inside_context, render_html
from compare.inside.probes import (
    ProbeResult,
    fit_probe,
    probe_accuracy,
    single_unit_accuracy,
)

__all__ = [
    "Alignment", "Clustering", "Extraction", "GroupCells", "Inspection", "ProbeResult", "align",
    "bits_per_symbol", "build_pdfa", "coloured_text_html", "coloured_text_png", "contingency",
    "correlations", "cut_tree", "drawn_like_truth", "extract", "fit_probe", "group_mass",
    "hidden_features", "inside_context", "inspect_model", "kmeans", "mutual_information",
    "next_codes", "parse_group", "probe_accuracy", "purity", "render_html",
    "single_unit_accuracy", "to_json", "top_units", "ward_tree",
]
