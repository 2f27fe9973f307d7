"""inspector: a local capture endpoint, live tail and tracking-plan validator for Segment events."""

__version__ = "0.1.0"

__all__ = ["__version__"]
