"""Speech and text models on real media (offline profile)."""

import re

import numpy as np
import pytest

from eval.text_models import evaluate, load_pairs

pytestmark = pytest.mark.integration

JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate by edit distance."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[-1] / len(ref)


def test_jfk_is_transcribed_with_word_times(registry, media):
    transcript = registry.get("asr").transcribe(media / "jfk.flac")
    assert transcript.language == "en"
    assert wer(JFK, transcript.text) <= 0.10, transcript.text
    times = [(w.start, w.end) for w in transcript.words]
    assert times and all(0 <= start <= end <= 11.1 for start, end in times)
    assert [s for s, _ in times] == sorted(s for s, _ in times)
    country = [w for w in transcript.words if "country" in w.text.lower()]
    assert len(country) == 2 and country[0].start < 7 < country[1].start


def test_multilingual_audio_is_mostly_english(registry, media):
    transcript = registry.get("asr").transcribe(media / "multilingual.mp3")
    assert transcript.language == "en"
    text = transcript.text.lower()
    english = sum(
        w in {"the", "of", "and", "to", "software", "license", "or", "any", "for", "this"} for w in words(text)
    )
    assert english >= 15 and "license" in text


def test_forced_language_is_used(registry, media):
    transcript = registry.get("asr").transcribe(media / "jfk.flac", language="ko")
    assert transcript.language == "ko"
    assert transcript.segments and transcript.text


def test_text_embeddings_are_normalised(registry):
    embedder = registry.get("text")
    rows = embedder.embed_passages(["a red car at night", "밤에 빨간 자동차", ""])
    assert rows.shape == (3, embedder.info.dim) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows[:2], axis=1), 1, atol=1e-4)
    assert embedder.embed_queries([]).shape == (0, embedder.info.dim)


@pytest.mark.parametrize("model", ["use-m3", "e5-small"])
def test_bilingual_set_ranks_the_right_pair_first(model):
    from heimdex.config import get_settings
    from heimdex.models.text import OFFLINE

    spec = OFFLINE[model]
    scores = evaluate(spec.load(get_settings()), load_pairs())
    floor = {"use-m3": 0.95, "e5-small": 0.85}[model]  # the default must be the better one
    for task, (recall_at_1, mrr) in scores.items():
        assert recall_at_1 >= floor and mrr >= floor, (model, task, recall_at_1)


def test_the_default_text_model_is_the_one_the_eval_chose(registry):
    assert registry.info("text").name == "use-multilingual-v3"


def test_concurrent_queries_share_model_calls_and_get_their_own_rows(registry):
    """Queries that arrive while the model is busy are embedded together, each caller getting its own text's row."""
    import threading

    from heimdex.models.batching import Coalescer

    embedder = registry.get("text")
    texts = [
        f"query number {n}: {word}" for n, word in enumerate(["red car", "비상구", "a person walking", "keyboard"] * 5)
    ]
    alone = embedder.embed_passages(texts)
    calls, busy = [], threading.Event()

    def encode(batch: list[str]):
        calls.append(len(batch))
        busy.set()
        release.wait(5)  # the first call holds the model while the others arrive
        return embedder.embed_passages(batch)

    release = threading.Event()
    coalesce = Coalescer(encode)
    answers: dict[int, np.ndarray] = {}
    threads = [
        threading.Thread(target=lambda n=n: answers.__setitem__(n, coalesce([texts[n]]))) for n in range(len(texts))
    ]
    threads[0].start()
    busy.wait(5)
    for thread in threads[1:]:
        thread.start()
    while len(coalesce._waiting) < len(texts) - 1 and all(t.is_alive() for t in threads[1:]):
        threading.Event().wait(0.01)
    release.set()
    for thread in threads:
        thread.join(10)
    assert sorted(answers) == list(range(len(texts)))
    for n, row in answers.items():
        assert row.shape == (1, embedder.info.dim) and np.allclose(row[0], alone[n], atol=1e-5), n
    assert calls[0] == 1 and sum(calls) == len(texts) and len(calls) == 2  # the 19 who waited shared one call
