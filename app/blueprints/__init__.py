"""Blueprint registration."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import account, auth, contacts, groups, health, workspaces

    for module in (auth, account, workspaces, groups, contacts, health):
        app.register_blueprint(module.bp)
