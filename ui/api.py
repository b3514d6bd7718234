"""The API (gradio_client, ``/gradio_api``): one endpoint per operation of the service's table, under its name.

Each endpoint takes a session token first (but those that need no session: ``/register``, ``/login``,
``/refresh``, the mailed links' requests and uses), then the parameters the table names (the caller's address
and browser come from the request, never from a parameter), and answers the operation's result type (the API's description lists its fields).
Files arrive as plain JSON (what ``gradio_client.handle_file`` uploads and names), never as
``gr.FileData``: Gradio would copy a FileData path into its cache before the session is checked.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import gradio as gr

from heimdex.app import service
from ui.common import agent, client, friendly

FROM_REQUEST: dict[str, Callable[[gr.Request | None], Any]] = {"client": client, "user_agent": agent}  # never asked


def endpoint(operation: service.Operation) -> Callable[..., Any]:
    """The operation's door as an API endpoint: its declared parameters, typed, and its answer's type."""
    door = getattr(service, operation.name)
    wanted = operation.api or [p.name for p in operation.parameters()]
    parameters = [p for p in operation.parameters() if p.name in wanted and p.name not in FROM_REQUEST]
    from_request = [p.name for p in operation.parameters() if p.name in FROM_REQUEST]
    takes_client = bool(from_request)
    if operation.caller != service.Caller.ANYONE:
        parameters.insert(0, inspect.Parameter("token", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str))
    if takes_client:
        parameters.append(
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=gr.Request)
        )
    returns = str if operation.answer else operation.returns()
    signature = inspect.Signature(parameters, return_annotation=returns)

    def answer(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        arguments = dict(bound.arguments)
        if takes_client:
            request = arguments.pop("request", None)
            arguments |= {name: FROM_REQUEST[name](request) for name in from_request}
        done = door(**arguments)
        return operation.answer if operation.answer else done

    answer.__name__ = answer.__qualname__ = operation.name
    answer.__doc__ = operation.action.__doc__
    served = friendly(answer)
    served.__signature__ = signature  # pyright: ignore[reportAttributeAccessIssue]
    served.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": returns}
    return served


def serve(search_concurrency: int) -> None:
    """Every operation the API serves, inside the Blocks being built; searches answered directly too
    (POST /gradio_api/run/search), without the queue's overhead, ``search_concurrency`` at once."""
    for operation in service.OPERATIONS:
        if operation.api is None:
            continue
        if operation.in_line:
            gr.api(  # pyright: ignore[reportPrivateImportUsage]
                endpoint(operation),
                api_name=operation.name,
                concurrency_limit=search_concurrency,
                concurrency_id="search",
                queue=False,
            )
        else:
            gr.api(endpoint(operation), api_name=operation.name)  # pyright: ignore[reportPrivateImportUsage]
