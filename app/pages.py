"""Page parts that several blueprints render: the group page (groups and contacts), the
dashboard cards (the workspace landing and the dashboard's own routes), the `?page=` of a
list. Blueprints never import each other; what they share lives here."""

from __future__ import annotations

from flask import g, request

from .forms import EmptyForm
from .forms.contacts import ContactForm
from .rendering import is_fragment_request, render_page, with_oob
from .services import contacts, dashboard, gotone, groups, history

GROUP_PAGE = "groups/show.html"
MAX_PAGE = 100_000


def page_arg() -> int:
    """The `?page=` of a list; anything unusable is page 1."""
    page = request.args.get("page", 1, type=int)
    return page if 1 <= page <= MAX_PAGE else 1


def editor_prefix(uid: str) -> str:
    """Field names of a row editor: unique ids even beside the add form or another editor."""
    return f"edit-{uid}"


def group_page(group_uid: str, block: str, status: int = 200, *, oob_table: bool = False, **ctx):
    """The group page or one of its blocks: get_group for a page, list_contacts for the table.

    oob_table: a fragment answer also carries the contacts table, out of band.
    """
    fragment = is_fragment_request()
    country = gotone.get_settings(g.workspace).default_country
    ctx.setdefault("form", ContactForm(formdata=None, default_country=country))
    ctx.update(
        group_uid=group_uid,
        page=page_arg(),
        oob=False,
        group=None,
        result=None,
        default_country=country,
    )
    if not fragment:
        ctx["group"] = groups.get_group(g.workspace, group_uid)
    if not fragment or oob_table or block == "contacts_table":
        ctx["result"] = contacts.list_contacts(g.workspace, group_uid, ctx["page"])
        ctx["page"] = ctx["result"].page  # the last page when the one asked for was past it
    response = render_page(GROUP_PAGE, block, status, **ctx)
    if oob_table:
        response = with_oob(response, GROUP_PAGE, "contacts_table", **ctx)
    return response


def dashboard_context() -> dict:
    """Everything the dashboard cards show (balance and profile come from the cache)."""
    return {
        "account": dashboard.account_card(g.workspace),
        "profile": dashboard.profile_card(g.workspace),
        "latest": history.latest_messages(g.workspace),
        "refresh_form": EmptyForm(formdata=None),
    }
