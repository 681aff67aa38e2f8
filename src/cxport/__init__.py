"""cxport: the twelve analytics data exports of a messaging operation."""

__version__ = "0.1.0"
