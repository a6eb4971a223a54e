"""T21 coverage: every POST route is fuzzed or excluded here with its reason.

Routes come from the url_map (tests/web/test_access.py ROUTES): a new POST route fails the first
test until it is added to FUZZED or EXCLUDED, and a view that parses a form (anything but the
CSRF-only EmptyForm, followed through the helpers it calls) can only be in FUZZED.
"""

from __future__ import annotations

import importlib
import inspect
import re

from tests.web.test_access import _MAP_APP, ROUTES

# endpoint -> the test (file::function in tests/fuzz) that fuzzes its form.
FUZZED = {
    "auth.signup": "test_forms_account::test_signup",
    "auth.login": "test_forms_account::test_login",
    "auth.two_factor": "test_forms_account::test_two_factor_step",
    "account.change_password": "test_forms_account::test_change_password",
    "account.change_language": "test_forms_account::test_change_language",
    "account.setup_two_factor": "test_forms_account::test_setup_two_factor",
    "account.disable_two_factor": "test_forms_account::test_disable_two_factor",
    "workspaces.create": "test_forms_workspaces::test_create_workspace",
    "workspaces.rename": "test_forms_workspaces::test_rename_workspace",
    "workspaces.create_invitation": "test_forms_workspaces::test_create_invitation",
    "workspaces.change_role": "test_forms_workspaces::test_change_role",
    "workspaces.transfer_ownership": "test_forms_workspaces::test_transfer_ownership",
    "workspaces.delete": "test_forms_workspaces::test_delete_workspace",
    "workspaces.update_settings": "test_forms_workspaces::test_update_settings",
    "workspaces.set_token": "test_forms_workspaces::test_set_token",
    "jobs.update_pace": "test_forms_workspaces::test_update_pace",
    "groups.create": "test_forms_groups::test_create_group",
    "groups.update": "test_forms_groups::test_rename_group",
    "contacts.create": "test_forms_groups::test_create_contact",
    "contacts.update": "test_forms_groups::test_update_contact",
    "jobs.new_import": "test_forms_groups::test_new_import",
    "jobs.columns": "test_forms_groups::test_columns",
    "jobs.new_export": "test_forms_groups::test_new_export",
    "messages.compose": "test_forms_messages::test_compose_back_to_edit",
    "messages.panel": "test_forms_messages::test_panel",
    "messages.review": "test_forms_messages::test_review",
    "messages.send": "test_forms_messages::test_send",
    "messages.create_template": "test_forms_messages::test_create_template",
    "messages.edit_template": "test_forms_messages::test_edit_template",
    "messages.edit_schedule": "test_forms_messages::test_edit_schedule",
    # A button whose URL carries the history filters (HistoryFilterForm) of the visible page.
    "messages.refresh_statuses": "test_forms_get::test_refresh_statuses",
}

# Buttons: their form is EmptyForm, whose one field is the CSRF token. Nothing typed reaches
# them; the token itself is tested for every such route by tests/web/test_csrf.py (T13), the
# access rules by tests/web/test_access.py (T9), and each action by its area's web tests.
_BUTTON = "button (EmptyForm: CSRF token only)"
EXCLUDED = {
    "auth.logout": _BUTTON,
    "workspaces.accept_invitation": _BUTTON,
    "workspaces.clear_token": _BUTTON,
    "workspaces.test_connection": _BUTTON,
    "workspaces.leave": _BUTTON,
    "workspaces.remove_member": _BUTTON,
    "workspaces.revoke_invitation": _BUTTON,
    "dashboard.refresh": _BUTTON,
    "groups.delete": _BUTTON,
    "contacts.delete": _BUTTON,
    "jobs.start": _BUTTON,
    "jobs.cancel": _BUTTON,
    "messages.cancel_schedule": _BUTTON,
    "messages.send_missed": _BUTTON,
    "messages.delete_template": _BUTTON,
    "messages.resend": _BUTTON,
    "messages.refresh_message": _BUTTON,
}

# GET views that read a form or query arguments, fuzzed in test_forms_get.py.
FUZZED_GET = {
    "messages.history": "test_forms_get::test_history_filters",
    "messages.history_export": "test_forms_get::test_history_export",
    "messages.type_fields": "test_forms_get::test_type_fields",
    "groups.index": "test_forms_get::test_query_arguments_of_other_pages",
    "jobs.index": "test_forms_get::test_query_arguments_of_other_pages",
    "workspaces.audit_log": "test_forms_get::test_query_arguments_of_other_pages",
    "messages.gateway_history": "test_forms_get::test_query_arguments_of_other_pages",
    "messages.compose": "test_forms_get::test_query_arguments_of_other_pages",
    "jobs.new_import": "test_forms_get::test_query_arguments_of_other_pages",
    "auth.login": "test_forms_get::test_query_arguments_of_other_pages",
}

# A form built from the request (not `formdata=None`, which only renders an empty one).
_FORM_CALL = re.compile(r"\b([A-Z]\w*Form)\((?!formdata=None)")
_CALL = re.compile(r"(?<![\w.])([a-z_]\w*)\(")  # a plain call, not service.name(


def _forms_used(function, depth: int = 3) -> set[str]:
    """Form classes a view builds, itself or through the module's helpers it calls."""
    source = inspect.getsource(function)
    found = set(_FORM_CALL.findall(source))
    if depth:
        module = inspect.getmodule(function)
        for name in set(_CALL.findall(source)):
            helper = getattr(module, name, None)
            if (
                inspect.isfunction(helper)
                and helper is not function
                and helper.__module__ == module.__name__
            ):
                found |= _forms_used(helper, depth - 1)
    return found


def _post_endpoints() -> set[str]:
    return {endpoint for endpoint, _, method in ROUTES if method == "POST"}


def test_every_post_route_is_fuzzed_or_excluded_with_a_reason():
    posts = _post_endpoints()
    assert posts - FUZZED.keys() - EXCLUDED.keys() == set(), "fuzz these, or exclude with a reason"
    assert FUZZED.keys() & EXCLUDED.keys() == set()
    assert (FUZZED.keys() | EXCLUDED.keys()) - posts == set(), "no such POST routes any more"


def test_every_view_that_parses_a_form_is_fuzzed():
    for endpoint in _post_endpoints():
        forms = _forms_used(_MAP_APP.view_functions[endpoint]) - {"EmptyForm"}
        if forms:
            assert endpoint in FUZZED, f"{endpoint} parses {forms}: fuzz it"
        else:
            assert endpoint in EXCLUDED, f"{endpoint} parses no form: fuzz it or exclude it"


def test_the_named_fuzz_tests_exist():
    for target in (*FUZZED.values(), *FUZZED_GET.values()):
        module, function = target.split("::")
        assert callable(getattr(importlib.import_module(f"tests.fuzz.{module}"), function)), target
