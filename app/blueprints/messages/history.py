"""History: "Sent from this portal" (the outbox), a message's page, and "Gateway history".

Page views read the database only; gateway statuses are refreshed on request for the visible
page (or one message). The gateway's own list is for admins: legacy gateways include other
customers' messages in it.
"""

from __future__ import annotations

from flask import Response, abort, flash, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...forms import EmptyForm
from ...forms.history import HistoryFilterForm
from ...rate_limits import export_limit, refresh_limit
from ...rendering import is_fragment_request, redirect_to, render_page
from ...security import workspace_required
from ...services import history as service
from .base import bp

PAGE_LIMIT = 100_000


def _page() -> int:
    page = request.args.get("page", 1, type=int)
    return page if 1 <= page <= PAGE_LIMIT else 1


def _filters() -> tuple[HistoryFilterForm, service.Filters]:
    form = HistoryFilterForm(request.args, service.senders(g.workspace))
    form.validate()
    return form, form.filters()


def _history(block: str = "history_table"):
    form, filters = _filters()
    result = service.search_messages(g.workspace, filters, _page())
    return render_page(
        "messages/history.html",
        block,
        form=form,
        result=result,
        args=filters.args(),
        refresh_form=EmptyForm(formdata=None),
    )


@bp.get("/history")
@workspace_required("workspace.view")
def history(workspace_id):
    return _history()


@bp.post("/history/refresh")
@refresh_limit
@workspace_required("workspace.view")
def refresh_statuses(workspace_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    filters = _filters()[1]
    visible = service.search_messages(g.workspace, filters, _page()).items
    changed = service.refresh_statuses(g.workspace, [m.id for m in visible])
    flash(_("Statuses refreshed from the gateway: %(count)s changed.", count=changed), "success")
    if is_fragment_request():
        return _history()
    return redirect_to(
        url_for("messages.history", workspace_id=workspace_id, page=_page(), **filters.args())
    )


@bp.get("/history.csv")
@export_limit
@workspace_required("workspace.view")
def history_export(workspace_id):
    filters = _filters()[1]
    lines = service.export_csv(g.workspace, current_user, filters)
    response = Response(lines, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="messages.csv"'
    return response


@bp.get("/history/<int:message_id>")
@workspace_required("workspace.view")
def message(workspace_id, message_id):
    found = service.get_message(g.workspace, message_id)
    if found is None:
        abort(404)
    return render_page(
        "messages/message.html",
        "message_status",
        message=found,
        refresh_form=EmptyForm(formdata=None),
    )


@bp.post("/history/<int:message_id>/refresh")
@refresh_limit
@workspace_required("workspace.view")
def refresh_message(workspace_id, message_id):
    found = service.get_message(g.workspace, message_id)
    if found is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    service.refresh_statuses(g.workspace, [found.id])
    flash(_("Status refreshed from the gateway."), "success")
    if is_fragment_request():
        return render_page(
            "messages/message.html",
            "message_status",
            message=found,
            refresh_form=EmptyForm(formdata=None),
        )
    return redirect_to(
        url_for("messages.message", workspace_id=workspace_id, message_id=message_id)
    )


@bp.get("/gateway-history")
@workspace_required("gateway_history.view")
def gateway_history(workspace_id):
    result = service.list_gateway_sms(g.workspace, current_user, _page())
    return render_page("messages/history_gateway.html", "gateway_table", result=result)
