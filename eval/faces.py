"""Faces eval: enroll two people from one photo each, then find them in the other shared clips.

    python -m eval.faces [--data DIR] [--json]

The clips of ``eval/sets/faces.json`` are indexed for the eval user (``--data`` keeps
them between runs). Before anyone is enrolled it reports the people clustering
suggests (how pure each suggestion is). Then Mina and Joon are enrolled from frames
of their own clips, and it reports, at the configured ``HEIMDEX_FACE_MATCH_DISTANCE``:

- per person, precision and recall over scenes (a scene of a clip they are in should be
  found; no other scene should) and over the faces detected;
- the faces of anybody else that were given an enrolled name (should be none);
- the same over frames: every face on a frame every 0.25 s (1 s in long clips), found as
  the faces stage finds them, given the name of the closest reference under the threshold;
- a sweep of the distance threshold over the indexed scenes and the frames, and the
  threshold it would choose: the middle of the range with the best recall where every
  measure has precision >= 0.95;
- what a search for each name returns.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from eval.library import MEDIA, open_library

SET = Path(__file__).resolve().parent / "sets" / "faces.json"
THRESHOLDS = [round(0.45 + 0.0125 * i, 4) for i in range(21)]
OTHER = "someone else"
UNITS = ("scene", "face", "frame")


def photos(truth: dict, folder: Path) -> dict[str, Path]:
    """Each enrolled person's photo: the frame named in the set, saved as a JPEG."""
    import cv2

    from heimdex.library.media import frame_at

    found = {}
    for name, source in truth["enroll"].items():
        found[name] = folder / f"{name}.jpg"
        cv2.imwrite(str(found[name]), cv2.cvtColor(frame_at(MEDIA / source["clip"], source["t"]), cv2.COLOR_RGB2BGR))
    return found


def identity(bands: dict, box, width: float) -> str:
    """Who a face is, by the band of the frame's width its centre lies in (see the set's 'about')."""
    x = (box[0] + box[2]) / 2 / width
    return next((name for name, (left, right) in bands.items() if left <= x < right), OTHER)


def frame_faces(truth: dict) -> list[dict]:
    """Faces on frames every 0.25 s (1 s past 30 s clips) of each clip, found as the pipeline finds them."""
    import av

    from heimdex.models.registry import get_registry

    analyzer, faces = get_registry().get("faces"), []
    for clip, bands in truth["clips"].items():
        with av.open(str(MEDIA / clip)) as container:
            stream = container.streams.video[0]
            step = 0.25 if float(container.duration or 0) / 1e6 <= 30 else 1.0
            due = 0.0
            for frame in container.decode(stream):
                if frame.time is None or frame.time < due:
                    continue
                due += step
                image = frame.to_ndarray(format="rgb24")
                for face in analyzer.find(image, people=2):
                    who = identity(bands, face.box, image.shape[1])
                    faces.append(
                        {
                            "id": len(faces),
                            "scene": f"{clip}@{frame.time:.2f}",
                            "clip": clip,
                            "who": who,
                            "descriptor": face.descriptor,
                            "quality": face.quality,
                        }
                    )
    return faces


def detection(truth: dict) -> dict[str, dict]:
    """Detection recall per clip of the set's 'detection' part (every 0.25 s; 1 s past 30 s): the share of labeled faces
    found (a face counts when a found face's centre lies in its band), for HOG alone (upright, as before
    BlazeFace) and for the faces model as the pipeline runs it; with the faces found outside every band."""
    import av

    from heimdex.models.faces import UPSAMPLE_UP_TO
    from heimdex.models.registry import get_registry

    analyzer = get_registry().get("faces")
    report = {}
    for clip, bands in truth["detection"]["clips"].items():
        counts = {"expected": 0, "hog": 0, "found": 0, "outside": 0}
        with av.open(str(MEDIA / clip)) as container:
            step = 0.25 if float(container.duration or 0) / 1e6 <= 30 else 1.0
            due = 0.0
            for frame in container.decode(video=0):
                if frame.time is None or frame.time < due:
                    continue
                due += step
                image = frame.to_ndarray(format="rgb24")
                width = image.shape[1]
                upsample = 1 if max(image.shape[:2]) <= UPSAMPLE_UP_TO else 0
                for key, faces in (
                    ("hog", analyzer.faces(image, upsample)),
                    ("found", analyzer.find(image, len(bands))),
                ):
                    hit = {identity(bands, face.box, width) for face in faces}
                    counts[key] += len(hit - {OTHER})
                    if key == "found":
                        counts["outside"] += sum(1 for face in faces if identity(bands, face.box, width) == OTHER)
                counts["expected"] += len(bands)
        report[clip] = {
            "faces": counts["expected"],
            "recall_hog": round(counts["hog"] / counts["expected"], 3) if counts["expected"] else None,
            "recall": round(counts["found"] / counts["expected"], 3) if counts["expected"] else None,
            "outside_bands": counts["outside"],
        }
    return report


