"""Every kind of job is named for what it is: a bulk send is neither an export nor "0 contacts
exported" (issue 12 item 28)."""

from __future__ import annotations

from app.extensions import db
from app.jobs import drain
from app.models import Job, SendRequest
from tests.factories import login
from tests.web.test_messages_send import form_data


def test_a_bulk_send_is_listed_and_summarised_as_a_send(
    client, app, sim_workspace, sim, gateway_token
):
    login(client, sim_workspace.memberships[0].user)
    base = f"/w/{sim_workspace.id}"
    # Merge fields: one message per recipient, sent by a background job.
    sent = client.post(f"{base}/messages/send", data=form_data("k-bulk", merge=True))
    assert sent.status_code == 303
    drain(app)
    db.session.expire_all()
    request = db.session.scalar(db.select(SendRequest))
    job = db.session.get(Job, request.job_id)
    assert job.kind == "send" and len(sim.control.sends(gateway_token)) == 2

    listing = client.get(f"{base}/jobs").get_data(as_text=True)
    assert "Bulk send" in listing and f"Send #{request.id}" in listing
    assert "Export" not in listing.split("<tbody>")[1].split("</tbody>")[0]
    assert f'href="{base}/messages/sends/{request.id}"' in listing

    page = client.get(f"{base}/jobs/{job.id}").get_data(as_text=True)
    assert f"Bulk send #{job.id}" in page
    assert "contacts exported" not in page
    assert 'id="count-sent">2<' in page and 'id="count-failed">0<' in page
    assert f'href="{base}/messages/sends/{request.id}"' in page


def test_lists_opened_past_their_end_show_the_last_page(client, sim_workspace):
    """Issue 12 item 30 for the lists the portal pages itself (jobs, history, audit)."""
    login(client, sim_workspace.memberships[0].user)
    base = f"/w/{sim_workspace.id}"
    for url in (f"{base}/jobs?page=7", f"{base}/messages/history?page=7", f"{base}/audit?page=7"):
        page = client.get(url).get_data(as_text=True)
        assert "Page 7 of" not in page, url
