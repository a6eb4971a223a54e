"""Shared helpers of the security suites: whole-database snapshots."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from app.extensions import db


def snapshot(ignore: frozenset[str] = frozenset()) -> dict[str, list[tuple]]:
    """Every row of every table (but `ignore`), as sorted tuples of reprs: compare two."""
    db.session.expire_all()
    tables = {}
    for table in db.metadata.sorted_tables:
        if table.name in ignore:
            continue
        rows = db.session.execute(select(table)).all()
        tables[table.name] = sorted(tuple(repr(value) for value in row) for row in rows)
    db.session.commit()  # end the read transaction: the next request may write
    return tables


def fingerprint(tables: dict[str, list[tuple]]) -> dict[str, tuple[int, str]]:
    """Row count and a hash of each table."""
    return {
        name: (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()[:16])
        for name, rows in tables.items()
    }


def changes(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> dict[str, dict]:
    """Tables whose rows differ: rows gone and rows new (an updated row is both)."""
    out = {}
    for name in sorted(set(before) | set(after)):
        old, new = set(before.get(name, [])), set(after.get(name, []))
        if old != new:
            out[name] = {"gone": sorted(old - new), "new": sorted(new - old)}
    return out