def seen_faces(db, user_id, truth: dict) -> list[dict]:
    """Every face found in the user's scenes: its clip, scene, true identity, given name, descriptor."""
    from heimdex.pipeline.keyframes import ANALYSIS_SIDE

    with db.transaction() as conn:
        rows = conn.execute(
            """SELECT f.id, f.scene_id, v.filename, v.width, v.height, f.box, f.descriptor, p.name
               FROM faces f JOIN scenes s ON s.id = f.scene_id JOIN videos v ON v.id = s.video_id
               LEFT JOIN people p ON p.id = f.person_id WHERE f.user_id = %s ORDER BY f.id""",
            (user_id,),
        ).fetchall()
    faces = []
    for row in rows:
        width = row["width"] * min(1.0, ANALYSIS_SIDE / max(row["width"], row["height"]))  # the keyframe's width
        who = identity(truth["clips"].get(row["filename"], {}), row["box"], width)
        faces.append(
            {
                "id": row["id"],
                "scene": row["scene_id"],
                "clip": row["filename"],
                "who": who,
                "named": row["name"],
                "descriptor": row["descriptor"],
            }
        )
    return faces


def clip_scenes(db, user_id, truth: dict) -> dict[int, str]:
    """Scene id → clip, for the clips of the set."""
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT s.id, v.filename FROM scenes s JOIN videos v ON v.id = s.video_id WHERE s.user_id = %s", (user_id,)
        ).fetchall()
    return {row["id"]: row["filename"] for row in rows if row["filename"] in truth["clips"]}


def suggestions(db, user_id, faces: list[dict]) -> list[dict]:
    """The people clustering suggests, with the true identities of their faces."""
    from heimdex.library.people import list_people

    by_face = {face["id"]: face["who"] for face in faces}
    with db.transaction() as conn:
        members = conn.execute(
            "SELECT id, person_id FROM faces WHERE user_id = %s AND scene_id IS NOT NULL AND person_id IS NOT NULL",
            (user_id,),
        ).fetchall()
    report = []
    for person in list_people(db, user_id, suggested=True):
        who = Counter(by_face[m["id"]] for m in members if m["person_id"] == person.id)
        report.append(
            {
                "person_id": person.id,
                "scenes": person.scenes,
                "faces": dict(who),
                "purity": round(max(who.values()) / sum(who.values()), 3) if who else None,
            }
        )
    return report


def scores(predicted: dict[str, set], truth: dict[str, set]) -> dict[str, dict]:
    """Precision and recall per name of predicted against true sets (of scenes or faces)."""
    out = {}
    for name, true in truth.items():
        got = predicted.get(name, set())
        hits = len(got & true)
        out[name] = {
            "precision": round(hits / len(got), 3) if got else None,
            "recall": round(hits / len(true), 3) if true else None,
            "found": len(got),
            "true": len(true),
        }
    return out


def scene_truth(scenes: dict[int, str], truth: dict) -> dict[str, set]:
    return {name: {sid for sid, clip in scenes.items() if name in truth["clips"][clip]} for name in truth["enroll"]}


def face_truth(faces: list[dict], names) -> dict[str, set]:
    return {name: {face["id"] for face in faces if face["who"] == name} for name in names}


def predictions(faces: list[dict], names: list[str | None]) -> tuple[dict[str, set], dict[str, set]]:
    """(scenes, faces) given each name, from each face's given name (``names``, parallel to ``faces``)."""
    scenes, ids = {}, {}
    for face, name in zip(faces, names):
        if name:
            scenes.setdefault(name, set()).add(face["scene"])
            ids.setdefault(name, set()).add(face["id"])
    return scenes, ids


