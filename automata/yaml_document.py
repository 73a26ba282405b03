"""YAML text to plain Python data that remembers where every field was written, with limits that
refuse alias bombs and deep nesting before anything is expanded."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import FormatError

MAX_NODES = 2_000_000  # YAML nodes after alias expansion: bounds "billion laughs" files
MAX_DEPTH = 64
Path_ = tuple[str, ...]
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml parses ~10× faster


class TextInt(int):
    """An integer read from YAML that remembers its text, so ``010`` stays the label "010"."""

    text: str


@dataclass
class Document:
    """Plain Python data read from YAML, with the position of every field."""

    data: Any
    file: str
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    text: str = ""

    def source_token(self, path: Path_) -> str | None:
        """The text written at ``path`` in the file (e.g. ``on`` where YAML read a boolean)."""
        if path not in self.marks or not self.text:
            return None
        line, column = self.marks[path]
        rest = self.text.splitlines()[line - 1][column - 1:]
        return re.split(r"[,\]}:#\s]", rest, maxsplit=1)[0] or None

    def error(self, path: Path_, problem: str) -> FormatError:
        """A FormatError located at ``path`` (or at its closest located parent)."""
        for depth in range(len(path), -1, -1):
            if path[:depth] in self.marks:
                line, column = self.marks[path[:depth]]
                return FormatError(problem, field=".".join(path), file=self.file, line=line,
                                   column=column)
        return FormatError(problem, field=".".join(path), file=self.file)


def parse(text: str, file: str) -> Document:
    """The located data of the YAML ``text`` read from ``file``; FormatError on anything that is not
    one bounded YAML document."""
    if not text.strip():
        raise FormatError("the file is empty (expected a YAML mapping with kind, alphabet, ...)",
                          file=file)
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.reader.ReaderError as error:  # a character YAML refuses: no mark, find it
        raise _unreadable_character(text, file, error.character) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = f"invalid YAML: {getattr(error, 'problem', None) or error}"
        if mark is None:
            raise FormatError(problem, file=file) from None
        raise FormatError(problem, file=file, line=mark.line + 1, column=mark.column + 1) from None
    except RecursionError:
        raise FormatError(f"the document is nested too deeply (limit {MAX_DEPTH} levels)",
                          file=file) from None
    if node is None:
        raise FormatError("the file holds no YAML document (expected a mapping with kind, "
                          "alphabet, ...)", file=file)
    if "*" in text and _expanded_size(node, 0, {}) > MAX_NODES:  # no "*", no alias
        raise FormatError(f"the document is too large or too deep after alias expansion "
                          f"(limit {MAX_NODES} nodes, depth {MAX_DEPTH})", file=file,
                          line=node.start_mark.line + 1, column=node.start_mark.column + 1)
    document = Document(data=None, file=file, text=text)
    document.data = _convert(node, (), document, [0])
    return document


def _unreadable_character(text: str, file: str, character: int | str) -> FormatError:
    """The located error for the first ``character`` (a code) of ``text``, which YAML refuses."""
    code = character if isinstance(character, int) else ord(character)
    where = text.find(chr(code))
    if where < 0:
        return FormatError(f"invalid YAML: character U+{code:04X} is not allowed", file=file)
    line = text.count("\n", 0, where) + 1
    column = where - text.rfind("\n", 0, where)
    escape = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return FormatError(f"invalid YAML: control character U+{code:04X} is not allowed (inside "
                       f"double quotes, write it as {escape})", file=file, line=line,
                       column=column)


def _expanded_size(node: yaml.Node, depth: int, sizes: dict[int, int]) -> int:
    """Nodes after alias expansion (capped just above MAX_NODES), counted on the composed graph
    with memoisation, so an alias bomb is refused before anything is expanded."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    too_many = MAX_NODES + 1
    if depth > MAX_DEPTH:
        return too_many
    sizes[id(node)] = too_many  # an alias inside its own anchor expands forever
    if isinstance(node, yaml.MappingNode):
        children = [value for _, value in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = node.value
    else:
        children = []
    total = 1
    for child in children:
        total = min(total + _expanded_size(child, depth + 1, sizes), too_many)
    sizes[id(node)] = total
    return total


def _convert(node: yaml.Node, path: Path_, document: Document, count: list[int]) -> Any:
    count[0] += 1
    if count[0] > MAX_NODES or len(path) > MAX_DEPTH:
        raise document.error(path, f"the document is too large or too deep after alias expansion "
                                   f"(limit {MAX_NODES} nodes, depth {MAX_DEPTH})")
    if path not in document.marks:  # a mapping's values are located at their keys
        document.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag != _PLAIN[type(node)]:
        what = "mapping" if isinstance(node, yaml.MappingNode) else "list"
        raise document.error(path, f"cannot read a {what} tagged {_short(node.tag)!r} (expected "
                                   "a plain one: remove the tag)")
    if isinstance(node, yaml.MappingNode):
        return _convert_mapping(node, path, document, count)
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (str(i),), document, count) for i, item in enumerate(node.value)]
    return _scalar(node, path, document)


def _convert_mapping(node: yaml.MappingNode, path: Path_, document: Document,
                     count: list[int]) -> dict:
    result: dict = {}
    names: set[str] = set()
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise document.error(path, "a mapping key must be a plain value, not a list or mapping")
        key = _scalar(key_node, path, document)
        name = key_text(key)
        if name in names:
            document.marks[path + (name,)] = (key_node.start_mark.line + 1,
                                              key_node.start_mark.column + 1)
            raise document.error(path + (name,), f"duplicate key {name!r}")
        document.marks[path + (name,)] = (key_node.start_mark.line + 1,
                                          key_node.start_mark.column + 1)
        names.add(name)
        result[key] = _convert(value_node, path + (name,), document, count)
    return result


def _scalar(node: yaml.ScalarNode, path: Path_, document: Document) -> Any:
    if node.tag == _TEXT:  # most scalars: names, read as they are written
        return node.value
    try:
        if node.tag not in _SCALAR_TAGS:  # !!map, !!seq, !!set, !!python/object, ...
            raise ValueError(node.tag)
        value = _CONSTRUCTOR.construct_object(node)
    except (yaml.YAMLError, ValueError, TypeError, KeyError, AttributeError, OverflowError):
        # e.g. "!!bool dfa" (a KeyError) or "!!timestamp x" (an AttributeError)
        raise FormatError(f"cannot read {node.value!r} tagged {_short(node.tag)!r} (expected "
                          "plain text, a number or a boolean)", field=".".join(path),
                          file=document.file, line=node.start_mark.line + 1,
                          column=node.start_mark.column + 1) from None
    if isinstance(value, int) and not isinstance(value, bool):
        labelled = TextInt(value)
        labelled.text = node.value
        return labelled
    return value


_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_TEXT = "tag:yaml.org,2002:str"
_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in
                         ("str", "int", "float", "bool", "null", "timestamp", "binary"))
_PLAIN = {yaml.MappingNode: "tag:yaml.org,2002:map", yaml.SequenceNode: "tag:yaml.org,2002:seq"}


def _short(tag: str) -> str:
    """A YAML tag as written: ``!!bool`` for ``tag:yaml.org,2002:bool``."""
    return tag.replace("tag:yaml.org,2002:", "!!", 1)


def key_text(key: Any) -> str:
    """A mapping key as text (an integer key keeps the digits it was written with)."""
    return key.text if isinstance(key, TextInt) else str(key)

