"""Settings: the one place that reads the environment.

:func:`get_settings` reads them once; nothing else reads ``os.environ``. The app's own modules take
what they need from it; the models (through the registry) and search take a :class:`Settings` as an
argument, so eval and tests try other values without touching the environment. docs/operations.md
lists each variable with its default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from heimdex.errors import BadInput, Kind

GIB = 1024**3


class ConfigError(BadInput):
    """An environment variable with a value Heimdex cannot use."""

    def __init__(self, variable: str, problem: str):
        super().__init__("bad_setting", f"{variable}: {problem}", Kind.INVALID)


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Field name ``x`` is read from ``HEIMDEX_X`` unless ``ENV_NAMES`` gives another."""

    data_dir: Path = Path("./data")
    database_url: str | None = None
    database_read_url: str | None = None  # a streaming replica for search's reads (heimdex.db.Database.read)
    replica_max_lag_s: float = 5.0  # a replica further behind than this is passed over for the primary
    redis_url: str | None = None
    models: str = "offline"
    text_model: str = "use-m3"  # offline text embedder: use-m3 or e5-small
    supabase_url: str | None = None
    supabase_anon_key: str | None = None
    supabase_jwt_secret: str | None = None
    secret_key: str | None = None
    max_duration_s: float = 600.0
    max_upload_bytes: int = 1 * GIB
    probe_timeout_s: float = 30.0
    read_timeout_s: float = 300.0  # longest time spent copying one upload into staging
    upload_ttl_s: float = 1800.0  # files in Gradio's folder untouched this long are deleted
    pending_user_bytes: int = 2 * GIB  # uploads one user sent and has not added yet, together
    pending_total_bytes: int = 8 * GIB  # uploads not added yet, of everyone together
    free_space_reserve_bytes: int = 1 * GIB  # uploads stop before the data folder's disk has less free than this
    sign_in_limit: int = 30  # sign-in attempts per client address per 15 minutes
    register_limit: int = 10  # accounts made per client address per hour
    search_limit: int | None = None  # searches per user per minute, every tier; unset: each tier's (quotas.TIERS)
    search_concurrency: int = 4  # searches run at once, the others wait in line (chosen by eval/bench_load.py)
    job_nice: int = 19  # how much lower the in-process indexing child runs than the app (19: the lowest)
    db_pool_size: int = 4
    db_shared_buffers: str = "1GB"  # the embedded server's page cache (PostgreSQL's default, 128MB, holds a third
    # of a 100k-scene library's vector indexes; eval/bench_search.py)
    model_dir: Path | None = None  # default: <data_dir>/models
    model_threads: int = 2  # threads of speech and text models; the keyframe models get half each (lane_threads)
    log_level: str = "INFO"
    log_format: str = "text"  # or json: one JSON object per line
    log_queries: bool = False  # request logs may carry search words (never by default)
    metrics: bool = False  # Prometheus metrics: /metrics on the app, metrics_port on a worker
    metrics_port: int = 9100
    job_retries: int = 3  # transient failures (database, Redis, memory) are retried this many times
    job_stale_s: float = 30.0  # a running job silent this long is taken to have lost its worker
    job_concurrency: int = 1  # in-process executor (no REDIS_URL): jobs run at once
    job_threads: bool = False  # in-process jobs in threads, not child processes (a ZeroGPU Space: GPU calls must
    # come from the app's own process); on by default on a Space
    space_id: str | None = None  # set by the Hugging Face Spaces runtime
    trusted_proxies: str = ""  # proxies whose X-Forwarded-For is believed: addresses or networks, comma separated;
    # "*": every peer is one proxy (a Space: only its proxy reaches the app); empty: none, the peer is the client
    feature_faces: bool = True  # find and recognise faces while indexing
    face_match_distance: float = 0.58  # descriptors closer than this are the same person (chosen by eval/faces.py)
    face_cluster_distance: float = 0.5  # unknown faces this close are suggested as one person (eval/faces.py)
    ann_min_scenes: int = 10000  # a library this large is searched through the HNSW index (eval/bench_search.py:
    # at 10k scenes the index lookup already took half the exact scan's time)
    ann_ef_search: int = 200  # the index's candidate list per lookup: on a graph built with ef_construction 128,
    # recall@10 0.996 at 100k, where 100 gave 0.973 (eval/bench_search.py --graph-at) ...
    ann_candidates: int = 50  # ... and the nearest rows per channel that get a score on the index path
    ann_max_scan: int = 40000  # rows the iterative scan may visit looking for enough of the user's own
    lexical_max_scenes: int = 400  # on the index path, words picking scenes by themselves may hold this many in all,
    lexical_share: float = 0.0013  # ... or this share of the library when that is more (1,300 at 1M): with the
    # candidates, the fastest whose search recall@10 stays at 0.97 (at 300k: 0.975, where 0.33% gave 0.979 and 20 ms
    # more at p95; docs/benchmarks.md#search-at-scale)
    smtp_url: str | None = None  # smtp://user:password@host:587 (STARTTLS) or smtps://...:465 (TLS); unset: the outbox
    mail_from: str = "Heimdex <no-reply@heimdex.local>"  # the sender of account mail
    public_url: str = "http://localhost:7860"  # where links in account mail point (the app as people reach it)
    access_minutes: int = 15  # an access token lives this long; the page renews it with its refresh token
    refresh_days: int = 7  # a refresh token lives this long unused; each use gives a new one (rotation)
    export_hours: int = 24  # a data export's zip is kept this long, then deleted
    quota_free_videos: int | None = None  # overrides of heimdex.library.quotas.TIERS; unset: the table's
    quota_free_minutes: float | None = None
    quota_pro_videos: int | None = None
    quota_pro_minutes: float | None = None
    blob_url: str | None = None  # s3://bucket[/prefix] for a shared store; default: local files
    s3_endpoint: str | None = None  # for MinIO, Supabase Storage, a local S3 server; empty for AWS
    s3_region: str = "us-east-1"
    s3_access_key: str | None = None
    s3_secret_key: str | None = None

    # Variables that keep their conventional names instead of a HEIMDEX_ prefix.
    ENV_NAMES = {
        "database_url": "DATABASE_URL",
        "redis_url": "REDIS_URL",
        "supabase_url": "SUPABASE_URL",
        "supabase_anon_key": "SUPABASE_ANON_KEY",
        "supabase_jwt_secret": "SUPABASE_JWT_SECRET",
        "feature_faces": "FEATURE_FACES",
        "s3_access_key": "AWS_ACCESS_KEY_ID",
        "s3_secret_key": "AWS_SECRET_ACCESS_KEY",
        "space_id": "SPACE_ID",
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default: the process environment)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in fields(cls):
            name = cls.ENV_NAMES.get(field.name, f"HEIMDEX_{field.name.upper()}")
            raw = environ.get(name)
            if raw is None or raw == "":
                continue
            values[field.name] = _parse(field.type, raw, name)
        settings = cls(**values)
        if settings.space_id:  # a Space: its persistent storage (when it has one) and jobs in the app's process
            persistent = Path("/data")
            if "data_dir" not in values and persistent.is_dir() and os.access(persistent, os.W_OK):
                settings = replace(settings, data_dir=persistent)
            if "job_threads" not in values:
                settings = replace(settings, job_threads=True)
            if "trusted_proxies" not in values:
                settings = replace(settings, trusted_proxies="*")
        settings = replace(settings, data_dir=settings.data_dir.expanduser().resolve())
        if settings.text_model not in {"use-m3", "e5-small"}:
            raise ConfigError("HEIMDEX_TEXT_MODEL", f"must be 'use-m3' or 'e5-small', not {settings.text_model!r}")
        if settings.blob_url and not settings.blob_url.startswith("s3://"):
            raise ConfigError("HEIMDEX_BLOB_URL", f"must be s3://bucket[/prefix], not {settings.blob_url!r}")
        if settings.log_format not in {"text", "json"}:
            raise ConfigError("HEIMDEX_LOG_FORMAT", f"must be 'text' or 'json', not {settings.log_format!r}")
        if settings.smtp_url and not settings.smtp_url.startswith(("smtp://", "smtps://")):
            raise ConfigError("HEIMDEX_SMTP_URL", "must start with smtp:// (STARTTLS when offered) or smtps:// (TLS)")
        if settings.models not in {"offline", "hub"}:
            raise ConfigError("HEIMDEX_MODELS", f"must be 'offline' or 'hub', not {settings.models!r}")
        return settings

    @property
    def pg_dir(self) -> Path:
        """Data folder of the embedded PostgreSQL server."""
        return self.data_dir / "pg"

    @property
    def lane_threads(self) -> int:
        """Threads of each keyframe model (text, sight, faces): they run in two lanes at once, so half each."""
        return max(1, self.model_threads // 2)

    @property
    def models_path(self) -> Path:
        """Where models are joined (offline) or downloaded (hub)."""
        return self.model_dir or self.data_dir / "models"

    @property
    def blob_dir(self) -> Path:
        """Root of the local blob store."""
        return self.data_dir / "blobs"

    @property
    def gradio_dir(self) -> Path:
        """The app processes' upload and picture folders (``app-<pid>``: each one's ``GRADIO_TEMP_DIR``), swept by
        :mod:`heimdex.app.handoff`."""
        return self.data_dir / "gradio"

    @property
    def tmp_dir(self) -> Path:
        """Staging area for uploads; on the same filesystem as the blobs."""
        return self.data_dir / "tmp"


def _parse(kind: object, raw: str, name: str) -> object:
    kind = str(kind)
    if kind == "bool":
        if raw.strip().lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.strip().lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(name, f"must be true or false, not {raw!r}")
    try:
        if "Path" in kind:
            return Path(raw)
        if "int" in kind:
            return int(raw)
        if "float" in kind:
            return float(raw)
    except ValueError as exc:
        raise ConfigError(name, str(exc)) from None
    return raw


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings.from_env()
