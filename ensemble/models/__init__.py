"""Physical models.  The model named ``foo`` in a run spec is ``ensemble.models.foo.MODEL``."""
