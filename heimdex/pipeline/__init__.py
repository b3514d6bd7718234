"""Indexing: a stored video becomes scenes, text, tags and vectors (one module per stage).

Order (see :mod:`heimdex.pipeline.run`): audio → transcribe, beside frames (shots and
keyframe candidates from one decode) → scenes → align → keyframes → ocr → visual →
embed; the caller commits (:mod:`heimdex.pipeline.commit`). :mod:`heimdex.pipeline.index`
is the document they fill, which is also the sidecar. Nothing here knows of jobs: a run
reports to :class:`Events` and returns, or raises :class:`StageFailed` or :class:`Cancelled`.
"""

from heimdex.pipeline.progress import Cancelled, Events, Quiet
from heimdex.pipeline.run import IndexReport, StageFailed, failure, index_video

__all__ = ["Cancelled", "Events", "IndexReport", "Quiet", "StageFailed", "failure", "index_video"]
