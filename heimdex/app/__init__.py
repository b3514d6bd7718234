"""Who asks, and how: the session doors, the operations' table, the web routes, uploads and signed links, the CLI.

Everything a person or an API client can do enters here and leaves as a typed result; below this wing
nothing knows of sessions, HTTP or Gradio.
"""
