"""One SQL statement written in parts: a ``WITH`` list of named parts and the values they use.

Search writes each kind of evidence as a part and fuses them in the same statement, so
that only its answer leaves the database (:mod:`heimdex.search`).
"""

from __future__ import annotations

from typing import Any, LiteralString

from psycopg import sql
from psycopg.rows import tuple_row

from heimdex.db import Conn


class Statement:
    """Named parts and parameters; each value gets a name of its own (a query embedded by two models is two
    values), and ``named`` values keep theirs (``user``: the user's id, in every part of a search)."""

    def __init__(self, **named: Any) -> None:
        self.params: dict[str, Any] = dict(named)
        self.parts: list[sql.Composable] = []

    def value(self, value: Any) -> sql.Placeholder:
        name = f"v{len(self.params)}"
        self.params[name] = value
        return sql.Placeholder(name)

    def conditions(self, where: LiteralString, params: dict[str, Any]) -> sql.SQL:
        """Conditions written with their own ``%(name)s`` placeholders, their values added."""
        self.params.update(params)
        return sql.SQL(where)

    def part(self, name: str, body: sql.Composable) -> sql.Identifier:
        self.parts.append(sql.SQL("{} AS ({})").format(sql.Identifier(name), body))
        return sql.Identifier(name)

    def query(self, tail: sql.Composable) -> sql.Composed:
        parts = sql.SQL("WITH {} ").format(sql.SQL(", ").join(self.parts)) if self.parts else sql.SQL("")
        return sql.Composed([parts, tail])

    def rows(self, conn: Conn, tail: sql.Composable) -> list[tuple[Any, ...]]:
        """The rows of the parts written so far followed by ``tail``, as tuples."""
        return conn.cursor(row_factory=tuple_row).execute(self.query(tail), self.params, prepare=False).fetchall()
