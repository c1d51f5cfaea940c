"""Warning classes of deltalake."""


class ExperimentalWarning(Warning):
    """A feature used is experimental and may change."""
