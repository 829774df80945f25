"""The package's version; pyproject.toml holds the same (a unit test checks)."""

__version__ = "0.1.0"
