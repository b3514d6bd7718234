"""Command line: ``python -m heimdex COMMAND``.

Exit codes: 0 ok, 2 bad input (the reason on stderr), 1 internal error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from heimdex.config import get_settings
from heimdex.errors import BadInput, HeimdexError


def _db():
    from heimdex.db import get_database

    return get_database()


def _store():
    from heimdex.storage import get_blob_store

    return get_blob_store(get_settings())


def _user(email: str):
    from heimdex.auth.users import get_user_by_email

    return get_user_by_email(_db(), email)


def _owner(args: argparse.Namespace):
    """The user a command naming a video acts for: ``--user``, or the video's owner (an operator naming it by id)."""
    from heimdex.auth.users import get_user
    from heimdex.library.videos import load_video, parse_video_id

    return _user(args.user) if args.user else get_user(_db(), load_video(_db(), parse_video_id(args.video_id)).user_id)


def _video(args: argparse.Namespace):
    from heimdex.library.videos import get_video, parse_video_id

    return get_video(_db(), _owner(args).id, parse_video_id(args.video_id))


def _print_json(value: object) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def cmd_db_migrate(args: argparse.Namespace) -> int:
    from heimdex.db.migrate import applied

    with _db().transaction() as conn:  # opening the database applies pending migrations
        names = applied(conn)
    print(f"schema up to date: {', '.join(names)}")
    return 0


def cmd_db_rebuild_graph(args: argparse.Namespace) -> int:
    import psycopg

    from heimdex.db import resolve_url
    from heimdex.db.vectors import rebuild_stale_indexes

    _db()  # opening the database applies pending migrations first
    with psycopg.connect(resolve_url(get_settings()), autocommit=True) as conn:
        if args.memory:  # the graph built in memory: several times faster than on disk
            try:
                conn.execute("SELECT set_config('maintenance_work_mem', %s, false)", (args.memory,))
            except psycopg.errors.DataError as exc:
                raise BadInput(
                    "bad_memory", f"--memory {args.memory!r} is not a size PostgreSQL reads (say 2GB)."
                ) from exc
        rebuilt = rebuild_stale_indexes(conn)
    print(f"rebuilt: {', '.join(rebuilt)}" if rebuilt else "every vector index is built with today's settings")
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    from heimdex.auth.users import create_user

    user = create_user(_db(), args.email, args.password, args.name or "")
    print(user.id)
    return 0


def _tier_lines(found) -> list[str]:
    from heimdex.library.media import format_bytes

    return [
        f"  videos kept:          {found.videos}",
        f"  minutes of video:     {found.minutes:g}",
        f"  searches per minute:  {found.searches_per_minute}",
        f"  public links on:      {found.public_links}",
        f"  largest data export:  {format_bytes(found.export_bytes)}",
    ]


def cmd_users_tier(args: argparse.Namespace) -> int:
    from heimdex.auth.accounts import audit
    from heimdex.library.quotas import TIERS, tier

    name = args.tier.strip().lower()
    if name not in TIERS:
        raise BadInput("unknown_tier", f"There is no tier {args.tier!r}; the tiers are {', '.join(TIERS)}.")
    user = _user(args.email)
    with _db().transaction() as conn:
        row = conn.execute("SELECT tier FROM users WHERE id = %s FOR UPDATE", (user.id,)).fetchone()
        if row is None:
            raise BadInput("user_not_found", f"No user {user.email}.")
        was = row["tier"]
        if was != name:
            conn.execute("UPDATE users SET tier = %s WHERE id = %s", (name, user.id))
    if was == name:
        print(f"{user.email} is already on {name}:")
    else:
        audit(_db(), user.id, "tier_changed", tier=name, was=was, by="operator")
        print(f"{user.email}: {was} -> {name}")
    print("\n".join(_tier_lines(tier(name))))
    return 0


