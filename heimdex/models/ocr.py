"""On-screen text: RapidOCR (PP-OCR, Latin and Chinese) with Tesseract for Hangul.

RapidOCR's detector finds text boxes, first on a frame scaled to 480 px (about
0.03 s, :meth:`ScreenTextReader.glance`): a frame without text stops there. Otherwise
detection runs again at 960 px for the real boxes. Each box is recognised by RapidOCR; a box it reads poorly (Korean, which
its recogniser does not know) goes to Tesseract (``kor+eng``), cropped, enlarged
and binarised to dark text on white, which is what Tesseract reads best. Tesseract
is the library (``tesserocr``), loaded once: the ``tesseract`` program would load its
language data again for every line (0.4 s a line against 0.03 s).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from heimdex.models.base import ModelInfo, ModelSpec, WeightFile, WeightsError
from heimdex.models.types import TextLine

TRUST_RAPID = 0.85  # a RapidOCR line at least this sure is kept as it is
MAX_LINE_HEIGHT = 0.25  # boxes taller than this share of the frame are not lines of text
MIN_CONFIDENCE = 0.6  # lines below this, from either reader, are dropped
TESSERACT_LANGS = "kor+eng"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
WORD_CHARS = re.compile(r"\w")
EDGE_NOISE = " '\"`|_~‘’“”"  # marks Tesseract reads into the edges of a text band


TESSDATA = (  # where Debian (and others) put Tesseract's language data; $TESSDATA_PREFIX comes first
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)


def tessdata(langs: Sequence[str]) -> Path | None:
    """The first folder that holds every one of ``langs``' ``.traineddata``."""
    folders = [os.environ["TESSDATA_PREFIX"]] if os.environ.get("TESSDATA_PREFIX") else []
    for folder in map(Path, folders + list(TESSDATA)):
        if all((folder / f"{lang}.traineddata").is_file() for lang in langs):
            return folder
    return None


@dataclass(frozen=True)
class DebianTesseract:
    """Tesseract's language data, from Debian's packages (checked, not pinned by hash); the engine is tesserocr's."""

    langs: tuple[str, ...] = ("kor", "eng")

    def verify(self, settings: object = None) -> None:
        if tessdata(self.langs) is None:
            names = " ".join(f"tesseract-ocr-{lang}" for lang in self.langs)
            raise WeightsError(f"Tesseract has no data for {'+'.join(self.langs)}. Install it: apt-get install {names}")


class Tesseract:
    """One Tesseract engine, loaded once, reading single lines of text (one caller at a time)."""

    def __init__(self, langs: Sequence[str] = ("kor", "eng")):
        import tesserocr

        folder = tessdata(langs)
        if folder is None:
            raise WeightsError(f"Tesseract has no data for {'+'.join(langs)}.")
        self._api = tesserocr.PyTessBaseAPI(path=f"{folder}/", lang="+".join(langs), psm=tesserocr.PSM.SINGLE_LINE)
        self._word = tesserocr.RIL.WORD
        self._iterate = tesserocr.iterate_level
        self._lock = threading.Lock()

    def words(self, binary: np.ndarray) -> list[tuple[str, float, int, int, int]]:
        """The words Tesseract reads on one line (H×W uint8): text, confidence 0..100, left, width and height."""
        from PIL import Image

        with self._lock:
            self._api.SetImage(Image.fromarray(binary))
            self._api.Recognize()
            words, found = [], self._api.GetIterator()
            for word in self._iterate(found, self._word) if found is not None else ():
                if word.Empty(self._word):  # nothing read on the line
                    continue
                text, confidence = (word.GetUTF8Text(self._word) or "").strip(), word.Confidence(self._word)
                if text and confidence >= 0:
                    left, top, right, bottom = word.BoundingBox(self._word)
                    words.append((text, float(confidence), left, right - left, bottom - top))
            return words


