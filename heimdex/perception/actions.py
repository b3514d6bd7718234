"""What a person does, read from their body over the frames of a scene: rules over BlazePose points.

A person is one face followed through a scene (a track). Each frame where the face was
seen gives a :class:`Glimpse`: the face box, the body under it, its hands and the face's
expression. Distances are measured in face heights, so the rules hold at any size.
Frames are about a second apart, too far apart to see a hand's swing, so motion is read
as change between frames: a hand held up in several frames at different places is
waving; held up in the same place, raised.

Each action is a :class:`~heimdex.perception.tags.Tag` whose source names the evidence.
Dancing is not guessed: nothing here tells dancing from other movement honestly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heimdex.models.types import ANKLE, ELBOW, HIP, KNEE, SHOULDER, WRIST, Body, Hand, Tag

ACTIONS = (
    "waving", "raising a hand", "pointing", "clapping", "covering face", "crying",
    "hugging", "sitting", "standing", "walking", "running",
)  # fmt: skip
UP_ABOVE_SHOULDER = 0.6  # a hand is up when the wrist is this many face heights above its shoulder
WAVE_SPREAD = 0.5  # ... and waving when, up in several frames, it is this far from where it was
TOGETHER = 0.7  # clapping: wrists this close in one frame ...
APART = 1.2  # ... and this far apart (both at chest height) in another
NEAR_FACE = 0.25  # covering the face: a hand inside the face box grown by this share of its height
SAD = 0.5  # the expression model's confidence that a face is sad
SURE_FACE = 0.7  # detector score of a face whose covering is believed (lower ones are often hair or clothes)
SITTING_THIGH = 50.0  # degrees from vertical: a thigh this flat is a seated one
STANDING_LEG = 25.0  # a leg this close to vertical, the knee well below the hip, stands
WALKING = 0.8  # face heights a second the face moves when walking (over three frames at least) ...
GROWING = 0.3  # ... or the share a second it grows or shrinks by (walking towards or away)
RUNNING = 6.0  # face heights a second when running
HUG_DISTANCE = 1.6  # two faces this close (face heights) with an arm across the other


@dataclass(frozen=True)
class Glimpse:
    """One frame of one person: where the face was, the body and hands under it, and the expression."""

    t: float
    face: tuple[int, int, int, int]
    score: float = 1.0  # the face detector's
    body: Body | None = None
    hands: tuple[Hand | None, Hand | None] = (None, None)  # the person's left, right
    sad: float = 0.0  # the expression model's confidence that the face is sad

    @property
    def unit(self) -> float:
        return max(1.0, float(self.face[3] - self.face[1]))

    @property
    def centre(self) -> np.ndarray:
        return np.array([(self.face[0] + self.face[2]) / 2, (self.face[1] + self.face[3]) / 2])

    def point(self, index: int) -> np.ndarray | None:
        """A body point in face heights from the face's centre (None when not seen)."""
        if self.body is None or not self.body.seen(index):
            return None
        return (self.body.points[index] - self.centre) / self.unit


def track_actions(track: list[Glimpse], others: list[list[Glimpse]] = ()) -> list[Tag]:  # pyright: ignore[reportArgumentType]
    """The actions of one person (``track``, in time order); ``others`` are the tracks of the people beside them."""
    found: list[Tag] = []
    for rule in (_hands_up, _pointing, _clapping, _covering_face, _legs, _moving):
        found += rule(track)
    sad = max((g.sad for g in track), default=0.0)
    if sad >= SAD and any(tag.tag == "covering face" for tag in found):
        found.append(Tag("crying", round(0.5 * sad + 0.3, 3), "expression: sad + hands to the face"))
    found += _hugging(track, others)
    return found


def _hands_up(track: list[Glimpse]) -> list[Tag]:
    """Waving (a hand up in several frames, at different places) or raising a hand (up, still)."""
    for side in (0, 1):
        spots = []
        for g in track:
            wrist, shoulder = g.point(WRIST[side]), g.point(SHOULDER[side])
            if wrist is not None and shoulder is not None and shoulder[1] - wrist[1] >= UP_ABOVE_SHOULDER:
                if not _in_face(g, wrist):
                    spots.append(wrist - shoulder)
        if len(spots) >= 2 and float(np.ptp(np.array(spots)[:, 0])) >= WAVE_SPREAD:
            return [Tag("waving", min(0.9, 0.5 + 0.15 * len(spots)), "pose: hand up, moving side to side")]
        if spots:
            return [Tag("raising a hand", min(0.85, 0.55 + 0.1 * len(spots)), "pose: wrist above the shoulder")]
    return []


def _pointing(track: list[Glimpse]) -> list[Tag]:
    """An index finger out while the other fingers are folded (hand landmarks)."""
    for g in track:
        for side, hand in enumerate(g.hands):
            if hand is not None and _points(hand):
                straight = _arm_straight(g, side)
                return [Tag("pointing", 0.75 if straight else 0.6, "hands: index finger out, others folded")]
    return []


def _clapping(track: list[Glimpse]) -> list[Tag]:
    """Both hands at chest height, together in one frame and apart in another."""
    together = apart = 0
    for g in track:
        left, right = g.point(WRIST[0]), g.point(WRIST[1])
        shoulders = [g.point(i) for i in SHOULDER]
        if left is None or right is None or any(s is None for s in shoulders):
            continue
        chest = max(s[1] for s in shoulders if s is not None)
        if min(left[1], right[1]) < chest - 0.2 or max(left[1], right[1]) > chest + 2.5:
            continue
        gap = float(np.linalg.norm(left - right))
        together += gap <= TOGETHER
        apart += gap >= APART
    if together and apart:
        return [
            Tag("clapping", min(0.8, 0.5 + 0.1 * (together + apart)), "pose: hands meeting and parting at the chest")
        ]
    return []


