"""Heimdex: the Gradio app (Hugging Face Spaces style). It composes the UI (the ``ui`` package, one module
per tab, every action through heimdex.service) and mounts it with the media routes.

python app.py        # http://0.0.0.0:7860 (PORT / HOST, or the Spaces runtime's GRADIO_SERVER_PORT / _NAME,
                     # override); the API is at /gradio_api
"""

from __future__ import annotations

import os
import signal
import sys

import gradio as gr
from fastapi import FastAPI

from heimdex.config import get_settings
from ui import CSS, build
from ui.text import HEAD, I18N


def create_app() -> FastAPI:
    """The web app: the gate on Gradio's file routes, signed media routes, then the Gradio UI and API at /.

    Gradio keeps its uploads and pictures in ``$HEIMDEX_DATA_DIR/gradio/app-<pid>`` (swept by the upkeep loop).
    """
    from heimdex.handoff import get_handoff
    from heimdex.web import FileGate, FirstScript, RequestLog, add_routes

    settings = get_settings()
    os.environ["GRADIO_TEMP_DIR"] = str(get_handoff().root)  # this process's own, read as the blocks are built
    app = add_routes(FastAPI(title="Heimdex"))
    app.add_middleware(FileGate)
    app.add_middleware(FirstScript, script=HEAD)  # the language picked in Account, before Gradio reads the browser's
    app.add_middleware(RequestLog)  # outermost: a line per request, with its id
    demo = build().queue(default_concurrency_limit=4)
    return gr.mount_gradio_app(
        app,
        demo,
        path="/",
        theme=gr.themes.Soft(primary_hue="indigo"),  # pyright: ignore[reportPrivateImportUsage]
        css=CSS,
        i18n=I18N,
        max_file_size=settings.max_upload_bytes,
        footer_links=["api"],
    )


if __name__ == "__main__":
    import uvicorn

    from heimdex import logs, metrics, upkeep
    from heimdex.jobs.queue import reset_queue

    settings = get_settings()
    logs.configure(settings)
    if settings.space_id:  # the Spaces runtime installed requirements.txt only
        from heimdex.models import carriers

        carriers.ensure(settings)
    metrics.setup(settings, shared_dir=True)  # before the indexing children start: they count into it too
    upkeep.start(app=True)  # queued jobs and jobs whose worker died run again, now and every few seconds
    # uvicorn raises a SIGTERM again after its graceful shutdown; exit through `finally` and the exit handlers
    # then (which stop the embedded database), not at once
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        uvicorn.run(
            create_app(),
            host=os.environ.get("HOST") or os.environ.get("GRADIO_SERVER_NAME") or "0.0.0.0",
            port=int(os.environ.get("PORT") or os.environ.get("GRADIO_SERVER_PORT") or "7860"),
            access_log=False,  # heimdex.web.RequestLog writes it, without query strings (they carry signatures)
        )
    finally:
        reset_queue()  # stop the indexing children; a job they were running is recovered at the next start
