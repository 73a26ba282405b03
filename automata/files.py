"""Files: read text with a size limit and one clear error; write atomically."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from .errors import FormatError

MAX_BYTES = 16 * 1024 * 1024  # larger files are refused before parsing


def read_text(source: str | os.PathLike, what: str = "YAML") -> str:
    """The text of a file, with the size limit and one clear error for a missing, unreadable,
    binary or non-UTF-8 file."""
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise FormatError(f"the file is too large ({size} bytes, limit {MAX_BYTES})",
                              file=str(path))
        raw = path.read_bytes()
    except IsADirectoryError:
        raise FormatError(f"is a directory, expected a {what} file", file=str(path)) from None
    except FileNotFoundError:
        raise FormatError("no such file", file=str(path)) from None
    except PermissionError:
        raise FormatError("permission denied", file=str(path)) from None
    except OSError as error:
        raise FormatError(f"cannot read the file ({error.strerror})", file=str(path)) from None
    return decode(raw, str(path), what)


def decode(raw: bytes, file: str, what: str = "YAML") -> str:
    """``raw`` as UTF-8 text (a byte-order mark dropped); FormatError for binary or other bytes."""
    if b"\x00" in raw:
        raise FormatError(f"this is a binary file, expected {what} text", file=file)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FormatError(f"not UTF-8 text (byte {error.start})", file=file) from None


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file in the same folder and a rename.

    The file gets the usual permissions (those of the file it replaces, else 0o666 less the
    umask); errors name ``path``, never the temporary file.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory, expected a file name", str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise NotADirectoryError(errno.ENOTDIR, "cannot create its folder: a file is in the "
                                 "way", str(path)) from None
    mode = "wb" if isinstance(content, bytes) else "w"
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                             suffix=".tmp")
    except OSError as error:
        raise type(error)(error.errno, error.strerror, str(path)) from None
    try:
        with os.fdopen(handle, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as out:
            out.write(content)
        os.chmod(temporary, _file_mode(path))
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError) and error.filename == temporary:
            raise type(error)(error.errno, error.strerror, str(path)) from None
        raise


def _file_mode(path: Path) -> int:
    """The mode of the file ``path`` replaces, else what ``open`` would give a new file."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask
