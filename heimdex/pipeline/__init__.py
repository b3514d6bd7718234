"""Indexing: a stored video becomes scenes, text, tags and vectors (one module per stage).

Order (see :mod:`heimdex.pipeline.run`): audio → transcribe, beside frames (shots and
keyframe candidates from one decode) → scenes → align → keyframes → ocr → visual →
embed → commit. :mod:`heimdex.pipeline.index` is the document they fill, which is
also the sidecar.
"""

from heimdex.pipeline.run import IndexingFailed, IndexReport, JobCancelled, index_video

__all__ = ["IndexReport", "IndexingFailed", "JobCancelled", "index_video"]
