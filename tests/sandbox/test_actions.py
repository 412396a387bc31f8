"""Member actions: state machines, parameters, and what each action changes."""
from __future__ import annotations

import pytest

from .conftest import doc


def act(client, path: str, action: str, **params):
    return client.post(f"{path}/actions/{action}", params={f"actionParams[{k}]": v for k, v in params.items()})


def attrs(response) -> dict:
    assert response.status_code == 200, response.json()
    return response.json()["data"]["attributes"]


@pytest.fixture
def state(client) -> str:
    body = doc("sequenceState", {}, {"prospect": ("prospect", 3), "sequence": ("sequence", 5),
                                     "mailbox": ("mailbox", 2)})
    return f"/sequenceStates/{client.post('/sequenceStates', json=body).json()['data']['id']}"


def find_task(client, **filters) -> str:
    params = {f"filter[{k}]": v for k, v in filters.items()}
    return f"/tasks/{client.get('/tasks', params=params).json()['data'][0]['id']}"


def test_sequence_state_machine(client, state):
    assert attrs(act(client, state, "pause"))["state"] == "paused"
    refused = act(client, state, "pause")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["id"] == "validationError"
    assert attrs(act(client, state, "resume"))["state"] == "active"
    assert act(client, state, "resume").status_code == 422
    assert attrs(act(client, state, "pause"))["state"] == "paused"
    finished = attrs(act(client, state, "finish"))
    assert finished["state"] == "finished" and finished["stateChangedAt"] == finished["updatedAt"]
    for action in ("pause", "resume", "finish"):
        assert act(client, state, action).status_code == 422


def test_sequence_activate_and_deactivate(client):
    disabled = "/sequences/4"  # every fourth seeded sequence is disabled
    assert client.get(disabled).json()["data"]["attributes"]["enabled"] is False
    enabled = attrs(act(client, disabled, "activate"))
    assert enabled["enabled"] is True and enabled["enabledAt"] == enabled["updatedAt"]
    assert act(client, disabled, "activate").status_code == 422
    off = attrs(act(client, disabled, "deactivate"))
    assert off["enabled"] is False and off["enabledAt"] is None


def test_sequence_lock_and_unlock_say_what_the_sequence_already_is(client):
    locked = attrs(act(client, "/sequences/1", "lock"))
    assert locked["locked"] is True and locked["lockedAt"] == locked["updatedAt"]
    refused = act(client, "/sequences/1", "lock")
    assert refused.json()["errors"][0]["detail"] == "Cannot lock sequence 1: it is already locked."
    assert attrs(act(client, "/sequences/1", "unlock"))["locked"] is False
    refused = act(client, "/sequences/1", "unlock")
    assert refused.json()["errors"][0]["detail"] == "Cannot unlock sequence 1: it is already unlocked."


def test_mark_complete(sb, client):
    task = find_task(client, state="incomplete", action="call")
    done = attrs(act(client, task, "markComplete", completionNote="Spoke to them"))
    assert (done["state"], done["completed"], done["note"]) == ("complete", True, "Spoke to them")
    assert done["completedAt"] == done["updatedAt"]
    again = act(client, task, "markComplete")
    assert again.status_code == 422
    assert sb.store.write_log[-1].path == f"/api/v2{task}/actions/markComplete"


def test_mark_complete_of_a_sequence_step_task_advances_its_state(client):
    task = client.get("/tasks", params={"filter[taskType]": "sequence_step_call",
                                        "filter[state]": "incomplete"}).json()["data"][0]
    state = task["relationships"]["sequenceState"]["data"]["id"]
    client.post(f"/sequenceStates/{state}/actions/resume")  # it may have been seeded paused
    before = client.get(f"/sequenceStates/{state}").json()["data"]["relationships"]["sequenceStep"]["data"]["id"]
    act(client, f"/tasks/{task['id']}", "markComplete", completionAction="finish_no_reply")
    assert client.get(f"/sequenceStates/{state}").json()["data"]["attributes"]["state"] == "finished"
    assert before


def test_advance_moves_the_sequence_state_to_the_next_step(client, state):
    body = doc("task", {"action": "call"}, {"owner": ("user", 1), "subject": ("prospect", 3)})
    plain = client.post("/tasks", json=body).json()["data"]["id"]
    assert act(client, f"/tasks/{plain}", "advance").status_code == 422  # not a sequence step task
    seeded = client.get("/tasks", params={"filter[taskType]": "sequence_step_call",
                                          "filter[state]": "incomplete"}).json()["data"][0]
    state_path = f"/sequenceStates/{seeded['relationships']['sequenceState']['data']['id']}"
    act(client, state_path, "resume")  # seeded states may be paused; finished ones stay finished
    before = client.get(state_path).json()["data"]
    order = client.get(f"/sequenceSteps/{before['relationships']['sequenceStep']['data']['id']}").json()
    assert attrs(act(client, f"/tasks/{seeded['id']}", "advance"))["state"] == "complete"
    after = client.get(state_path).json()["data"]
    if order["data"]["attributes"]["order"] == 3 or before["attributes"]["state"] == "finished":
        assert after["attributes"]["state"] == "finished"
    else:
        step = client.get(f"/sequenceSteps/{after['relationships']['sequenceStep']['data']['id']}").json()
        assert step["data"]["attributes"]["order"] == order["data"]["attributes"]["order"] + 1


def test_snooze_defaults_to_a_day_after_the_later_of_now_and_due(client):
    task = find_task(client, state="incomplete")
    due = client.get(task).json()["data"]["attributes"]["dueAt"]
    snoozed = attrs(act(client, task, "snooze"))["dueAt"]
    assert snoozed > due
    assert attrs(act(client, task, "snooze", dueAt="2026-01-02T03:04:05Z"))["dueAt"] == "2026-01-02T03:04:05.000Z"


