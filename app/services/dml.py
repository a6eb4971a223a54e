"""UPDATE, DELETE and INSERT statements whose matched-row count the caller reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, Executable

from ..extensions import db


def execute_dml(
    statement: Executable, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None
) -> CursorResult[Any]:
    """db.session.execute for a data-changing statement, typed so .rowcount type-checks.

    Session.execute is annotated as returning Result, which has no rowcount; for an UPDATE,
    DELETE or INSERT (ORM or text) SQLAlchemy returns a CursorResult, so the cast is exact.
    """
    return cast("CursorResult[Any]", db.session.execute(statement, params))
