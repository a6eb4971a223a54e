"""X-Request-ID: the id in audit rows, logs and error pages is the portal's own, unless a
trusted proxy (PORTAL_PROXY_COUNT) supplies a well-formed one."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import AuditEvent
from app.services import audit

OWN_ID = re.compile(r"^[0-9a-f]{16}$")


def _audited(app, headers: dict[str, str]) -> tuple[str, str]:
    """Make one request that writes an audit row; return (stored id, answered header)."""
    if "audit_probe" not in app.view_functions:

        @app.get("/audit-probe")
        def audit_probe():
            audit.record(None, None, "probe.seen", "probe")
            db.session.commit()
            return "ok"

    response = app.test_client().get("/audit-probe", headers=headers)
    assert response.status_code == 200
    stored = db.session.scalars(db.select(AuditEvent.request_id)).all()[-1]
    return stored, response.headers["X-Request-ID"]


@pytest.mark.parametrize("sent", ["chosen-by-client", "0123456789abcdef", "a" * 64])
def test_a_client_cannot_choose_the_audit_rows_request_id(app, sent):
    stored, answered = _audited(app, {"X-Request-ID": sent})
    assert stored == answered and OWN_ID.match(stored) and stored != sent


def test_behind_a_proxy_its_well_formed_id_is_kept(make_app):
    app = make_app(PROXY_COUNT=1)
    with app.app_context():
        assert _audited(app, {"X-Request-ID": "lb-7f3a.2_b"}) == ("lb-7f3a.2_b", "lb-7f3a.2_b")


@pytest.mark.parametrize(
    "sent", ["a" * 65, "x y", "<script>", "id\u00e9", "id;drop", "id\\n", "id%0A"]
)
def test_behind_a_proxy_a_malformed_id_is_replaced(make_app, sent):
    app = make_app(PROXY_COUNT=1)
    with app.app_context():
        stored, answered = _audited(app, {"X-Request-ID": sent})
    assert stored == answered and OWN_ID.match(stored)
