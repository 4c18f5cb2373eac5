"""While an app serves, start-up objects are frozen out of the collector's scans and the young
generation is larger; both are undone when it stops."""

from __future__ import annotations

import gc

from shared.app import GC_GEN0_THRESHOLD, lean_gc


def test_lean_gc_freezes_then_restores() -> None:
    before = gc.get_threshold()
    with lean_gc():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (GC_GEN0_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
