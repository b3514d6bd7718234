"""Each operation is declared once; the service's doors and the API's endpoints are built from that table."""

from __future__ import annotations

import inspect
import typing

import pytest

pytestmark = pytest.mark.unit


def test_each_operation_has_one_name_a_door_and_a_typed_answer():
    from heimdex.app import service
    from heimdex.app.operations import BY_NAME, OPERATIONS, Caller
    from heimdex.auth.users import User
    from heimdex.library.quotas import LIMITS

    assert len(BY_NAME) == len(OPERATIONS)
    for operation in OPERATIONS:
        door = getattr(service, operation.name)
        assert door.__name__ == operation.name and door.__doc__ == operation.action.__doc__
        first = next(iter(typing.get_type_hints(operation.action).items()))
        if operation.caller == Caller.USER:
            assert first == ("user", User), operation.name
        elif operation.caller == Caller.SESSION:
            assert first == ("token", str), operation.name
        answer = operation.returns()
        assert answer not in (dict, list, typing.Any) and typing.get_origin(answer) is not dict, operation.name
        assert set(operation.api or ()) <= {p.name for p in operation.parameters()}, operation.name
        assert operation.rate in (None, "search", *LIMITS), operation.name  # a limit that exists
    with pytest.raises(AttributeError):
        service.no_such_operation  # noqa: B018


def test_the_api_endpoints_are_the_tables_with_the_token_first_and_real_types():
    from heimdex.app.operations import BY_NAME
    from heimdex.app.results import Person, SearchAnswer
    from ui.api import endpoint

    search = endpoint(BY_NAME["search"])
    signature = inspect.signature(search)
    assert list(signature.parameters) == ["token", "query", "limit", "person"]
    assert signature.parameters["limit"].default == 10 and signature.return_annotation is SearchAnswer
    assert search.__annotations__["query"] is str  # a type, not a string: the API describes it
    register = inspect.signature(endpoint(BY_NAME["register"]))
    assert list(register.parameters) == ["email", "password", "request"]  # no token; the address from the request
    logout = endpoint(BY_NAME["logout"])
    assert inspect.signature(logout).return_annotation is str
    assert inspect.signature(endpoint(BY_NAME["rename_person"])).return_annotation is Person
    assert list(inspect.signature(endpoint(BY_NAME["upload"])).parameters) == ["token", "file", "title", "language"]
