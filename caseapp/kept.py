"""Figures that take seconds on a large city's cases, kept a while by each process, so
reloading a page or downloading its sheet does not compute them again (issue 19). Each
process keeps its own; a kept answer says when it was computed."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Kept(Generic[T]):
    value: T
    kept_at: float  # the clock's reading when it was computed


class Keeper(Generic[T]):
    """At most ``size`` answers by key, each good for ``max_age_seconds`` (0: never kept)."""

    def __init__(self, size: int = 32, clock: Callable[[], float] = time.monotonic) -> None:
        self._size = size
        self._clock = clock
        self._kept: OrderedDict[Hashable, Kept[T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, max_age_seconds: float, compute: Callable[[], T]) -> T:
        now = self._clock()
        with self._lock:
            kept = self._kept.get(key)
            if max_age_seconds > 0 and kept is not None and now - kept.kept_at <= max_age_seconds:
                self._kept.move_to_end(key)
                return kept.value
        fresh = compute()  # outside the lock: a slow computation holds up no other key
        if max_age_seconds > 0:
            with self._lock:
                self._kept[key] = Kept(fresh, now)
                self._kept.move_to_end(key)
                while len(self._kept) > self._size:
                    self._kept.popitem(last=False)
        return fresh

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
