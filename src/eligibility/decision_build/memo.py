"""The decision builder's memos: bounded, written under a lock, read without it.

:func:`_memo` puts one entry into a dict memo, emptying it first when it is full;
:class:`IdentityMemo` keeps what was built from an immutable object by the object's
identity (holding the object, so its ``id()`` is not reused while the entry lives).
One builder's memos share its lock, so one builder serves many threads."""

from __future__ import annotations

import threading
from typing import Any

#: the most entries a memo written through :func:`_memo` keeps (emptied when full)
_MEMO_LIMIT = 4096


def _memo(lock: threading.Lock, store: dict[Any, Any], key: Any, value: Any,
          limit: int | None = None) -> Any:
    """``store[key] = value`` under ``lock``; a store at its limit is emptied first."""
    with lock:
        if len(store) >= (_MEMO_LIMIT if limit is None else limit):
            store.clear()
        store[key] = value
    return value



#: the most objects an identity memo keeps (see IdentityMemo)
_IDENTITY_LIMIT = 2048


class IdentityMemo:
    """What was built from an immutable object, found again by the object's identity.

    An entry holds the object itself beside the value, so the object lives as long as
    its entry and its ``id()`` cannot be taken by another object meanwhile; a look-up
    checks ``entry[0] is obj``. Bounded (emptied when full, at ``limit`` entries, by
    default :data:`_IDENTITY_LIMIT` when it fills); written under ``lock``, read without
    it (a dict read is atomic), so one memo serves many threads."""

    __slots__ = ("_lock", "entries", "limit")

    def __init__(self, lock: threading.Lock, limit: int | None = None) -> None:
        self._lock = lock
        self.limit = limit
        #: id(obj) → (obj, value), or (obj, *values) as :meth:`put_flat` keeps them (one
        #: tuple less per entry); read directly on the hot paths
        self.entries: dict[int, tuple[Any, ...]] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, obj: Any) -> Any:
        """The value kept for this very object, or None."""
        entry = self.entries.get(id(obj))
        return entry[1] if entry is not None and entry[0] is obj else None

    def put(self, obj: Any, value: Any) -> None:
        """Keep ``value`` for ``obj`` (and ``obj`` with it)."""
        self.put_flat((obj, value))

    def put_flat(self, entry: tuple[Any, ...]) -> None:
        """Keep ``entry`` — the object first, what was built from it after — for
        ``entry[0]``."""
        limit = _IDENTITY_LIMIT if self.limit is None else self.limit
        with self._lock:
            if len(self.entries) >= limit:
                self.entries.clear()
            self.entries[id(entry[0])] = entry

