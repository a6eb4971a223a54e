"""Compose → review → send → status, the live estimate panel, and confirmed resends."""

from __future__ import annotations

import contextlib
import uuid

from flask import abort, flash, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from ...exceptions import InFlightError, KeyReusedError, OutboxError, ServiceUnavailableError
from ...forms import EmptyForm
from ...forms.messages import ComposeForm
from ...gotone.errors import GoToneError
from ...models.outbox import MMS, PLAIN, VOICE
from ...rate_limits import send_limit
from ...rendering import is_fragment_request, redirect_to, render_page
from ...security import workspace_required
from ...services import compose as compose_service
from ...services import dashboard, group_picker, jobs, outbox, scheduling, send_state, templates
from ...services.gotone import client_for
from ...services.merge import has_fields
from .base import bp

STATUS_ROWS = 200


def _client():
    try:
        return client_for(g.workspace), None
    except GoToneError as error:
        return None, str(error)


def _form(client, formdata=True, *, listed=True) -> tuple[ComposeForm, list, str | None]:
    """The compose form. listed=False skips walking every group of the workspace (a gateway
    call per 25 groups): the live panel and the review/send posts only need the chosen ones."""
    form = ComposeForm() if formdata else ComposeForm(formdata=None)
    if listed:
        groups, error = group_picker.listed(client)
    else:
        groups, error = group_picker.chosen(client, form.groups.data or []), None
    form.groups.choices = [SelectChoice(grp.uid, grp.name) for grp in groups]
    if not form.send_key.data:
        form.send_key.data = uuid.uuid4().hex
    return form, groups, error


def _with_every_group(form, client) -> tuple[list, str | None]:
    """Fill the form's group choices with every group, to show the compose page again."""
    groups, error = group_picker.listed(client)
    form.groups.choices = [SelectChoice(grp.uid, grp.name) for grp in groups]
    return groups, error


def _panel(form: ComposeForm, client) -> compose_service.Estimate:
    """The live estimate: cheap (group sizes from one page each, no full expansion)."""
    text = form.text.data or ""
    typed = compose_service.collect(g.workspace, None, form.numbers.data or "", [])
    count = len(typed.people)
    if client is not None and form.groups.data:
        with contextlib.suppress(GoToneError):
            count += compose_service.group_sizes(client, list(form.groups.data))
    # The balance the dashboard shows (cached 60 s): typing must not cost a gateway call per
    # keystroke pause. The review asks the gateway afresh before anything is sent.
    result = compose_service.estimate(
        text, form.type.data, count, client, balance=lambda: dashboard.cached_balance(g.workspace)
    )
    result.invalid = typed.invalid  # type: ignore[attr-defined]
    return result


def _compose_page(form, groups, groups_error, client, status=200):
    return render_page(
        "messages/compose.html",
        None,
        status=status,
        form=form,
        groups=groups,
        groups_error=groups_error,
        panel=_panel(form, client),
        sender_warning=compose_service.sender_warning(form.sender_id.data),
        templates=templates.list_templates(g.workspace),
    )


@bp.route("/compose", methods=["GET", "POST"])
@workspace_required("messages.send")
def compose(workspace_id):
    client, client_error = _client()
    if request.method == "POST":  # "Back to edit" from the review page keeps what was typed
        form, groups, groups_error = _form(client)
    else:
        form, groups, groups_error = _form(client, formdata=False)
        if request.args.get("type") in (PLAIN, VOICE, MMS):
            form.type.data = request.args["type"]
        template_id, template = request.args.get("template", 0, type=int), None
        if 0 < template_id < 2**31:  # past the database's integer the lookup overflows (a 500)
            template = templates.get_template(g.workspace, template_id)
        if template is not None:
            form.text.data = template.text
    return _compose_page(form, groups, groups_error or client_error, client)


@bp.get("/type-fields")
@workspace_required("messages.send")
def type_fields(workspace_id):
    """The fields of the chosen type (htmx, on a change of the type select)."""
    form = ComposeForm(formdata=request.args, meta={"csrf": False})
    if not is_fragment_request():  # JavaScript off has the "Change type" button instead
        return redirect_to(
            url_for("messages.compose", workspace_id=workspace_id, type=form.type.data)
        )
    return render_page("messages/compose.html", "type_fields", form=form)


@bp.post("/panel")
@workspace_required("messages.send")
def panel(workspace_id):
    client, _error = _client()
    form, groups, groups_error = _form(client, listed=not is_fragment_request())
    if not is_fragment_request():
        return _compose_page(form, groups, groups_error, client)
    warning = compose_service.sender_warning(form.sender_id.data)
    return render_page(
        "messages/compose.html",
        "panel",
        panel=_panel(form, client),
        form=form,
        sender_warning=warning,
    )


def _prepare():
    """Parse the form, then one service call (recipients, draft, estimate, problems).
    Returns (form, client, prepared) or, on a problem, the compose page to answer with."""
    client, client_error = _client()
    form, groups, _none = _form(client, listed=False)

    def again():  # the compose page once more, every group to choose from, what was typed kept
        return _compose_page(form, *_with_every_group(form, client), client, 422)

    if client is None:
        flash(client_error, "error")
        return None, again()
    if not form.validate_on_submit():
        return None, again()
    try:
        names = {grp.uid: grp.name for grp in groups}
        prepared = compose_service.prepare(g.workspace, form.data, client, names)
    except GoToneError as error:
        flash(str(error), "error")
        return None, again()
    return (form, client, prepared), None