def references(db, user_id) -> tuple[list[str], np.ndarray]:
    """The enrolled people's reference faces: owner names and descriptors."""
    from heimdex.library.people.identity import matrix

    with db.transaction() as conn:
        rows = conn.execute(
            """SELECT p.name, f.descriptor FROM faces f JOIN people p ON p.id = f.person_id
               WHERE f.user_id = %s AND f.scene_id IS NULL AND p.name IS NOT NULL""",
            (user_id,),
        ).fetchall()
    return [row["name"] for row in rows], matrix([row["descriptor"] for row in rows])


def named_at(faces: list[dict], owners: list[str], refs: np.ndarray, threshold: float) -> list[str | None]:
    """Each face's name at ``threshold``: its closest reference's owner, if closer than that."""
    from heimdex.library.people.identity import matrix, nearest

    index, distance = nearest(matrix([f["descriptor"] for f in faces]), refs)
    return [owners[i] if d < threshold else None for i, d in zip(index, distance)]


def sweep(faces: list[dict], frames: list[dict], scenes: dict[int, str], truth: dict, owners, refs) -> list[dict]:
    """Precision/recall (all enrolled people together) over indexed scenes, their faces, and frames, at each threshold."""

    def total(got: dict, true: dict) -> tuple[float, float]:
        hits = sum(len(got.get(n, set()) & true[n]) for n in true)
        found, wanted = sum(len(v) for v in got.values()), sum(len(v) for v in true.values())
        return (round(hits / found, 3) if found else 1.0), (round(hits / wanted, 3) if wanted else 1.0)

    frame_truth = face_truth(frames, truth["enroll"])
    table = []
    for threshold in THRESHOLDS:
        got_scenes, got_faces = predictions(faces, named_at(faces, owners, refs, threshold))
        _, got_frames = predictions(frames, named_at(frames, owners, refs, threshold))
        row = {"threshold": threshold}
        row["scene_precision"], row["scene_recall"] = total(got_scenes, scene_truth(scenes, truth))
        row["face_precision"], row["face_recall"] = total(got_faces, face_truth(faces, truth["enroll"]))
        row["frame_precision"], row["frame_recall"] = total(got_frames, frame_truth)
        table.append(row)
    return table


def clustering(frames: list[dict], enrolled: list[str]) -> list[dict]:
    """How frame faces cluster at each clustering distance: clusters, purity, clusters per enrolled person, faces left
    out. As in the pipeline, only faces clear enough to start a suggestion (``MIN_CLUSTER_QUALITY``) are clustered."""
    from heimdex.library.people.identity import clusters, matrix
    from heimdex.library.people.matching import MIN_CLUSTER_QUALITY

    frames = [f for f in frames if f["quality"] >= MIN_CLUSTER_QUALITY]
    descriptors, table = matrix([f["descriptor"] for f in frames]), []
    for distance in (0.4, 0.45, 0.5, 0.55, 0.6):
        labels = clusters(descriptors, distance)
        groups = [Counter(f["who"] for f, label in zip(frames, labels) if label == k) for k in set(labels) - {-1}]
        clustered = sum(sum(g.values()) for g in groups)
        table.append(
            {
                "distance": distance,
                "clusters": len(groups),
                "purity": round(sum(max(g.values()) for g in groups) / clustered, 3) if clustered else None,
                "clusters_per_person": {
                    name: sum(1 for g in groups if g.most_common(1)[0][0] == name) for name in enrolled
                },
                "unclustered": round(1 - clustered / len(frames), 3) if frames else None,
            }
        )
    return table


SPLIT = {"tune": ("Joon", "bald man with glasses"), "holdout": ("Mina", "blonde woman with glasses")}


