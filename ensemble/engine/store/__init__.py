"""The run store: one object (:class:`RunStore`) owns a store's layout, the workers' writes, compaction,
checksums, verification and repair, provenance and reading.  Nothing else in the engine opens zarr.

Imports run one way: the engine's execution imports the store; the store imports the pure blocking rule
(:mod:`ensemble.engine.blocking`); estimators take the arrays the store reads.
"""
from ensemble.engine.store.layout import LAYOUT, SHARDS_PER_CHUNK, STAGING, BLOCKS
from ensemble.engine.store.run_store import (RunStore, StoreCorruption, StoreError, check_store, create_or_resume,
                                             open_store, pending_pairs, same_counts, table_for)

__all__ = ["LAYOUT", "SHARDS_PER_CHUNK", "STAGING", "BLOCKS", "RunStore", "StoreCorruption", "StoreError",
           "check_store", "create_or_resume", "open_store", "pending_pairs", "same_counts", "table_for"]