class ScreenTextReader:
    """``read(image)`` → the text lines on an RGB frame, with confidences."""

    def __init__(self, info: ModelInfo, glance_side: int = 480, max_side: int = 960, threads: int = 2):
        self.info = info
        self._glance = _engine(glance_side, threads)  # detection only: is there any text at all?
        self._engine = _engine(max_side, threads)
        self._tesseract = Tesseract()
        self._lock = threading.Lock()

    def glance(self, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Where ``image`` (H×W×3 RGB uint8) may have text: the detector's boxes on a copy scaled to 480 px (about
        0.03 s), in the image's pixels; none when it has no text."""
        with self._lock:
            found: Any = self._glance(image, use_det=True, use_cls=False, use_rec=False)  # types vary by step
        return [] if found.boxes is None else [_bounds(points, image.shape) for points in found.boxes]

    def read(self, image: np.ndarray, glanced: Sequence[tuple[int, int, int, int]] | None = None) -> list[TextLine]:
        """Text lines on ``image`` (H×W×3 RGB uint8), top to bottom; ``glanced``: its :meth:`glance`, if taken."""
        if glanced is None:
            glanced = self.glance(image)
        if not glanced:
            return []
        lines = []
        for line in self._rapid_lines(image):
            if line.confidence < TRUST_RAPID and _holds_a_word(line.box):
                line = max(
                    (line, _tesseract_line(self._tesseract, image, line.box)),
                    key=lambda candidate: candidate.confidence,
                )
            if len(WORD_CHARS.findall(line.text)) >= 2 and line.confidence >= MIN_CONFIDENCE:
                lines.append(line)
        return sorted(lines, key=lambda line: (line.box[1], line.box[0]))

    def _rapid_lines(self, image: np.ndarray) -> list[TextLine]:
        """RapidOCR's reading of every text box (however unsure), found again at 960 px.

        Boxes are read one by one: RapidOCR's own pipeline drops the boxes its
        recogniser cannot read (Korean, for its Latin-Chinese model), and those are
        exactly the ones Tesseract must see.
        """
        with self._lock:
            found: Any = self._engine(image, use_det=True, use_cls=False, use_rec=False)
            if found.boxes is None:
                return []
            lines = []
            for points in found.boxes:
                box = _bounds(points, image.shape)
                left, top, right, bottom = box
                if bottom - top > MAX_LINE_HEIGHT * image.shape[0]:  # a region, not a line of text
                    continue
                read: Any = self._engine(
                    image[top:bottom, left:right], use_det=False, use_cls=False, use_rec=True
                )  # screen text is upright
                text, score = (read.txts[0].strip(), float(read.scores[0])) if read.txts else ("", 0.0)
                lines.append(TextLine(text, score, box, "rapidocr"))
        return lines


def _holds_a_word(box: tuple[int, int, int, int]) -> bool:
    """Whether a box is wide enough for two characters (a dot or a lone digit is not worth Tesseract)."""
    left, top, right, bottom = box
    return right - left >= 1.5 * (bottom - top)


def _engine(max_side: int, threads: int):
    """A RapidOCR engine that scales a frame's longer side down to ``max_side`` (never up)."""
    from rapidocr import RapidOCR

    return RapidOCR(
        params={
            "Global.log_level": "critical",
            "Det.limit_type": "max",
            "Det.limit_side_len": max_side,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        }
    )


def _bounds(points: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    height, width = shape[:2]
    return max(0, int(x0)), max(0, int(y0)), min(width, int(x1)), min(height, int(y1))


def _tesseract_line(tesseract: Tesseract, image: np.ndarray, box: tuple[int, int, int, int], pad: int = 6) -> TextLine:
    """Tesseract's reading of one text box (empty with confidence 0 when it reads nothing)."""
    import cv2

    left, top, right, bottom = box
    crop = image[max(0, top - pad) : bottom + pad, max(0, left - pad) : right + pad]
    gray = cv2.resize(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if binary.mean() < 128:  # light text on a dark band: invert to dark on light
        binary = 255 - binary
    words = tesseract.words(binary)
    if not words:
        return TextLine("", 0.0, box, "tesseract")
    text = _join_words(words).strip(EDGE_NOISE)
    return TextLine(text, sum(w[1] for w in words) / len(words) / 100, box, "tesseract")


def _join_words(words: list[tuple[str, float, int, int, int]]) -> str:
    """Join Tesseract's words, without the spaces it inserts between Hangul syllables of one word."""
    text = words[0][0]
    for (prev, _, left, width, height), (word, _, next_left, _, _) in zip(words, words[1:]):
        gap = next_left - (left + width)
        tight = HANGUL.search(prev[-1]) and HANGUL.search(word[0]) and gap < 0.35 * height
        text += ("" if tight else " ") + word
    return text


OFFLINE = ModelSpec(
    ModelInfo(
        "ocr",
        "rapidocr-ppocrv6-small+tesseract-kor",
        "rapidocr-3.10.0",
        None,
        "Apache-2.0",
        "pypi:rapidocr+debian:tesseract-ocr-kor",
    ),
    lambda spec, settings: ScreenTextReader(spec.info, threads=settings.lane_threads),
    (
        WeightFile(
            "rapidocr",
            "rapidocr",
            "models/PP-OCRv6_det_small.onnx",
            "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f",
        ),
        WeightFile(
            "rapidocr",
            "rapidocr",
            "models/PP-OCRv6_rec_small.onnx",
            "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884",
        ),
        WeightFile(
            "rapidocr",
            "rapidocr",
            "models/ch_ppocr_mobile_v2.0_cls_mobile.onnx",
            "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
        ),
        DebianTesseract(),
    ),
)
