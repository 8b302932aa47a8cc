"""Reading input files that may be hostile: regular files only, never more than a cap.

A ``$ref`` may name ``/dev/zero``, a FIFO, a socket or a directory. Opening with
``O_NONBLOCK`` keeps a FIFO from blocking the open; ``fstat`` on the opened descriptor
then refuses anything but a regular file, and the read stops one byte past the cap, so a
file that grows while it is read cannot exhaust memory either.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MiB = 1024 * 1024
DEFAULT_MAX_FILE_SIZE = 64 * MiB


class UnreadableFile(Exception):
    """Why a file was not read, in words for a user (``missing`` when it does not exist)."""

    def __init__(self, reason: str, *, missing: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.missing = missing


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_regular_file(path: Path, max_size: int = DEFAULT_MAX_FILE_SIZE) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``max_size`` bytes."""
    try:
        before = os.stat(path)
    except FileNotFoundError:
        raise UnreadableFile("file not found", missing=True) from None
    except OSError as exc:
        raise UnreadableFile(f"cannot read file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(before.st_mode):
        raise UnreadableFile(
            f"is {_kind(before.st_mode)}, not a regular file; accessgen reads only regular files"
        )
    if before.st_size > max_size:
        raise UnreadableFile(
            f"is {before.st_size:,} bytes, more than the limit of {max_size:,} (see --max-file-size)"
        )
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UnreadableFile(f"cannot read file: {exc.strerror or exc}") from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):  # replaced between stat and open
            raise UnreadableFile(
                f"is {_kind(opened.st_mode)}, not a regular file; accessgen reads only regular files"
            )
        chunks: list[bytes] = []
        size = 0
        while size <= max_size:
            chunk = os.read(fd, min(max_size + 1 - size, MiB))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_size:
            raise UnreadableFile(
                f"is more than the limit of {max_size:,} bytes (see --max-file-size)"
            )
        return b"".join(chunks)
    except OSError as exc:
        raise UnreadableFile(f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def parse_size(text: str | int) -> int:
    """A size in bytes from ``123``, ``64MiB``, ``64M``, ``512KiB``, ``1GiB``; ValueError otherwise."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    elif isinstance(text, str):
        raw = text.strip().lower().replace(" ", "")
        units = {
            "gib": 1024**3,
            "g": 1024**3,
            "mib": MiB,
            "m": MiB,
            "kib": 1024,
            "k": 1024,
            "b": 1,
            "": 1,
        }
        for suffix in sorted(units, key=len, reverse=True):
            if (
                raw.endswith(suffix)
                and raw[: len(raw) - len(suffix)].isascii()
                and raw[: len(raw) - len(suffix)].isdigit()
            ):
                value = int(raw[: len(raw) - len(suffix)]) * units[suffix]
                break
        else:
            raise ValueError(f"{text!r} is not a size (examples: 64MiB, 512KiB, 1000000)")
    else:
        raise ValueError(f"{text!r} is not a size")
    if value <= 0:
        raise ValueError("a size must be positive")
    return value


def process_exists(pid: int) -> bool:
    """Whether a process ``pid`` exists (one we may not signal exists too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
