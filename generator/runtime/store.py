"""Token stores: where a session keeps its tokens between runs and shares them between processes.

A :class:`~.session.Session` given ``store=`` loads its token set from the store,
saves every new token set there before anyone uses it, and deletes it on
:meth:`~.session.Session.revoke`. Around each refresh it holds the store's lock
and first reads the store again: when another process has just refreshed, the
session takes that process's token set instead of spending the shared refresh
token a second time (with rotation, the second refresh would end the session).

:class:`FileTokenStore` keeps the token set in one JSON file, written with mode
0600 by atomic replacement, and locks with ``fcntl.flock`` on a side file
``<path>.lock``. Where ``fcntl`` is missing (Windows), the lock covers the threads
of one process only: several processes sharing one file may then refresh at once.
Any object with the methods of :class:`TokenStore` works as a store.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from .errors import SessionError
from .tokens import InvalidTokenResponseError, TokenSet, TokenSetLike

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["FileTokenStore", "TokenStore", "TokenStoreError"]


class TokenStoreError(SessionError):
    """The token store could not be read or written (unreadable file, bad content, no space).

    The message names the store's path, never a token.
    """


class TokenStore(Protocol):
    """Where a session keeps its token set (see :class:`FileTokenStore`).

    ``load`` returns the stored token set or ``None``; ``save`` replaces it (a
    reader never sees half a write); ``delete`` removes it (no error when absent);
    ``lock`` is a context manager excluding every other holder of the same store,
    across processes where the store can: the session holds it around each refresh.
    """

    def load(self) -> TokenSetLike | None: ...

    def save(self, token_set: TokenSetLike) -> None: ...

    def delete(self) -> None: ...

    def lock(self) -> AbstractContextManager[object]: ...


_process_locks_guard = threading.Lock()
_process_locks: dict[str, threading.Lock] = {}


def _process_lock(path: str) -> threading.Lock:
    with _process_locks_guard:
        return _process_locks.setdefault(path, threading.Lock())


class FileTokenStore:
    """A token set in a JSON file, shared by every session and process that names the file.

    The file (and its ``<path>.lock`` side file) is created with mode 0600; missing
    parent folders are created with mode 0700. Writes go to a temporary file in the
    same folder, flushed to disk, then renamed over the old one. The lock is an
    advisory ``fcntl.flock`` on the side file, which is never deleted (deleting a
    lock file lets two processes lock two different files). Network file systems
    may not honour ``flock``: keep the file on a local disk.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path).expanduser().absolute()
        self._lock_path = self._path.with_name(self._path.name + ".lock")
        # flock excludes other open files, even in this process; this lock also
        # covers platforms without fcntl, within one process.
        self._thread_lock = _process_lock(str(self._path))

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self._path)!r})"

    @property
    def path(self) -> Path:
        return self._path

    def load(self) -> TokenSet | None:
        """The stored token set, or ``None`` when the file does not exist."""
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TokenStoreError(
                f"cannot read the token store {self._path}: {type(exc).__name__}"
            ) from None
        try:
            data: Any = json.loads(text)
            return TokenSet.from_response(data)
        except (ValueError, InvalidTokenResponseError):
            raise TokenStoreError(
                f"the token store {self._path} does not hold a token set; "
                "delete it and sign in again"
            ) from None

    def save(self, token_set: TokenSetLike) -> None:
        """Replace the stored token set atomically; the file has mode 0600."""
        text = json.dumps(TokenSet.coerce(token_set).to_dict())
        self._ensure_folder()
        handle, temporary = tempfile.mkstemp(
            prefix=f".{self._path.name}.", suffix=".tmp", dir=self._path.parent
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, 0o600)  # mkstemp creates 0600; an odd umask cannot widen it
            os.replace(temporary, self._path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise TokenStoreError(
                f"cannot write the token store {self._path}: {type(exc).__name__}"
            ) from None
        self._sync_folder()

    def delete(self) -> None:
        """Remove the stored token set (nothing happens when there is none)."""
        try:
            self._path.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise TokenStoreError(
                f"cannot delete the token store {self._path}: {type(exc).__name__}"
            ) from None
        self._sync_folder()

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive access to the store, across processes where ``fcntl`` exists."""
        with self._thread_lock:
            if fcntl is None:  # pragma: no cover - Windows
                yield
                return
            self._ensure_folder()
            try:
                descriptor = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise TokenStoreError(
                    f"cannot open the lock file {self._lock_path}: {type(exc).__name__}"
                ) from None
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                yield
            finally:
                os.close(descriptor)  # closing releases the lock

    def _ensure_folder(self) -> None:
        try:
            self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise TokenStoreError(
                f"cannot create the folder of the token store {self._path}: "
                f"{type(exc).__name__}"
            ) from None

    def _sync_folder(self) -> None:
        # The rename is durable once the folder's entry is on disk too.
        try:
            descriptor = os.open(self._path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(descriptor)
        except OSError:
            pass
        finally:
            os.close(descriptor)
