"""A gateway list opened past its end shows its last page, not "Page 2 of 1" and no rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..gotone import Page

T = TypeVar("T")


def within(fetch: Callable[[int], Page[T]], page: int) -> Page[T]:
    """fetch(page), or fetch(last page) when `page` lies past the end (a second call only
    then: a list that shrank since its link was made, or a page number typed by hand)."""
    result = fetch(page)
    if page > 1 and not result.items and result.last_page < page:
        return fetch(max(1, result.last_page))
    return result
