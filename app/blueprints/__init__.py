"""Blueprint registration."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import account, auth, contacts, dashboard, groups, health, jobs, workspaces

    for module in (auth, account, workspaces, dashboard, groups, contacts, health, jobs):
        app.register_blueprint(module.bp)
