"""Background jobs of a workspace: the list, one job's progress, imports and exports.

The job system itself (queue, task, kinds, periodic hooks) is set up by create_app
(app/wiring.py); its commands, `flask jobs worker` and `flask jobs sweep`, are in app/cli.py.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from ..downloads import attachment
from ..exceptions import FileProblem, JobStateError, ServiceUnavailableError
from ..forms import EmptyForm
from ..forms.jobs import NO_COLUMN, ColumnsForm, ExportForm, ImportForm, PaceForm
from ..gotone.errors import GoToneError, InvalidRequestError
from ..jobs import wake
from ..models import Job
from ..models import jobs as states
from ..rate_limits import export_limit
from ..rendering import is_fragment_request, redirect_to, render_page
from ..security import workspace_required
from ..services import exports, group_picker, imports, jobs
from ..services import rejects as rejects_file
from ..services.gotone import client_for
from ..services.spreadsheets import FileInfo, column_labels

bp = Blueprint("jobs", __name__, url_prefix="/w/<int:workspace_id>/jobs")


# -- the list ------------------------------------------------------------------------------------
def _groups() -> tuple[list, str | None]:
    """The workspace's groups for the import/export picker, or the gateway's error."""
    try:
        return group_picker.listed(client_for(g.workspace))
    except (GoToneError, ServiceUnavailableError) as error:
        # No token, or no key to read it: the job list is local and still shown.
        return [], str(error)


@bp.get("")
@workspace_required("workspace.view")
def index(workspace_id):
    result = jobs.list_jobs(g.workspace, request.args.get("page", 1, type=int))
    # The group picker is not part of the table fragment (paging): no gateway call for it.
    wanted = _can_edit() and not is_fragment_request()
    groups, groups_error = _groups() if wanted else ([], None)
    pace_form = PaceForm(formdata=None, calls=jobs.pace_of(g.workspace.id))
    return render_page(
        "jobs/index.html",
        "jobs_table",
        result=result,
        groups=groups,
        groups_error=groups_error,
        pace_form=pace_form,
        default_pace=current_app.config["JOBS_PACE"],
        export_form=ExportForm(formdata=None),
    )


def _can_edit() -> bool:
    from ..permissions import can

    return can(g.membership.role, "contacts.edit")


@bp.post("/pace")
@workspace_required("settings.manage")
def update_pace(workspace_id):
    form = PaceForm()
    if form.validate_on_submit():
        jobs.set_pace(g.workspace, current_user, form.calls.data)
        flash(_("Bulk pace saved."), "success")
    else:
        flash(" ".join(form.calls.errors) or _("Enter a number of calls."), "error")
    return redirect_to(url_for("jobs.index", workspace_id=workspace_id))


# -- one job -------------------------------------------------------------------------------------
def _job(job_id: int) -> Job:
    job = jobs.get_job(g.workspace, job_id)
    if job is None:
        abort(404)
    return job


def _detail_ctx(job: Job, columns_form: ColumnsForm | None = None) -> dict:
    ctx = {
        "job": job,
        "button_form": EmptyForm(formdata=None),
        "rejects": [],
        "columns_form": None,
        "stalled": jobs.stalled(job),
    }
    if job.kind == states.IMPORT:
        if job.state in (states.READY, states.ANALYSING) or job.final:
            ctx["rejects"] = jobs.rejected_items(job.id, imports.PREVIEW_REJECTS)
        if job.state == states.READY and job.options:
            info = FileInfo.from_options(job.options)
            form = columns_form or ColumnsForm(formdata=None)
            form.set_columns(column_labels(info))
            if columns_form is None:
                mapping = info.mapping
                form.phone.data = mapping.get("phone") if mapping.get("phone") is not None else 0
                for name in ("first_name", "last_name"):
                    value = mapping.get(name)
                    getattr(form, name).data = NO_COLUMN if value is None else value
                form.has_header.data = info.has_header
            ctx["columns_form"] = form
    return ctx


@bp.get("/<int:job_id>")
@workspace_required("workspace.view")
def show(workspace_id, job_id):
    job = _job(job_id)
    return render_page("jobs/show.html", "job_status", **_detail_ctx(job))


@bp.post("/<int:job_id>/start")
@workspace_required("contacts.edit")
def start(workspace_id, job_id):
    job = _job(job_id)
    if EmptyForm().validate_on_submit():
        try:
            jobs.start(job, current_user)
            wake(job.id, copies=current_app.config["JOBS_RUNNERS"])
            flash(_("Import started."), "success")
        except JobStateError as error:
            flash(str(error), "error")
    return _after_job_change(job)


@bp.post("/<int:job_id>/cancel")
@workspace_required("contacts.edit")
def cancel(workspace_id, job_id):
    job = _job(job_id)
    if EmptyForm().validate_on_submit():
        try:
            jobs.cancel(job, current_user)
            flash(_("Stopped. Rows already sent to the gateway stay there."), "info")
        except JobStateError as error:
            flash(str(error), "error")
    return _after_job_change(job)


@bp.post("/<int:job_id>/columns")
@workspace_required("contacts.edit")
def columns(workspace_id, job_id):
    job = _job(job_id)
    if job.kind != states.IMPORT or job.state != states.READY or not job.options:
        flash(_("The columns can only be changed before the import starts."), "error")
        return _after_job_change(job)
    form = ColumnsForm()
    form.set_columns(column_labels(FileInfo.from_options(job.options)))
    if not form.validate_on_submit():
        return render_page("jobs/show.html", "job_status", 422, **_detail_ctx(job, form))
    imports.remap(job, current_user, form.mapping(), form.has_header.data)
    wake(job.id)
    flash(_("Checking the file again with these columns."), "info")
    return _after_job_change(job)


def _after_job_change(job: Job):
    db_job = jobs.get_job(g.workspace, job.id)
    url = url_for("jobs.show", workspace_id=g.workspace.id, job_id=job.id)
    if is_fragment_request():
        return render_page("jobs/show.html", "job_status", **_detail_ctx(db_job))
    return redirect_to(url)


@bp.get("/<int:job_id>/rejects.csv")
@workspace_required("workspace.view")
def rejects(workspace_id, job_id):
    job = _job(job_id)
    if job.kind != states.IMPORT:
        return _not_available(job)
    app, job_id = current_app._get_current_object(), job.id

    def stream():
        # The body streams after the view returned: each chunk is read in an app context of
        # its own, none is held open between chunks.
        after = 0
        while after is not None:
            with app.app_context():
                text, after = rejects_file.rejects_chunk(job_id, after)
            yield text

    return _csv_response(stream(), f"rejected-rows-{job_id}.csv")


@bp.get("/<int:job_id>/export.csv")
@workspace_required("workspace.view")
def download(workspace_id, job_id):
    job = _job(job_id)
    path = exports.export_path(job) if job.kind == states.EXPORT else None
    if path is None or job.state != states.DONE or not path.exists():
        return _not_available(job)

    def stream():
        # newline="": a CR inside a quoted cell (a name from the gateway) stays a CR.
        with open(path, encoding="utf-8", newline="") as fh:
            while chunk := fh.read(64 * 1024):
                yield chunk

    return _csv_response(stream(), exports.download_name(job))


def _not_available(job: Job):
    flash(_("There is no file to download for this job (yet)."), "info")
    return redirect_to(url_for("jobs.show", workspace_id=g.workspace.id, job_id=job.id))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """A body over MAX_CONTENT_LENGTH, refused before it is read (during the CSRF check)."""
    ctx = {
        "status": 413,
        "title": _("Too large"),
        "message": imports.too_large_message(),
        "request_id": g.get("request_id"),
    }
    if is_fragment_request():
        return render_template("partials/_alert.html", **ctx), 413
    return render_template("errors/error.html", **ctx), 413


def _csv_response(body, filename: str) -> Response:
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = attachment(filename)
    return response


# -- new imports and exports -------------------------------------------------------------------
def _group_name(group_uid: str) -> str:
    """The group's name (one gateway call). GoToneError: 404 for an unknown group, or 5xx."""
    try:
        return client_for(g.workspace).get_group(group_uid).name
    except InvalidRequestError:
        abort(404)  # not even a uid (typed or forged): no group has it; not a gateway fault


