"""Scheduled and missed sends: list, edit, cancel, and send a missed one after all."""

from __future__ import annotations

from flask import abort, flash, g, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...exceptions import ScheduleError
from ...forms import EmptyForm
from ...forms.messages import ScheduleForm
from ...models.types import utcnow
from ...rendering import redirect_to, render_page
from ...security import workspace_required
from ...services import outbox, scheduling
from .base import bp


@bp.get("/scheduled")
@workspace_required("workspace.view")
def schedules(workspace_id):
    rows = [
        (r, scheduling.local(g.workspace, r.scheduled_for))
        for r in scheduling.upcoming(g.workspace)
    ]
    return render_page(
        "messages/schedules.html", None, rows=rows, button_form=EmptyForm(formdata=None)
    )


def _request(request_id):
    send_request = outbox.find(g.workspace, request_id)
    if send_request is None:
        abort(404)
    return send_request


def _back(workspace_id):
    return redirect_to(url_for("messages.schedules", workspace_id=workspace_id))


@bp.route("/scheduled/<int:request_id>/edit", methods=["GET", "POST"])
@workspace_required("messages.send")
def edit_schedule(workspace_id, request_id):
    send_request = _request(request_id)
    if not send_request.editable:
        flash(_("This send has already gone out or was cancelled."), "error")
        return _back(workspace_id)
    form = ScheduleForm()
    if form.validate_on_submit():
        when = scheduling.to_utc(g.workspace, form.send_on.data, form.send_at.data)
        if when <= utcnow():
            form.send_at.errors.append(_("The scheduled time has already passed."))
        else:
            try:
                scheduling.edit(g.workspace, current_user, send_request, form.text.data, when)
            except ScheduleError as error:
                flash(str(error), "error")
            else:
                flash(_("Scheduled send updated."), "success")
            return _back(workspace_id)
    elif not form.is_submitted():
        moment = scheduling.local(g.workspace, send_request.scheduled_for)
        form.text.data = send_request.text
        form.send_on.data, form.send_at.data = moment.date(), moment.time().replace(second=0)
    status = 422 if form.errors else 200
    return render_page(
        "messages/schedule_edit.html", None, status=status, form=form, send_request=send_request
    )


@bp.post("/scheduled/<int:request_id>/cancel")
@workspace_required("messages.send")
def cancel_schedule(workspace_id, request_id):
    send_request = _request(request_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        scheduling.cancel(g.workspace, current_user, send_request)
        flash(_("Scheduled send cancelled; nothing was sent."), "success")
    except ScheduleError as error:
        flash(str(error), "error")
    return _back(workspace_id)


@bp.post("/scheduled/<int:request_id>/send-now")
@workspace_required("messages.send")
def send_missed(workspace_id, request_id):
    send_request = _request(request_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        scheduling.send_missed_now(g.workspace, current_user, send_request)
    except ScheduleError as error:
        flash(str(error), "error")
        return _back(workspace_id)
    return redirect_to(url_for("messages.status", workspace_id=workspace_id, request_id=request_id))
