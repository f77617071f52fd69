"""One object per store, for as long as the store lives (the webhook retry timer): whichever
app serves a store shares it."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerStore(Generic[T]):
    """``of(store)`` gives the object made for ``store`` by ``factory``, made on first ask."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._made: weakref.WeakKeyDictionary[object, T] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def of(self, store: object) -> T:
        """The object of ``store``."""
        with self._lock:
            found = self._made.get(store)
            if found is None:
                found = self._made[store] = self._factory()
            return found
