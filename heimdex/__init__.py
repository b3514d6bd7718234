"""Heimdex: privacy-first video moment search.

Data flows media → ingest → pipeline → db/storage → search → app; each step is a
module or package here.
"""

__version__ = "0.1.0"
