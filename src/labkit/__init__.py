"""labkit: ten recent ML research systems as tested, fast tools."""

__version__ = "0.1.0"