def by_people(frames: list[dict]) -> dict:
    """Re-identification with thresholds chosen on some people and reported on others (``SPLIT``).

    Each labeled person is enrolled from their first clip: from one face (the clearest on their
    first frame), then from three (the clearest three of that clip, as a track keeps them or as
    "Is this also ...?" adds them). Every other frame face is named after the closest reference
    under a threshold. The threshold is chosen on the tune people by :func:`choose`'s rule (the
    middle of the best recall at precision >= 0.95), then precision and recall are reported on the
    held-out people, whom the choice never saw. Likewise the clustering distance: the largest with
    purity >= 0.95 over clusters of tune people, then the held-out people's purity at it.
    """
    from heimdex.config import get_settings
    from heimdex.library.people.identity import clusters, matrix

    people = [name for group in SPLIT.values() for name in group]
    report: dict = {"split": {g: list(v) for g, v in SPLIT.items()}, "configured": get_settings().face_match_distance}
    for count in (1, 3):
        refs, owners = [], []
        for name in people:
            mine = sorted((f for f in frames if f["who"] == name), key=lambda f: f["scene"])
            first = [f for f in mine if f["clip"] == mine[0]["clip"]]
            pool = first if count > 1 else [f for f in first if f["scene"] == mine[0]["scene"]]
            chosen = sorted(pool, key=lambda f: -f["quality"])[:count]
            refs += chosen
            owners += [name] * len(chosen)
        table = [{"threshold": t, **_named_by(frames, refs, owners, t)} for t in THRESHOLDS]
        safe = [r for r in table if r["tune"]["precision"] >= 0.95] or table[:1]
        best = max(r["tune"]["recall"] for r in safe)
        tied = [r for r in safe if r["tune"]["recall"] == best]
        chosen_row = tied[len(tied) // 2]
        report[f"references_{count}"] = {
            "chosen": chosen_row["threshold"],
            "at_chosen": {g: chosen_row[g] for g in SPLIT},
            "at_configured": _named_by(frames, refs, owners, report["configured"]),
            "table": table,
        }
    descriptors = matrix([f["descriptor"] for f in frames])
    purity = []
    for d in (0.4, 0.45, 0.5, 0.55, 0.6):
        labels = clusters(descriptors, d)
        groups = [Counter(f["who"] for f, lab in zip(frames, labels) if lab == k) for k in set(labels) - {-1}]
        row: dict = {"distance": d}
        for g, group in SPLIT.items():
            mine = [c for c in groups if c.most_common(1)[0][0] in group]
            total = sum(sum(c.values()) for c in mine)
            row[g] = round(sum(c.most_common(1)[0][1] for c in mine) / total, 3) if total else None
        purity.append(row)
    pure = [r["distance"] for r in purity if (r["tune"] or 0) >= 0.95]
    report["clustering"], report["cluster_chosen"] = purity, max(pure) if pure else None
    return report


def _named_by(frames: list[dict], refs: list[dict], owners: list[str], threshold: float) -> dict:
    """Precision and recall per group of ``SPLIT`` when every face but the references is named at ``threshold``."""
    from heimdex.library.people.identity import matrix, nearest

    taken = {r["id"] for r in refs}
    queries = [f for f in frames if f["id"] not in taken]
    index, distance = nearest(matrix([f["descriptor"] for f in queries]), matrix([r["descriptor"] for r in refs]))
    named = [owners[i] if d < threshold else None for i, d in zip(index, distance)]
    result = {}
    for g, group in SPLIT.items():
        hits = sum(1 for f, n in zip(queries, named) if n in group and n == f["who"])
        found = sum(1 for n in named if n in group)
        true = sum(1 for f in queries if f["who"] in group)
        result[g] = {
            "precision": round(hits / found, 3) if found else 1.0,
            "recall": round(hits / true, 3),
            "faces": true,
        }
    return result


def choose(table: list[dict]) -> float:
    """The middle of the thresholds with the best recall where scenes, their faces and frames all have precision >= 0.95."""
    safe = [row for row in table if min(row[f"{unit}_precision"] for unit in UNITS) >= 0.95]
    if not safe:
        return table[0]["threshold"]
    best = max(sum(row[f"{unit}_recall"] for unit in UNITS) for row in safe)
    tied = [row["threshold"] for row in safe if sum(row[f"{unit}_recall"] for unit in UNITS) == best]
    return tied[len(tied) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="keep the indexed library in this folder")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    truth = json.loads(SET.read_text())
    db, user_id = open_library(
        data=args.data, only=set(truth["clips"]), echo=lambda line: None if args.json else print(line)
    )

    from heimdex.config import get_settings
    from heimdex.library.people import delete_person, enroll, list_people
    from heimdex.models.registry import get_registry
    from heimdex.search import search
    from heimdex.storage import get_blob_store

    store = get_blob_store(get_settings())
    for person in list_people(db, user_id):  # a kept library starts again from nobody enrolled
        delete_person(db, store, user_id, person.id)
    report = {"threshold": get_settings().face_match_distance, "detection": detection(truth)}
    scenes = clip_scenes(db, user_id, truth)
    report["suggested"] = suggestions(db, user_id, seen_faces(db, user_id, truth))
    with tempfile.TemporaryDirectory() as folder:
        for name, photo in photos(truth, Path(folder)).items():
            enroll(db, store, user_id, name, [photo], get_registry().get("faces"))
    faces = seen_faces(db, user_id, truth)
    got_scenes, got_faces = predictions(faces, [face["named"] for face in faces])
    report["scenes"] = scores(got_scenes, scene_truth(scenes, truth))
    report["faces"] = scores(got_faces, face_truth(faces, truth["enroll"]))
    others = [face for face in faces if face["who"] not in truth["enroll"]]
    report["others_named"], report["others_seen"] = sum(1 for face in others if face["named"]), len(others)
    owners, refs = references(db, user_id)
    frames = frame_faces(truth)
    _, got_frames = predictions(frames, named_at(frames, owners, refs, report["threshold"]))
    report["frames"] = scores(got_frames, face_truth(frames, truth["enroll"]))
    named = named_at(frames, owners, refs, report["threshold"])
    report["frame_others_named"] = sum(
        1 for face, name in zip(frames, named) if face["who"] not in truth["enroll"] and name
    )
    report["frame_others_seen"] = sum(1 for face in frames if face["who"] not in truth["enroll"])
    report["sweep"] = sweep(faces, frames, scenes, truth, owners, refs)
    report["clustering"] = clustering(frames, list(truth["enroll"]))
    report["by_people"] = by_people(frames)
    report["chosen_threshold"] = choose(report["sweep"])
    report["search"] = {
        name: sorted({m.filename for m in search(db, user_id, name).moments}) for name in truth["enroll"]
    }
    print(json.dumps(report, indent=2) if args.json else render(report))


def render(report: dict) -> str:
    lines = ["detection recall (every 0.25 s; HOG alone → BlazeFace + HOG):"]
    lines += [
        f"  {clip}: {d['faces']} faces, {d['recall_hog']} → {d['recall']} ({d['outside_bands']} found outside the labels)"
        for clip, d in report["detection"].items()
    ]
    lines.append(f"suggested people before enrollment: {len(report['suggested'])}")
    lines += [
        f"  #{s['person_id']}: {s['scenes']} scene(s), faces {s['faces']}, purity {s['purity']}"
        for s in report["suggested"]
    ]
    lines.append(f"at threshold {report['threshold']}:")
    for unit in ("scenes", "faces", "frames"):
        for name, s in report[unit].items():
            lines.append(
                f"  {name:<5} {unit:<6} precision {s['precision']}  recall {s['recall']}  ({s['found']} found, {s['true']} true)"
            )
    lines.append(f"  faces of anybody else given an enrolled name: {report['others_named']} of {report['others_seen']}")
    lines.append(
        f"  faces on frames of anybody else given an enrolled name: {report['frame_others_named']} of {report['frame_others_seen']}"
    )
    lines.append("threshold  " + "  ".join(f"{unit} P  {unit} R" for unit in UNITS))
    lines += [
        "  "
        + f"{r['threshold']:.4f}   "
        + "  ".join(f"{r[unit + '_precision']:7.3f}  {r[unit + '_recall']:7.3f}" for unit in UNITS)
        for r in report["sweep"]
    ]
    lines.append(f"chosen threshold (middle of the best recall at precision >= 0.95): {report['chosen_threshold']}")
    lines.append(f"clustering of frame faces (any '{OTHER}' counts as one identity):")
    lines += [
        f"  distance {c['distance']}: {c['clusters']} clusters, purity {c['purity']}, per person {c['clusters_per_person']}, "
        f"left out {c['unclustered']}"
        for c in report["clustering"]
    ]
    lines += [f"search {name!r}: {clips}" for name, clips in report["search"].items()]
    split = report["by_people"]
    lines.append(
        f"re-identification split by people: tune {split['split']['tune']}, held out {split['split']['holdout']}"
    )
    for count in (1, 3):
        part = split[f"references_{count}"]
        for label, threshold, at in (
            ("chosen on tune", part["chosen"], part["at_chosen"]),
            ("configured", split["configured"], part["at_configured"]),
        ):
            lines.append(
                f"  {count} reference(s) each, threshold {threshold} ({label}): "
                + ", ".join(f"{g} P {m['precision']} R {m['recall']} ({m['faces']} faces)" for g, m in at.items())
            )
    lines += [
        f"  cluster distance {r['distance']}: purity tune {r['tune']}, held out {r['holdout']}"
        for r in split["clustering"]
    ]
    lines.append(f"  cluster distance chosen on tune (largest with purity >= 0.95): {split['cluster_chosen']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
