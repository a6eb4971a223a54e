"""Laravel's LengthAwarePaginator::toArray, including the UrlWindow links (reference §5)."""

from __future__ import annotations

import math
from typing import Any

PER_PAGE = 25
ON_EACH_SIDE = 3


def parse_page(value: Any) -> int:
    """PHP FILTER_VALIDATE_INT >= 1, else 1."""
    if isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return value if value >= 1 else 1
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if digits.isdigit() and not (len(digits) > 1 and digits[0] == "0"):
            number = int(text)
            return number if number >= 1 else 1
    return 1


def page_window(current: int, last: int) -> list[int | None]:
    """Page numbers to show, None standing for a "..." gap (UrlWindow::get)."""
    if last < ON_EACH_SIDE * 2 + 8:
        return list(range(1, last + 1))
    window = ON_EACH_SIDE + 4
    start = [1, 2]
    finish = [last - 1, last]
    if current <= window:
        return list(range(1, window + ON_EACH_SIDE + 1)) + [None] + finish
    if current > last - window:
        return start + [None] + list(range(last - (window + ON_EACH_SIDE - 1), last + 1))
    middle = list(range(current - ON_EACH_SIDE, current + ON_EACH_SIDE + 1))
    return start + [None] + middle + [None] + finish


def paginate(items: list[Any], page: int, path: str) -> dict[str, Any]:
    """Slice `items` for `page` and build the paginator array in Laravel's key order."""
    total = len(items)
    last = max(1, math.ceil(total / PER_PAGE))
    offset = (page - 1) * PER_PAGE
    chunk = items[offset : offset + PER_PAGE]

    def url(number: int) -> str:
        return f"{path}?page={number}"

    prev_url = url(page - 1) if page > 1 else None
    next_url = url(page + 1) if page < last else None
    links: list[dict[str, Any]] = [{"url": prev_url, "label": "&laquo; Previous", "active": False}]
    for number in page_window(page, last):
        if number is None:
            links.append({"url": None, "label": "...", "active": False})
        else:
            links.append({"url": url(number), "label": str(number), "active": number == page})
    links.append({"url": next_url, "label": "Next &raquo;", "active": False})
    return {
        "current_page": page,
        "data": chunk,
        "first_page_url": url(1),
        "from": offset + 1 if chunk else None,
        "last_page": last,
        "last_page_url": url(last),
        "links": links,
        "next_page_url": next_url,
        "path": path,
        "per_page": PER_PAGE,
        "prev_page_url": prev_url,
        "to": offset + len(chunk) if chunk else None,
        "total": total,
    }