def _covering_face(track: list[Glimpse]) -> list[Tag]:
    """A hand (the hand model's points, not a guessed wrist) over a face the detector is sure of."""
    frames = sum(
        g.score >= SURE_FACE
        and any(hand is not None and _in_face(g, (hand.points.mean(0) - g.centre) / g.unit) for hand in g.hands)
        for g in track
    )
    if frames:
        return [Tag("covering face", min(0.8, 0.5 + 0.15 * frames), "hands: a hand over the face")]
    return []


def _legs(track: list[Glimpse]) -> list[Tag]:
    """Sitting (thighs flat) or standing (legs straight down), by a majority of the frames that show legs."""
    sitting = standing = 0
    for g in track:
        for side in (0, 1):
            hip, knee, ankle = g.point(HIP[side]), g.point(KNEE[side]), g.point(ANKLE[side])
            if hip is None or knee is None:
                continue
            thigh = _from_vertical(knee - hip)
            if thigh >= SITTING_THIGH or knee[1] - hip[1] < 0.6:
                sitting += 1
            elif (
                ankle is not None
                and knee[1] - hip[1] >= 1.2
                and max(thigh, _from_vertical(ankle - knee)) <= STANDING_LEG
            ):
                standing += 1
    if sitting > standing:
        return [Tag("sitting", min(0.85, 0.5 + 0.1 * sitting), "pose: thighs level")]
    if standing > sitting:
        return [Tag("standing", min(0.85, 0.5 + 0.1 * standing), "pose: legs straight under the hips")]
    return []


def _moving(track: list[Glimpse]) -> list[Tag]:
    """Walking or running: the face crossing the frame (in face heights a second) or growing and shrinking."""
    speeds = []
    for a, b in zip(track, track[1:]):
        dt = b.t - a.t
        if dt <= 0:
            continue
        across = float(np.linalg.norm(b.centre - a.centre)) / ((a.unit + b.unit) / 2) / dt
        nearer = abs(float(np.log(b.unit / a.unit))) / dt / GROWING * WALKING
        speeds.append(max(across, nearer))
    if len(speeds) < 2 or float(np.median(speeds)) < WALKING:
        return []
    speed = float(np.median(speeds))
    if speed >= RUNNING:
        return [Tag("running", 0.6, "face track: moving fast")]
    return [Tag("walking", min(0.8, 0.5 + 0.1 * len(speeds)), "face track: moving")]


def _hugging(track: list[Glimpse], others: list[list[Glimpse]]) -> list[Tag]:
    """Two people's faces side by side at the same moment, one's arm reaching past the other's face."""
    for other in others:
        at = {round(g.t, 2): g for g in other}
        for g in track:
            o = at.get(round(g.t, 2))
            if o is not None and float(np.linalg.norm(o.centre - g.centre)) <= HUG_DISTANCE * (g.unit + o.unit) / 2:
                if _arm_around(g, o) or _arm_around(o, g):
                    return [Tag("hugging", 0.6, "pose: faces together, an arm around the other")]
    return []


def _arm_around(a: Glimpse, b: Glimpse) -> bool:
    """Whether a wrist of ``a`` lies past the centre of ``b``'s face, seen from ``a``."""
    towards = float(np.sign(b.centre[0] - a.centre[0]))
    wrists = [a.body.points[WRIST[s]] for s in (0, 1) if a.body is not None and a.body.seen(WRIST[s])]
    return towards != 0 and any((w[0] - b.centre[0]) * towards > 0 for w in wrists)


def _in_face(g: Glimpse, point: np.ndarray) -> bool:
    """Whether a point (face heights from the face's centre) lies on the face, grown by ``NEAR_FACE``."""
    half_w = (g.face[2] - g.face[0]) / g.unit / 2 + NEAR_FACE
    return abs(float(point[0])) <= half_w and abs(float(point[1])) <= 0.5 + NEAR_FACE


def _points(hand: Hand) -> bool:
    """Index finger out, middle, ring and little fingers folded (tips nearer the wrist than the knuckles' reach)."""
    p = hand.points

    def reach(tip: int, knuckle: int) -> float:
        return float(np.linalg.norm(p[tip] - p[0])) / max(1.0, float(np.linalg.norm(p[knuckle] - p[0])))

    return reach(8, 5) >= 1.6 and all(reach(tip, knuckle) <= 1.2 for tip, knuckle in ((12, 9), (16, 13), (20, 17)))


def _arm_straight(g: Glimpse, side: int) -> bool:
    shoulder, elbow, wrist = g.point(SHOULDER[side]), g.point(ELBOW[side]), g.point(WRIST[side])
    if shoulder is None or elbow is None or wrist is None:
        return False
    a, b = shoulder - elbow, wrist - elbow
    cos = float(a @ b) / max(1e-6, float(np.linalg.norm(a) * np.linalg.norm(b)))
    return cos <= -0.85  # about 150 degrees or straighter


def _from_vertical(v: np.ndarray) -> float:
    return float(np.degrees(np.arctan2(abs(float(v[0])), abs(float(v[1])) + 1e-6)))
