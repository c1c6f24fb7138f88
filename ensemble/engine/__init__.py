"""Model-agnostic engine: specs, seeding, sharding, dask execution, zarr store, estimators."""
