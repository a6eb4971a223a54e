"""Saved message templates of the workspace: list, create, edit, delete."""

from __future__ import annotations

from flask import abort, flash, g, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...exceptions import TemplateError
from ...forms import EmptyForm
from ...forms.messages import TemplateForm
from ...rendering import redirect_to, render_page
from ...security import workspace_required
from ...services import templates as templates_service
from .base import bp


def _list_page(form, status=200):
    return render_page(
        "messages/templates.html",
        None,
        status=status,
        form=form,
        templates=templates_service.list_templates(g.workspace),
    )


@bp.get("/templates")
@workspace_required("workspace.view")
def templates(workspace_id):
    return _list_page(TemplateForm(formdata=None))


@bp.post("/templates")
@workspace_required("messages.send")
def create_template(workspace_id):
    form = TemplateForm()
    if not form.validate_on_submit():
        return _list_page(form, 422)
    try:
        templates_service.save(g.workspace, current_user, form.name.data, form.text.data)
    except TemplateError as error:
        form.name.errors.append(str(error))
        return _list_page(form, 422)
    flash(_("Template saved."), "success")
    return redirect_to(url_for("messages.templates", workspace_id=workspace_id))


def _template(template_id):
    template = templates_service.get_template(g.workspace, template_id)
    if template is None:
        abort(404)
    return template


@bp.route("/templates/<int:template_id>/edit", methods=["GET", "POST"])
@workspace_required("messages.send")
def edit_template(workspace_id, template_id):
    template = _template(template_id)
    form = TemplateForm(obj=template)
    if form.validate_on_submit():
        try:
            templates_service.save(
                g.workspace, current_user, form.name.data, form.text.data, template
            )
        except TemplateError as error:
            form.name.errors.append(str(error))
        else:
            flash(_("Template saved."), "success")
            return redirect_to(url_for("messages.templates", workspace_id=workspace_id))
    status = 422 if form.errors else 200
    return render_page(
        "messages/template_edit.html", None, status=status, form=form, message_template=template
    )


@bp.post("/templates/<int:template_id>/delete")
@workspace_required("messages.send")
def delete_template(workspace_id, template_id):
    template = _template(template_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    templates_service.delete(g.workspace, current_user, template)
    flash(_("Template deleted."), "success")
    return redirect_to(url_for("messages.templates", workspace_id=workspace_id))
