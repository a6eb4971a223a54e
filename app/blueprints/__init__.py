"""Blueprint registration."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import account, auth, health, workspaces

    for module in (auth, account, workspaces, health):
        app.register_blueprint(module.bp)
