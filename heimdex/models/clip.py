"""CLIP-style image and text embeddings (open_clip) for the hub profile: frames, queries, zero-shot tags.

The hosted Space uses a multilingual model (``xlm-roberta-base-ViT-B-32`` trained
on LAION-5B) so Korean and English queries meet frames in one space. Offline
tests build the same code with random weights (``ViT-B-32``, packaged BPE
tokenizer) to check shapes, normalisation and batching, never quality.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from heimdex.models.base import ModelInfo, ModelSpec
from heimdex.models.gpu import on_gpu
from heimdex.models.types import normalize

BATCH = 32
PROMPT = "a photo of {}"
# Zero-shot vocabulary: what people search video moments for that detectors do not name.
ZERO_SHOT_TAGS = (
    "crying",
    "laughing",
    "smiling",
    "waving",
    "dancing",
    "singing",
    "hugging",
    "clapping",
    "running",
    "walking",
    "sitting",
    "standing",
    "eating",
    "drinking",
    "talking",
    "typing on a computer",
    "reading",
    "driving",
    "at night",
    "daytime",
    "indoors",
    "outdoors",
    "rain",
    "snow",
    "beach",
    "stage",
    "concert",
    "crowd",
    "classroom",
    "office",
    "kitchen",
    "street",
    "parking lot",
    "supermarket",
    "factory",
    "car",
    "red car",
    "water bottles",
    "fruit",
    "text on a screen",
    "a person",
    "a group of people",
    "a child",
    "a dog",
    "a cat",
)


class ClipModel:
    """An open_clip model: ``embed_images``, ``embed_texts`` and ``zero_shot``."""

    def __init__(self, info: ModelInfo, model, preprocess, tokenizer):
        import torch

        self.info = info
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self._model = model.to(self.device).eval()
        self._preprocess = preprocess
        self._tokenizer = tokenizer
        self._lock = threading.Lock()
        self._vocabulary: np.ndarray | None = None

    @on_gpu
    def _encode_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        import torch
        from PIL import Image

        batch = torch.stack([self._preprocess(Image.fromarray(image)) for image in images]).to(self.device)
        with torch.no_grad():
            return self._model.encode_image(batch).float().cpu().numpy()

    @on_gpu
    def _encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self._model.encode_text(self._tokenizer(list(texts)).to(self.device)).float().cpu().numpy()

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """L2-normalised rows for RGB frames."""
        with self._lock:
            rows = [self._encode_images(images[i : i + BATCH]) for i in range(0, len(images), BATCH)]
        return normalize(np.concatenate(rows)) if rows else np.zeros((0, self.info.width), np.float32)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised rows for queries or tag prompts."""
        with self._lock:
            rows = [self._encode_texts(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
        return normalize(np.concatenate(rows)) if rows else np.zeros((0, self.info.width), np.float32)

    def zero_shot(self, image_rows: np.ndarray, top_k: int = 5) -> list[list[tuple[str, float]]]:
        """For each image embedding, the most likely tags of :data:`ZERO_SHOT_TAGS` (softmax over the vocabulary)."""
        if self._vocabulary is None:
            self._vocabulary = self.embed_texts([PROMPT.format(tag) for tag in ZERO_SHOT_TAGS])
        logits = 100.0 * image_rows @ self._vocabulary.T
        probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        return [[(ZERO_SHOT_TAGS[i], float(row[i])) for i in np.argsort(row)[::-1][:top_k]] for row in probabilities]


def build_clip(info: ModelInfo, architecture: str, pretrained: str | None, cache_dir: Path | None = None) -> ClipModel:
    """An open_clip model; ``pretrained=None`` gives random weights (plumbing tests); downloads go to ``cache_dir``."""
    import open_clip

    model, _, preprocess = open_clip.create_model_and_transforms(
        architecture, pretrained=pretrained, cache_dir=str(cache_dir) if cache_dir else None
    )
    return ClipModel(info, model, preprocess, open_clip.get_tokenizer(architecture))


def hub_spec(architecture: str = "xlm-roberta-base-ViT-B-32", pretrained: str = "laion5b_s13b_b90k") -> ModelSpec:
    """The multilingual CLIP the hosted Space runs."""
    return ModelSpec(
        ModelInfo(
            "clip",
            architecture,
            pretrained,
            512,
            "MIT (open_clip), weights: LAION",
            f"hub:open_clip/{architecture}/{pretrained}",
        ),
        lambda spec, settings: build_clip(spec.info, architecture, pretrained, settings.models_path / "hub"),
    )
