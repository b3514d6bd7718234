"""Heimdex: privacy-first video moment search.

Wings, lowest first (``scripts/import_graph.py`` prints the arrows; nothing points up):
``errors``, ``config``, ``db``, ``storage`` and ``states`` are the foundation; ``telemetry`` logs and
counts; ``models`` are the adapters behind one registry; ``perception`` decides what a scene shows;
``library`` holds a user's videos, media, clips and people; ``auth``, ``pipeline`` and ``search`` act
on it; ``jobs`` run the pipeline; ``ops`` run Heimdex; ``app`` is who asks (sessions, operations,
web routes, CLI).
"""

__version__ = "0.1.0"
