"""Which automaton a run was trained on: its SHA-256, recorded in the run folder, so that
``automimic compare FILE RUN`` can tell whether FILE is the run's truth.

``automimic train FILE.yaml`` writes ``source.json``; ``automimic run`` records the same in its
``run.json``. A run trained on a corpus (``--data``) records nothing: its truth is unknown.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from automimic.errors import CliError
from automimic_io import read_bytes, write_atomic
from automimic_io.jsontext import json_text

SOURCE_FILE = "source.json"
RUN_FILE = "run.json"
DIGEST_KEY = "automaton_sha256"


def automaton_digest(path: Path) -> str:
    """SHA-256 of the automaton file: a run resumes only with the same automaton.

    >>> import tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "a.yaml"
    >>> _ = file.write_text("kind: dfa")
    >>> automaton_digest(file)[:12]
    'aadc6a84b98d'
    """
    return hashlib.sha256(read_bytes(path)).hexdigest()


def source_record(path: Path) -> dict[str, str]:
    """What a run records about the automaton it was trained on."""
    return {"automaton": str(path), DIGEST_KEY: automaton_digest(path)}


def write_source(folder: Path, path: Path) -> None:
    """Record in ``folder`` that its run is trained on the automaton file ``path`` (atomic)."""
    write_atomic(Path(folder) / SOURCE_FILE, json_text(source_record(path)) + "\n")


def read_source(folder: Path) -> dict | None:
    """The recorded automaton of a run folder (``source.json``, else ``run.json``); None when
    the run does not say."""
    for name in (SOURCE_FILE, RUN_FILE):
        path = Path(folder) / name
        if path.is_file():
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except ValueError as err:
                raise CliError(f"{path}: corrupt run file ({err})") from None
            if isinstance(record, dict) and isinstance(record.get(DIGEST_KEY), str):
                return record
    return None


def trained_on(folder: Path, path: Path) -> tuple[bool, str]:
    """Whether the run in ``folder`` was trained on the automaton file ``path``, and a sentence
    that says so (a match, another automaton, or unknown).

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.yaml").write_text("kind: dfa")
    >>> trained_on(folder, folder / "a.yaml")[0]
    False
    >>> write_source(folder, folder / "a.yaml")
    >>> trained_on(folder, folder / "a.yaml")
    (True, 'the run was trained on this automaton (same SHA-256)')
    """
    record = read_source(folder)
    if record is None:
        return False, (f"{folder} does not record which automaton it was trained on (a corpus "
                       f"run, or an older automimic): it cannot be checked that {path} is its "
                       "truth")
    digest = automaton_digest(path)
    if record[DIGEST_KEY] == digest:
        return True, "the run was trained on this automaton (same SHA-256)"
    return False, (f"{folder} was trained on another automaton ({record.get('automaton', '?')}, "
                   f"SHA-256 {record[DIGEST_KEY][:12]}…), not on {path} ({digest[:12]}…): the "
                   "model is measured against a truth it never saw")