def _review_page(form, prepared: compose_service.Prepared):
    for problem in prepared.problems:
        flash(problem, "error")
    draft = prepared.draft
    return render_page(
        "messages/review.html",
        None,
        status=422 if prepared.problems else 200,
        form=form,
        draft=draft,
        people=prepared.people,
        estimate=prepared.estimate,
        problems=prepared.problems,
        when=scheduling.local(g.workspace, draft.scheduled_for),
        personalised=has_fields(draft.text),
    )


@bp.post("/review")
@send_limit
@workspace_required("messages.send")
def review(workspace_id):
    ready, response = _prepare()
    if response is not None:
        return response
    form, _client_, prepared = ready
    return _review_page(form, prepared)


@bp.post("/send")
@send_limit
@workspace_required("messages.send")
def send(workspace_id):
    send_key = request.form.get("send_key") or request.headers.get("Idempotency-Key") or ""
    if not send_key or len(send_key) > 64:  # not 400: that answer means a CSRF refusal here
        return _refused(_("This form has no valid send key; open the compose page again."), 422)
    existing = outbox.by_key(g.workspace, send_key)
    if existing is not None and request.form.get("fingerprint") == existing.fingerprint:
        # A replayed POST: answer without asking the gateway anything again.
        return _submit_existing(existing)
    ready, response = _prepare()
    if response is not None:
        return response
    form, client, prepared = ready
    if prepared.problems and outbox.by_key(g.workspace, send_key) is None:
        return _review_page(form, prepared)
    return _submit(send_key, prepared.draft, client)


def _submit(send_key: str, draft: outbox.Draft, client):
    """Submit the draft under its key and start sending it; the status page, or a refusal."""
    try:
        submitted = outbox.submit(
            g.workspace,
            current_user,
            send_key,
            draft,
            wait=0 if is_fragment_request() else outbox.IN_FLIGHT_WAIT,
        )
    except KeyReusedError as error:
        return _refused(str(error), 422)
    except InFlightError as error:
        return _refused(str(error), 409, error.request)
    except OutboxError as error:
        return _refused(str(error), 422)
    if submitted.replayed:
        flash(send_state.replay_message(submitted.request), "info")
    elif not outbox.start(submitted.request, client):
        flash(send_state.queue_down_message(submitted.request), "info")
    return redirect_to(
        url_for("messages.status", workspace_id=g.workspace.id, request_id=submitted.request.id)
    )


def _submit_existing(existing):
    flash(send_state.replay_message(existing), "info")
    return redirect_to(
        url_for("messages.status", workspace_id=g.workspace.id, request_id=existing.id)
    )


def _refused(message: str, status: int, request_row=None):
    return render_page(
        "messages/refused.html", "refused", status=status, message=message, send_request=request_row
    )


@bp.get("/sends/<int:request_id>")
@workspace_required("workspace.view")
def status(workspace_id, request_id):
    send_request = outbox.find(g.workspace, request_id)
    if send_request is None:
        abort(404)
    outbox.refresh(send_request)
    job = None
    if send_request.job_id:
        job = jobs.get_job(g.workspace, send_request.job_id)
    return render_page(
        "messages/status.html",
        "status",
        send_request=send_request,
        job=job,
        counts=outbox.counts(send_request),
        message_rows=outbox.messages_of(send_request, STATUS_ROWS),
        when=scheduling.local(g.workspace, send_request.scheduled_for),
        button_form=EmptyForm(formdata=None),
    )


@bp.get("/outbox/<int:message_id>/resend")
@workspace_required("messages.send")
def confirm_resend(workspace_id, message_id):
    message = outbox.find_message(g.workspace, message_id)
    if message is None:
        abort(404)
    if message.state != outbox.UNKNOWN:
        flash(_("Only a message whose outcome is unknown can be resent."), "error")
        return redirect_to(
            url_for("messages.status", workspace_id=workspace_id, request_id=message.request_id)
        )
    return render_page(
        "messages/resend.html", None, message=message, button_form=EmptyForm(formdata=None)
    )


@bp.post("/outbox/<int:message_id>/resend")
@send_limit
@workspace_required("messages.send")
def resend(workspace_id, message_id):
    message = outbox.find_message(g.workspace, message_id)
    if message is None:
        abort(404)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        submitted = outbox.resend(g.workspace, current_user, message)
    except InFlightError as error:
        return _refused(str(error), 409, error.request)
    except (OutboxError, GoToneError, ServiceUnavailableError) as error:
        # No token: nothing was written, the resend can be confirmed again once it is set.
        flash(str(error), "error")
        return redirect_to(
            url_for("messages.status", workspace_id=workspace_id, request_id=message.request_id)
        )
    return redirect_to(
        url_for("messages.status", workspace_id=workspace_id, request_id=submitted.request.id)
    )
