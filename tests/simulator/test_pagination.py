"""Reference §5: page size 25, key order, the links window, page URLs, edge pages."""

from __future__ import annotations

import pytest

from app.simulator.pagination import page_window, paginate, parse_page

KEYS = [
    "current_page",
    "data",
    "first_page_url",
    "from",
    "last_page",
    "last_page_url",
    "links",
    "next_page_url",
    "path",
    "per_page",
    "prev_page_url",
    "to",
    "total",
]


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (1, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, None, 29, 30]),
        (7, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, None, 29, 30]),
        (10, [1, 2, None, 7, 8, 9, 10, 11, 12, 13, None, 29, 30]),
        (23, [1, 2, None, 20, 21, 22, 23, 24, 25, 26, None, 29, 30]),
        (24, [1, 2, None, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]),
        (28, [1, 2, None, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]),
    ],
)
def test_window_for_thirty_pages(current, expected):
    assert page_window(current, 30) == expected


def test_small_paginators_list_every_page():
    assert page_window(1, 13) == list(range(1, 14))
    assert page_window(1, 1) == [1]
    assert len(page_window(1, 14)) == 13  # 10 + gap + 2


@pytest.mark.parametrize(
    ("raw", "page"),
    [("3", 3), (3, 3), ("0", 1), ("-2", 1), ("abc", 1), ("2.5", 1), (None, 1), (True, 1)],
)
def test_page_input(raw, page):
    assert parse_page(raw) == page


def test_empty_list_still_has_page_one():
    result = paginate([], 1, "http://x/api/v3/contacts")
    assert list(result) == KEYS
    assert result["from"] is None and result["to"] is None
    assert result["last_page"] == 1 and result["total"] == 0
    assert [link["label"] for link in result["links"]] == ["&laquo; Previous", "1", "Next &raquo;"]


def test_page_past_the_end():
    result = paginate(list(range(30)), 5, "http://x/p")
    assert result["current_page"] == 5 and result["data"] == []
    assert result["from"] is None and result["to"] is None
    assert result["prev_page_url"] == "http://x/p?page=4"
    assert result["next_page_url"] is None
    assert not any(link["active"] for link in result["links"])


def _seed_contacts(control, token, count):
    contacts = [
        {"phone": f"1202555{i:04d}", "first_name": f"F{i}", "last_name": "L"} for i in range(count)
    ]
    return control.seed_group(token, "Big", contacts)["uid"]


@pytest.mark.parametrize("current", [1, 10, 28])
def test_thirty_pages_over_http(api, control, token, current):
    group = _seed_contacts(control, token, 29 * 25 + 3)
    response = api.post(f"contacts/{group}/all", {"page": current})
    data = response.json()["data"]
    path = api.url(f"contacts/{group}/all")
    assert list(data) == KEYS
    assert data["path"] == path
    assert data["first_page_url"] == f"{path}?page=1"
    assert data["last_page_url"] == f"{path}?page=30"
    assert (data["last_page"], data["total"], data["per_page"]) == (30, 728, 25)
    assert data["from"] == (current - 1) * 25 + 1 and data["to"] == current * 25
    assert len(data["data"]) == 25
    labels = [link["label"] for link in data["links"][1:-1]]
    expected = [("..." if n is None else str(n)) for n in page_window(current, 30)]
    assert labels == expected
    active = [link["label"] for link in data["links"] if link["active"]]
    assert active == [str(current)]
    gap = next(link for link in data["links"] if link["label"] == "...")
    assert gap == {"url": None, "label": "...", "active": False}
    assert data["links"][0] == {
        "url": data["prev_page_url"],
        "label": "&laquo; Previous",
        "active": False,
    }
    assert data["links"][-1] == {
        "url": f"{path}?page={current + 1}",
        "label": "Next &raquo;",
        "active": False,
    }
    assert (data["prev_page_url"] is None) == (current == 1)


def test_last_page_partial_and_query_parameters_dropped(api, control, token):
    for i in range(27):
        control.seed_group(token, f"G{i:02d}")
    response = api.get("contacts", params={"page": "2", "foo": "bar"})
    data = response.json()["data"]
    assert (data["from"], data["to"], data["total"], data["last_page"]) == (26, 27, 27, 2)
    assert data["next_page_url"] is None
    assert data["prev_page_url"] == api.url("contacts") + "?page=1"
    assert "foo" not in response.text
    assert response.text.count("http:\\/\\/") > 0  # slashes escaped like Laravel