@bp.route("/import", methods=["GET", "POST"])
@workspace_required("contacts.edit")
def new_import(workspace_id):
    group_uid = (request.args.get("group") or "").strip()[:64]
    if not group_uid:
        flash(_("Choose the group to import into."), "info")
        return redirect_to(url_for("jobs.index", workspace_id=workspace_id))
    ctx = _import_context(group_uid, _group_name(group_uid))
    if request.method == "GET":
        return render_page("jobs/import.html", "import_form", form=ImportForm(formdata=None), **ctx)
    form = ImportForm()
    if not form.validate_on_submit():
        return render_page("jobs/import.html", "import_form", 422, form=form, **ctx)
    try:
        job = _create_import(form, group_uid, ctx["group_name"])
    except FileProblem as problem:
        ctx["problem"] = str(problem)
        return render_page("jobs/import.html", "import_form", 422, form=form, **ctx)
    if job.state == states.ANALYSING:
        wake(job.id)
    return redirect_to(url_for("jobs.show", workspace_id=workspace_id, job_id=job.id))


def _import_context(group_uid: str, group_name: str) -> dict:
    limit = current_app.config["IMPORT_MAX_BYTES"]
    return {
        "group_uid": group_uid,
        "group_name": group_name,
        "problem": None,
        "max_mb": limit // (1024 * 1024),
    }


def _create_import(form: ImportForm, group_uid: str, group_name: str):
    """The import job of an uploaded file, or else of the pasted text. Raises FileProblem."""
    upload = form.file.data if form.file.data and form.file.data.filename else None
    text = None if upload else form.text.data
    return imports.create_import(g.workspace, current_user, group_uid, group_name, upload, text)


@bp.post("/export")
@export_limit
@workspace_required("contacts.edit")
def new_export(workspace_id):
    form = ExportForm()
    if not form.validate_on_submit():
        flash(_("Choose the group to export."), "error")
        return redirect_to(url_for("jobs.index", workspace_id=workspace_id))
    group_uid = form.group.data.strip()
    job = exports.create_export(g.workspace, current_user, group_uid, _group_name(group_uid))
    wake(job.id, copies=current_app.config["JOBS_RUNNERS"])
    return redirect_to(url_for("jobs.show", workspace_id=workspace_id, job_id=job.id))