def cmd_users_tiers(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from heimdex.library.quotas import TIERS, tier

    tiers = [tier(name) for name in TIERS]  # with the operator's overrides from the environment
    if args.json:
        _print_json([asdict(found) for found in tiers])
        return 0
    for found in tiers:
        print(found.name)
        print("\n".join(_tier_lines(found)))
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from heimdex.library.ingest import ingest

    path = Path(args.file)
    if not path.is_file():
        raise BadInput("file_not_found", f"No such file: {args.file}")
    user = _user(args.user)
    with path.open("rb") as source:
        result = ingest(_db(), _store(), get_settings(), user.id, source, path.name, args.title, args.language)
    if not result.created:
        print(f"already in the library as {result.video.title!r}", file=sys.stderr)
    print(result.video.id)
    return 0


class _StderrProgress:
    """Events for a run at the command line: progress lines on stderr (Ctrl-C stops it)."""

    def progress(self, stage: str, fraction: float) -> None:
        print(f"[{fraction:6.1%}] {stage}", file=sys.stderr, flush=True)

    def stop_requested(self) -> bool:
        return False


def _print_index(report, as_json: bool) -> None:
    if as_json:
        _print_json(report.summary())
        return
    for scene in report.index.scenes:
        said = f'  "{scene.transcript[:60]}"' if scene.transcript else ""
        print(f"{scene.start_s:8.2f}-{scene.end_s:8.2f}s{said}")
    took = f" in {report.timings_s['total']:.1f} s" if "total" in report.timings_s else ""
    print(f"{report.video.id}  indexed: {len(report.index.scenes)} scenes{took}")


def cmd_index(args: argparse.Namespace) -> int:
    from heimdex.jobs.runner import index_now
    from heimdex.library.ingest import ingest
    from heimdex.pipeline.restore import current_index

    path = Path(args.file)
    if not path.is_file():
        raise BadInput("file_not_found", f"No such file: {args.file}")
    user = _user(args.user)
    with path.open("rb") as source:
        video = ingest(_db(), _store(), get_settings(), user.id, source, path.name, args.title, args.language).video
    if args.enqueue:
        from heimdex.jobs.queue import DeferredQueue, enqueue

        queue = None if get_settings().redis_url else DeferredQueue()
        enqueue(_db(), video.id, queue=queue)
        if queue is not None:
            print("queued; with no REDIS_URL the app (python app.py) indexes it when it starts", file=sys.stderr)
        print(video.id)
        return 0
    if video.state == "indexed" and video.index_run:
        print(f"already indexed as {video.title!r}", file=sys.stderr)
        report = current_index(_store(), video)
    else:
        report = index_now(_db(), _store(), video.id, watch=_StderrProgress())
    _print_index(report, args.json)
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    from heimdex.jobs.runner import index_now
    from heimdex.pipeline.restore import restore_index

    video = _video(args)
    if args.from_sidecar:
        report = restore_index(_db(), _store(), video)
    else:
        report = index_now(_db(), _store(), video.id, watch=_StderrProgress())
    _print_index(report, args.json)
    return 0


def cmd_videos_export(args: argparse.Namespace) -> int:
    from heimdex.pipeline.restore import export_index

    sys.stdout.buffer.write(export_index(_store(), _video(args)))
    sys.stdout.buffer.write(b"\n")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from heimdex.app import core

    found = core.search(
        _user(args.user),
        args.query,
        args.limit,
        args.video,
        tuple(args.channel or ()),
        args.person,
        args.page,
        language=args.language,
    )
    if args.json:
        _print_json(found)
        return 0
    moments = found["moments"]
    for moment in moments:
        why = ", ".join(f"{channel} {score:.2f}" for channel, score in moment["channels"].items())
        print(f"{moment['score']:5.2f}  {moment['title']}  {moment['start_s']:7.2f}-{moment['end_s']:7.2f}s  ({why})")
        for snippet in (moment["transcript_snippet"], moment["ocr_snippet"]):
            if snippet:
                print(f"       {snippet}")
    if not moments:
        print("no matching moments", file=sys.stderr)
    return 0


def cmd_videos_show(args: argparse.Namespace) -> int:
    from heimdex.app import core

    shown = core.video_status(_owner(args), args.video_id)
    if args.json:
        _print_json(shown)
    else:
        for key, value in shown.items():
            print(f"{key:>12}: {value}")
    return 0


def cmd_videos_cancel(args: argparse.Namespace) -> int:
    from heimdex.app import core

    state = core.cancel(_owner(args), args.video_id)
    print("cancelled" if state == "cancelled" else "cancelling: the job stops at its next heartbeat")
    return 0


def cmd_people_add(args: argparse.Namespace) -> int:
    from heimdex.library.people import enroll
    from heimdex.models.registry import get_registry

    photos = [Path(p) for p in args.photos]
    missing = [str(p) for p in photos if not p.is_file()]
    if missing:
        raise BadInput("file_not_found", f"No such file: {', '.join(missing)}")
    person = enroll(_db(), _store(), _user(args.user).id, args.name, photos, get_registry().get("faces"))
    print(f"{person.name}: {person.photos} photo(s), seen in {person.scenes} scene(s)")
    return 0


def cmd_people_list(args: argparse.Namespace) -> int:
    from heimdex.library.people import list_people

    people = list_people(_db(), _user(args.user).id, suggested=args.suggested)
    if args.json:
        _print_json([person.summary() for person in people])
        return 0
    for person in people:
        print(
            f"{person.id:>5}  {person.name or '(unnamed)':<24} {person.photos} face(s) kept, {person.scenes} scene(s)"
        )
    return 0


def cmd_people_edit(args: argparse.Namespace) -> int:
    from heimdex.library import people

    db, user_id = _db(), _user(args.user).id
    if args.people_command == "rename":
        changed = [people.rename_person(db, user_id, args.person_id, args.name)]
    elif args.people_command == "merge":
        changed = [people.merge_people(db, user_id, args.person_id, args.other_id)]
    elif args.people_command == "split":
        changed = list(people.split_person(db, user_id, args.person_id))
    else:
        people.delete_person(db, _store(), user_id, args.person_id)
        changed = []
    for person in changed:
        print(
            f"{person.id:>5}  {person.name or '(unnamed)':<24} {person.photos} face(s) kept, {person.scenes} scene(s)"
        )
    return 0


def cmd_videos_list(args: argparse.Namespace) -> int:
    from heimdex.library.videos import list_videos

    videos = list_videos(_db(), _user(args.user).id)
    if args.json:
        _print_json([video.summary() for video in videos])
        return 0
    for video in videos:
        print(f"{video.id}  {video.state:<10}  {video.duration_s:7.1f}s  {video.title}")
    if not videos:
        print("no videos", file=sys.stderr)
    return 0


def cmd_videos_delete(args: argparse.Namespace) -> int:
    from heimdex.app import core
    from heimdex.errors import NotFound
    from heimdex.library.trash import KEEP_DAYS

    owner = _owner(args)
    if not args.forever:
        video_id = core.delete_video(owner, args.video_id)
        print(f"moved {video_id} to the Trash (deleted for good after {KEEP_DAYS} days)")
        return 0
    try:
        core.delete_video(owner, args.video_id)
    except NotFound:
        pass  # in the Trash already (or no such video: the next call says so)
    print(f"deleted {core.delete_forever(owner, args.video_id)}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from heimdex.ops.doctor import run_checks

    checks = run_checks(get_settings())
    if args.json:
        _print_json([check.__dict__ for check in checks])
    else:
        for check in checks:
            mark = "ok  " if check.ok else ("FAIL" if check.required else "warn")
            print(f"[{mark}] {check.name:<18} {check.detail}")
    return 0 if all(check.ok or not check.required for check in checks) else 1


def cmd_backup(args: argparse.Namespace) -> int:
    from heimdex.ops.backup import backup

    manifest = backup(get_settings(), Path(args.path))
    size = manifest["database"]["bytes"] + sum(blob["bytes"] for blob in manifest["blobs"])
    print(
        f"backed up {manifest['rows'].get('users', 0)} users, {manifest['rows'].get('videos', 0)} videos, "
        f"{manifest['rows'].get('scenes', 0)} scenes and {len(manifest['blobs'])} blobs ({size / 1e6:.1f} MB) "
        f"into {args.path}"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from heimdex.ops.backup import restore

    done = restore(get_settings(), Path(args.path))
    if args.json:
        _print_json(done)
        return 0
    rows = done["rows"]
    print(
        f"restored {rows.get('users', 0)} users, {rows.get('videos', 0)} videos, {rows.get('scenes', 0)} scenes "
        f"and {done['blobs']} blobs; {done['jobs_requeued']} interrupted job(s) queued again"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m heimdex", description="Heimdex: find the moment in your videos.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(parent, name: str, handler: Callable[[argparse.Namespace], int], help: str):
        sub = parent.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        return sub

    db = commands.add_parser("db", help="database maintenance").add_subparsers(dest="db_command", required=True)
    command(db, "migrate", cmd_db_migrate, "apply pending schema migrations")
    command(
        db, "rebuild-graph", cmd_db_rebuild_graph, "build vector indexes of an older release again (while the app runs)"
    ).add_argument("--memory", help="maintenance_work_mem for the build, e.g. 2GB (about 1.4 KB a vector)")
    command(
        commands, "backup", cmd_backup, "copy the database and blobs into a new folder (while the app runs)"
    ).add_argument("path")
    restoring = command(commands, "restore", cmd_restore, "bring a backup into an empty data folder or database")
    restoring.add_argument("path")
    restoring.add_argument("--json", action="store_true")

    users = commands.add_parser("users", help="user accounts").add_subparsers(dest="users_command", required=True)
    add = command(users, "add", cmd_users_add, "create a local account")
    add.add_argument("email")
    add.add_argument("--password", required=True)
    add.add_argument("--name", help="display name")
    moved = command(users, "tier", cmd_users_tier, "move a user to another tier (plan); prints its limits")
    moved.add_argument("email")
    moved.add_argument("tier", help="free or pro (see: users tiers)")
    listed = command(users, "tiers", cmd_users_tiers, "list the tiers and what each allows")
    listed.add_argument("--json", action="store_true")

    ingest = command(commands, "ingest", cmd_ingest, "validate and store a video (prints its id)")
    ingest.add_argument("file")
    ingest.add_argument("--user", required=True, metavar="EMAIL")
    ingest.add_argument("--title")
    ingest.add_argument("--language", help="spoken language code (en, ko, ...) or auto")

    index = command(commands, "index", cmd_index, "ingest a video and index it now (progress on stderr)")
    index.add_argument("file")
    index.add_argument("--user", required=True, metavar="EMAIL")
    index.add_argument("--title")
    index.add_argument("--language", help="spoken language: ko, en, ... or auto (the default)")
    index.add_argument("--json", action="store_true", help="print the scenes and stage timings as JSON")
    index.add_argument("--enqueue", action="store_true", help="store and queue it, print the video id at once")

    reindex = command(
        commands,
        "reindex",
        cmd_reindex,
        "index a stored video again (its previous index stays until the new one commits)",
    )
    reindex.add_argument("video_id")
    reindex.add_argument(
        "--from-sidecar", action="store_true", help="rebuild the rows from the stored sidecar, running no model"
    )
    reindex.add_argument("--json", action="store_true")
    reindex.add_argument("--user", metavar="EMAIL", help="only if the video is this user's")

    find = command(commands, "search", cmd_search, "find moments in a user's videos")
    find.add_argument("query")
    find.add_argument("--user", required=True, metavar="EMAIL")
    find.add_argument("--limit", type=int, default=10, help="results per page (1-100)")
    find.add_argument("--page", type=int, default=1)
    find.add_argument("--video", metavar="VIDEO_ID", help="only this video")
    find.add_argument("--person", help="only scenes with this enrolled person")
    find.add_argument("--language", help="only videos whose speech is in this language (en, ko, ...)")
    find.add_argument(
        "--channel",
        action="append",
        choices=("transcript", "ocr", "visual", "person"),
        help="only these channels (repeatable)",
    )
    find.add_argument("--json", action="store_true")

    people = commands.add_parser(
        "people", help="a user's people: enrolled, and suggested from faces seen"
    ).add_subparsers(dest="people_command", required=True)
    add_person = command(people, "add", cmd_people_add, "enroll a person from photos (one face each)")
    add_person.add_argument("name")
    add_person.add_argument("--user", required=True, metavar="EMAIL")
    add_person.add_argument("photos", nargs="+", metavar="PHOTO")
    list_persons = command(people, "list", cmd_people_list, "list a user's people")
    list_persons.add_argument("--user", required=True, metavar="EMAIL")
    list_persons.add_argument("--suggested", action="store_true", help="the unnamed people suggested from faces seen")
    list_persons.add_argument("--json", action="store_true")
    for name, text in (
        ("rename", "name or rename a person (a name already used merges the two)"),
        ("merge", "merge OTHER_ID into PERSON_ID"),
        ("split", "split a person into the two most distinct groups"),
        ("delete", "forget a person (faces seen in videos stay, unnamed)"),
    ):
        edit = command(people, name, cmd_people_edit, text)
        edit.add_argument("person_id", type=int)
        if name == "rename":
            edit.add_argument("name")
        if name == "merge":
            edit.add_argument("other_id", type=int)
        edit.add_argument("--user", required=True, metavar="EMAIL")

    videos = commands.add_parser("videos", help="a user's videos").add_subparsers(dest="videos_command", required=True)
    listing = command(videos, "list", cmd_videos_list, "list a user's videos")
    listing.add_argument("--user", required=True, metavar="EMAIL")
    listing.add_argument("--json", action="store_true")
    delete = command(
        videos,
        "delete",
        cmd_videos_delete,
        "move a video to the Trash: everything derived from it goes now, its file after 30 days",
    )
    delete.add_argument("video_id")
    delete.add_argument("--user", metavar="EMAIL", help="only if the video is this user's")
    delete.add_argument("--forever", action="store_true", help="delete it for good now, with its file")
    show = command(videos, "show", cmd_videos_show, "a video's state, job stage and progress, error and scene count")
    show.add_argument("video_id")
    show.add_argument("--json", action="store_true")
    show.add_argument("--user", metavar="EMAIL", help="only if the video is this user's")
    cancel = command(videos, "cancel", cmd_videos_cancel, "cancel a video's queued or running indexing job")
    cancel.add_argument("video_id")
    cancel.add_argument("--user", metavar="EMAIL", help="only if the video is this user's")
    export = command(videos, "export", cmd_videos_export, "print a video's index document (the sidecar JSON)")
    export.add_argument("video_id")
    export.add_argument("--user", metavar="EMAIL", help="only if the video is this user's")

    doctor = command(commands, "doctor", cmd_doctor, "check the database, Redis, the data folder and the models")
    doctor.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    args = build_parser().parse_args(argv)
    try:
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        return args.handler(args)
    except BadInput as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except HeimdexError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # the last line of defence: a message, not a traceback
        if args.verbose:
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc} (run with -v for details)", file=sys.stderr)
        return 1
