"""How eval/media's drawn clips were composed from the pictures render.mjs drew (not run by the tests or CI).

    python eval/media/compose.py PICTURES OUT

Half-second shots of one or two pictures (transparent PNGs) on a flat, graded or simply drawn background,
640x360 at 24 fps, H.264 (CRF 24), each picture drifting a pixel a frame; the layout is seeded, so the same
pictures give the same clip.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import av
import cv2
import numpy as np

WIDTH, HEIGHT, FPS, SHOT = 640, 360, 24, 12  # frames a shot (half a second)
CLIPS = {  # clip: (styles, seed)
    "drawn-faces-a.mp4": (("adventurer", "avataaars", "big-ears", "big-smile", "croodles", "dylan", "facesjs"), 1),
    "drawn-faces-b.mp4": (
        ("lorelei", "micah", "miniavs", "notionists", "open-peeps", "personas", "pixel-art", "toon-head"),
        2,
    ),
    "emoji-faces.mp4": (("twemoji", "openmoji"), 3),
}


def _colour(rng: random.Random) -> np.ndarray:
    return np.array([rng.randrange(40, 250) for _ in range(3)], dtype=np.float32)


def background(rng: random.Random) -> np.ndarray:
    kind, first = rng.randrange(3), _colour(rng)
    if kind == 0:
        return np.tile(first, (HEIGHT, WIDTH, 1)).astype(np.uint8)
    second = _colour(rng)
    if kind == 1:
        share = np.linspace(0, 1, HEIGHT, dtype=np.float32)[:, None, None]
        return np.broadcast_to(first * (1 - share) + second * share, (HEIGHT, WIDTH, 3)).astype(np.uint8)
    image = np.tile(first, (HEIGHT, WIDTH, 1)).astype(np.uint8)
    image[int(HEIGHT * 0.65) :] = second.astype(np.uint8)  # the ground
    for _ in range(3):  # boxes with outlines
        x, y = rng.randrange(WIDTH), rng.randrange(HEIGHT // 2)
        w, h = rng.randrange(30, 120), rng.randrange(20, 80)
        cv2.rectangle(image, (x, y), (x + w, y + h), tuple(int(v) for v in _colour(rng)), -1)
        cv2.rectangle(image, (x, y), (x + w, y + h), (20, 20, 20), 2)
    return image


def paste(image: np.ndarray, picture: np.ndarray, x: int, y: int, size: int) -> None:
    picture = cv2.resize(picture, (size, int(size * picture.shape[0] / picture.shape[1])), interpolation=cv2.INTER_AREA)
    h, w = picture.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(WIDTH, x + w), min(HEIGHT, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    part = picture[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32)
    alpha = part[:, :, 3:4] / 255
    image[y0:y1, x0:x1] = (part[:, :, :3] * alpha + image[y0:y1, x0:x1] * (1 - alpha)).astype(np.uint8)


def _pictures(folder: Path) -> list[Path]:
    """A style's pictures in order: avatars (named by number) the first eight, emoji (named by code point) all."""
    found = list(folder.glob("*.png"))
    if all(p.stem.isdigit() for p in found):
        return sorted(found, key=lambda p: int(p.stem))[:8]
    return sorted(found)


def compose(pictures: Path, styles: tuple[str, ...], seed: int, out: Path) -> None:
    rng = random.Random(seed)
    paths = [path for style in styles for path in _pictures(pictures / style)]
    shots, i = [], 0
    while i < len(paths):
        n = 2 if rng.random() < 0.35 and i + 1 < len(paths) else 1
        shots.append(paths[i : i + n])
        i += n
    with av.open(str(out), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": "24", "preset": "medium"}
        for shot in shots:
            scene, placed = background(rng), []
            for k, path in enumerate(shot):
                size = rng.choice([110, 150, 200, 260]) if len(shot) == 1 else rng.choice([110, 150, 180])
                if len(shot) == 1:
                    x = rng.randrange(0, WIDTH - size)
                else:
                    x = rng.randrange(k * WIDTH // 2, k * WIDTH // 2 + WIDTH // 2 - size)
                y = rng.randrange(0, max(1, HEIGHT - size))
                read = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
                if read is None:
                    raise ValueError(f"not a picture: {path}")
                picture = cv2.cvtColor(read, cv2.COLOR_BGRA2RGBA)
                placed.append((picture, x, y, size, rng.choice([-1, 0, 1])))
            for frame in range(SHOT):
                image = scene.copy()
                for picture, x, y, size, drift in placed:
                    paste(image, picture, x + drift * frame, y, size)
                for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                    container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


if __name__ == "__main__":
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    for name, (styles, seed) in CLIPS.items():
        compose(source, styles, seed, target / name)
