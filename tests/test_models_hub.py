"""Hub-profile plumbing, offline: real open_clip and sentence-transformers code on random weights.

These check shapes, normalisation, batching and prefixes; they say nothing of quality.
"""

import numpy as np
import pytest

from heimdex.library.media import frame_at
from heimdex.models.base import ModelInfo
from heimdex.models.clip import BATCH, ZERO_SHOT_TAGS, build_clip
from heimdex.models.profiles import PROFILES
from heimdex.models.text import SentenceTransformerEmbedder

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def clip():
    info = ModelInfo("clip", "ViT-B-32", "random-init", 512, "MIT", "test")
    return build_clip(info, "ViT-B-32", pretrained=None)


def test_clip_embeds_frames_and_queries(clip, media):
    frames = [frame_at(media / "bottle-detection.mp4", t) for t in (0.5, 5.0, 10.0)]
    images = clip.embed_images(frames * 14)  # 42 frames: more than one batch
    assert len(frames) * 14 > BATCH
    assert images.shape == (42, 512) and images.dtype == np.float32
    assert np.allclose(np.linalg.norm(images, axis=1), 1, atol=1e-4)
    assert np.allclose(images[:3], clip.embed_images(frames), atol=1e-4)  # batching changes nothing
    texts = clip.embed_texts(["water bottles on a table", "밤에 빨간 자동차"])
    assert texts.shape == (2, 512) and np.allclose(np.linalg.norm(texts, axis=1), 1, atol=1e-4)


def test_clip_zero_shot_tags(clip, media):
    rows = clip.embed_images([frame_at(media / "classroom.mp4", 1.0)])
    [tags] = clip.zero_shot(rows, top_k=5)
    assert len(tags) == 5 and all(tag in ZERO_SHOT_TAGS for tag, _ in tags)
    probabilities = [p for _, p in tags]
    assert probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1.0001


@pytest.fixture(scope="module")
def tiny_sentence_transformer(tmp_path_factory):
    """A randomly initialised two-layer BERT saved and loaded the way a hub model is."""
    from sentence_transformers import SentenceTransformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-st")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "query", "passage", ":", "red", "car", "night", "at"]
    BertTokenizerFast(vocab={word: i for i, word in enumerate(vocab)}).save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    BertModel(config).save_pretrained(folder)
    return SentenceTransformer(str(folder), device="cpu")


def test_sentence_transformer_prefixes_and_normalises(tiny_sentence_transformer):
    info = ModelInfo("text", "intfloat/multilingual-e5-base", "test", 32, "MIT", "test")
    embedder = SentenceTransformerEmbedder(info, model=tiny_sentence_transformer)
    query = embedder.embed_queries(["red car at night"])
    passage = embedder.embed_passages(["red car at night"])
    assert query.shape == passage.shape == (1, 32)
    assert np.allclose(np.linalg.norm(query, axis=1), 1, atol=1e-4)
    raw = tiny_sentence_transformer.encode(["query: red car at night"])
    assert np.allclose(query[0], raw[0] / np.linalg.norm(raw[0]), atol=1e-5)
    assert not np.allclose(query, passage)  # e5 models see different prefixes
    bge = SentenceTransformerEmbedder(
        ModelInfo("text", "BAAI/bge-m3", "test", 32, "MIT", "test"), tiny_sentence_transformer
    )
    assert np.allclose(bge.embed_queries(["red car"]), bge.embed_passages(["red car"]))


def test_hub_profile_swaps_in_the_larger_models(settings):
    hub = PROFILES["hub"](settings)
    assert hub["asr"].info.source == "hub:Systran/faster-whisper-small"
    assert hub["text"].info.name == "BAAI/bge-m3" and hub["text"].info.dim == 1024
    assert hub["clip"].info.name == "xlm-roberta-base-ViT-B-32"
    assert hub["ocr"] is PROFILES["offline"](settings)["ocr"]