def test_reschedule_needs_a_due_time(client):
    task = find_task(client, state="incomplete")
    missing = act(client, task, "reschedule")
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["source"] == {"parameter": "actionParams[dueAt]"}
    assert act(client, task, "reschedule", dueAt="tomorrow").status_code == 400
    assert attrs(act(client, task, "reschedule", dueAt="2026-05-01T09:00:00Z"))["dueAt"] == "2026-05-01T09:00:00.000Z"


def test_reassign_owner(client):
    task = find_task(client, state="incomplete")
    moved = act(client, task, "reassignOwner", ownerId=5)
    assert moved.json()["data"]["relationships"]["owner"] == {"data": {"type": "user", "id": 5}}
    assert act(client, task, "reassignOwner", ownerId=999).status_code == 422
    assert act(client, task, "reassignOwner", ownerId="five").status_code == 400
    assert act(client, task, "reassignOwner").status_code == 400


def test_update_note_and_opportunity_association(client):
    task = find_task(client, state="incomplete")
    assert attrs(act(client, task, "updateNote", note="Bring the contract"))["note"] == "Bring the contract"
    assert act(client, task, "updateNote").status_code == 400
    assert attrs(act(client, task, "updateOpportunityAssociation",
                     opportunityAssociation="recent_created"))["opportunityAssociation"] == "recent_created"
    assert act(client, task, "updateOpportunityAssociation").status_code == 400
    assert act(client, task, "updateOpportunityAssociation", opportunityAssociation="whenever").status_code == 422


def test_log_meet_in_person(client):
    meeting = find_task(client, state="incomplete", action="in_person")
    assert act(client, meeting, "logMeetInPerson").status_code == 400
    done = act(client, meeting, "logMeetInPerson", taskDispositionId=3, taskPurposeId=2, completionNote="Met")
    assert attrs(done)["state"] == "complete"
    assert done.json()["data"]["relationships"]["taskDisposition"] == {"data": {"type": "taskDisposition", "id": 3}}
    call = find_task(client, state="incomplete", action="call")
    assert act(client, call, "logMeetInPerson", taskDispositionId=3).status_code == 422


def test_deliver_queues_the_tasks_mailing(client):
    email_task = client.get("/tasks", params={"filter[action]": "email", "filter[state]": "incomplete"}).json()
    task = email_task["data"][0]
    mailing = task["relationships"]["mailing"]["data"]["id"]
    assert attrs(act(client, f"/tasks/{task['id']}", "deliver"))
    assert client.get(f"/mailings/{mailing}").json()["data"]["attributes"]["state"] == "queued"
    assert act(client, f"/tasks/{task['id']}", "deliver").status_code == 422  # already queued
    call = find_task(client, state="incomplete", action="call")
    assert act(client, call, "deliver").status_code == 422


def test_actions_on_a_completed_task_are_refused(client):
    done = find_task(client, state="complete")
    for action, params in (("snooze", {}), ("reschedule", {"dueAt": "2026-01-01T00:00:00Z"}), ("advance", {})):
        assert act(client, done, action, **params).status_code == 422


def test_mailbox_test_actions(client):
    assert attrs(act(client, "/mailboxes/1", "testSync"))["syncSuccessAt"] is not None
    linked = act(client, "/mailboxes/1", "linkEwsMasterAccount")
    assert linked.status_code == 200 and linked.json() == {}


@pytest.mark.parametrize(("path", "status"), [
    pytest.param("/tasks/1/actions/fly", 404, id="unknown-action"),
    pytest.param("/prospects/1/actions/pause", 404, id="type-without-actions"),
    pytest.param("/tasks/9999/actions/snooze", 404, id="missing-record"),
])
def test_action_not_found(client, path, status):
    response = client.post(path)
    assert response.status_code == status
    assert response.json()["errors"][0]["id"] == "resourceNotFound"


def test_unsupported_action_parameter_is_400(client):
    response = client.post("/tasks/1/actions/snooze", params={"actionParams[colour]": "red"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"parameter": "actionParams[colour]"}


def test_action_must_be_post(client):
    assert client.get("/tasks/1/actions/snooze").status_code == 405


def test_sequence_template_activate_and_deactivate(client):
    enabled = attrs(act(client, "/sequenceTemplates/4", "activate"))
    assert enabled["enabled"] is True and enabled["enabledAt"] == enabled["updatedAt"]
    refused = act(client, "/sequenceTemplates/4", "activate")
    assert refused.status_code == 422 and "sequenceTemplate 4" in refused.json()["errors"][0]["detail"]
    assert attrs(act(client, "/sequenceTemplates/4", "deactivate"))["enabled"] is False


def test_batch_cancel_and_confirm(client):
    assert act(client, "/batches/1", "cancel").status_code == 422  # finished batches stay finished
    canceled = attrs(act(client, "/batches/2", "cancel"))
    assert canceled["state"] == "canceled" and canceled["canceledAt"]
    assert act(client, "/batches/2", "confirm").status_code == 422  # a canceled batch has nothing to confirm
    wrong = act(client, "/batches/3", "confirm", confirmedCount=1)  # batch 3 asks for its count confirmed
    assert wrong.status_code == 422 and "confirmedCount must be 2" in wrong.json()["errors"][0]["detail"]
    confirmed = attrs(act(client, "/batches/3", "confirm", confirmedCount=2))
    # a bulk action's batch runs at once once confirmed (batch 3 adds the tag webinar to prospects 5 and 6)
    assert confirmed["state"] == "finished" and confirmed["confirmedAt"] and confirmed["pending"] == 0
    assert "webinar" in client.get("/prospects/5").json()["data"]["attributes"]["tags"]
