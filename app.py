"""Heimdex web app (Gradio Blocks). UI only: every action calls the ``heimdex`` package.

For now it shows the installation's health; the sign-in, upload, library, search,
player and people tabs arrive with the app feature.
"""

from __future__ import annotations

import gradio as gr

from heimdex.config import get_settings
from heimdex.doctor import run_checks


def status_markdown() -> str:
    """The doctor's checks as a Markdown table."""
    rows = ["| check | state | detail |", "|---|---|---|"]
    for check in run_checks(get_settings()):
        state = "✅ ok" if check.ok else ("❌ failing" if check.required else "⚠️ warning")
        rows.append(f"| {check.name} | {state} | {check.detail} |")
    return "\n".join(rows)


def build() -> gr.Blocks:
    with gr.Blocks(title="Heimdex") as demo:
        gr.Markdown("# Heimdex\nFind the moment in your videos.")
        with gr.Tab("Status"):
            status = gr.Markdown()
            gr.Button("Check again").click(status_markdown, outputs=status)
        demo.load(status_markdown, outputs=status)
    return demo


if __name__ == "__main__":
    from heimdex.jobs import resume

    resume()  # queued jobs (and jobs whose worker died) run again
    build().launch()
