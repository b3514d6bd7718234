"""Heimdex: the Gradio app (Hugging Face Spaces style). It composes the UI (the ``ui`` package, one module
per tab, every action through heimdex.app.service) and mounts it with the media routes.

python app.py        # http://127.0.0.1:7860 (PORT / HOST, or the Spaces runtime's GRADIO_SERVER_PORT / _NAME,
                     # override; on a Space 0.0.0.0); the API is at /gradio_api
"""

from __future__ import annotations

import logging
import os
import signal
import sys

import gradio as gr
from fastapi import FastAPI

import ui
from heimdex.config import get_settings
from ui import CSS, HEAD
from ui.text import I18N

# Gradio's Soft theme, its accent one shade darker: text and buttons meet WCAG AA's 4.5:1 (tests/test_accessibility.py)
THEME = gr.themes.Soft(primary_hue="indigo").set(  # pyright: ignore[reportPrivateImportUsage]
    color_accent="*primary_600",
    button_primary_background_fill="*primary_600",
    button_primary_background_fill_hover="*primary_700",
    checkbox_label_background_fill_selected="*primary_600",
    block_label_text_color="*primary_700",
    block_title_text_color="*primary_700",
    body_text_color_subdued="*neutral_600",
)


def build() -> gr.Blocks:
    """The UI and its API, with the settings it needs."""
    return ui.build(get_settings().search_concurrency)


def create_app() -> FastAPI:
    """The web app: the gate on Gradio's file routes, signed media routes, then the Gradio UI and API at /.

    Gradio keeps its uploads and pictures in ``$HEIMDEX_DATA_DIR/gradio/app-<pid>`` (swept by the upkeep loop).
    """
    from heimdex.app.handoff import get_handoff
    from heimdex.app.web import FileGate, FirstScript, NoFraming, RequestLog, add_routes

    settings = get_settings()
    os.environ["GRADIO_TEMP_DIR"] = str(get_handoff().root)  # this process's own, read as the blocks are built
    app = add_routes(FastAPI(title="Heimdex"))
    demo = build().queue(default_concurrency_limit=4)
    app.add_middleware(FileGate, arity=arity(demo))
    app.add_middleware(FirstScript, script=HEAD)  # the language picked in Account; password boxes named for autofill
    app.add_middleware(NoFraming)
    app.add_middleware(RequestLog)  # outermost: a line per request, with its id
    return gr.mount_gradio_app(
        app,
        demo,
        path="/",
        theme=THEME,
        css=CSS,
        i18n=I18N,
        max_file_size=settings.max_upload_bytes,
        footer_links=["api"],
    )


def arity(demo: gr.Blocks) -> dict[str | int, int]:
    """How many values each event and API endpoint of ``demo`` takes, by ``fn_index`` and by API name."""
    taken: dict[str | int, int] = {}
    for index, fn in demo.fns.items():
        taken[index] = len(fn.inputs)
        if fn.api_name:
            taken[str(fn.api_name)] = len(fn.inputs)
    return taken


def listen_host() -> str:
    """Where ``python app.py`` listens: ``HOST``, else ``GRADIO_SERVER_NAME``, else this machine only (127.0.0.1);
    on a Space, every interface (its proxy must reach the app; the Docker image sets ``HOST`` so too)."""
    named = os.environ.get("HOST") or os.environ.get("GRADIO_SERVER_NAME")
    return named or ("0.0.0.0" if get_settings().space_id else "127.0.0.1")


def ready_line(host: str, port: int) -> str:
    """The one line ``python app.py`` logs once it answers (a JSON object with ``HEIMDEX_LOG_FORMAT=json``): where to
    go, and how to stop it."""
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    return f"Heimdex is running at http://{shown}:{port}  (press Ctrl+C to stop)"


if __name__ == "__main__":
    import uvicorn

    from heimdex.app.handoff import get_handoff
    from heimdex.jobs.queue import reset_queue
    from heimdex.ops import upkeep
    from heimdex.telemetry import logs, metrics

    settings = get_settings()
    logs.configure(settings)
    if settings.space_id:  # the Spaces runtime installed requirements.txt only
        from heimdex.models import carriers

        carriers.ensure(settings)
    metrics.setup(settings, shared_dir=True)  # before the indexing children start: they count into it too
    upkeep.start(
        [("gradio folder", lambda: get_handoff().sweep())]
    )  # queued jobs and jobs whose worker died run again, now and every few seconds
    # uvicorn raises a SIGTERM again after its graceful shutdown; exit through `finally` and the exit handlers
    # then (which stop the embedded database), not at once
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    host, port = listen_host(), int(os.environ.get("PORT") or os.environ.get("GRADIO_SERVER_PORT") or "7860")
    web = create_app()
    web.router.on_startup.append(lambda: logging.getLogger("heimdex.app").info(ready_line(host, port)))
    try:
        uvicorn.run(
            web,
            host=host,
            port=port,
            access_log=False,  # heimdex.app.web.RequestLog writes it, without query strings (they carry signatures)
            proxy_headers=False,  # the peer stays the client; heimdex.app.inputs.client_address reads trusted proxies
            log_config=None,  # uvicorn's records go through the app's own handler (one JSON object each, with json)
        )
    finally:
        reset_queue()  # stop the indexing children; a job they were running is recovered at the next start
