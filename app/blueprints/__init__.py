"""Blueprint registration."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import account, auth, contacts, dashboard, groups, health, jobs, messages, workspaces

    for module in (auth, account, workspaces, dashboard, groups, contacts, health, jobs, messages):
        app.register_blueprint(module.bp)
