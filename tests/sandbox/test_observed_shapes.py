"""The sandbox sends what Outreach sends (the reviewed x-observed decisions) and takes it back on write."""
from __future__ import annotations

from .conftest import doc


def test_users_carry_duties_as_lists_and_the_attributes_only_real_data_shows(client):
    user = client.get("/users/1").json()["data"]["attributes"]
    assert user["duties"] == [{"id": 3, "name": "Sales Manager", "duty_type": "sales_manager"}]  # a /duties record
    assert user["primaryTimezone"] == "America/Los_Angeles"
    assert "onboardedAt" in user and user["onboardedAt"] is None


def test_prospect_dates_are_sent_as_date_times_and_taken_back_as_either(client):
    prospect = client.get("/prospects/1").json()["data"]["attributes"]
    assert prospect["dateOfBirth"] == "1981-11-21T21:00:00.000Z"
    response = client.post("/prospects", json=doc("prospect", {"dateOfBirth": prospect["dateOfBirth"],
                                                               "graduationDate": "2003-06-01"}))
    assert response.status_code == 201, response.json()
    created = response.json()["data"]["attributes"]
    assert (created["dateOfBirth"], created["graduationDate"]) == ("1981-11-21T21:00:00.000Z", "2003-06-01")


def test_a_union_type_is_accepted_on_write_in_both_shapes(client):
    for exclusions in ("*@example.com", ["*@example.com", "bob@example.com"]):
        response = client.patch("/mailboxes/1", json=doc("mailbox", {"prospectEmailExclusions": exclusions},
                                                          ident=1))
        assert response.status_code == 200, response.json()
        assert response.json()["data"]["attributes"]["prospectEmailExclusions"] == exclusions


def test_attributes_only_real_data_shows_are_unknown_on_write(client):
    response = client.patch("/accounts/1", json=doc("account", {"trashedAt": "2025-01-01T00:00:00.000Z"},
                                                     ident=1))
    assert response.status_code == 422
    assert response.json()["errors"][0]["detail"] == "Unknown attribute 'trashedAt' for account."


def test_snippets_carry_tags_as_a_string_or_a_list_and_take_either_back(client):
    sent = [client.get(f"/snippets/{i}").json()["data"]["attributes"]["tags"] for i in (1, 2)]
    assert sent == ["Quick Response", ["Quick Response"]]
    for tags in sent:
        response = client.patch("/snippets/3", json=doc("snippet", {"tags": tags}, ident=3))
        assert response.status_code == 200, response.json()
        assert response.json()["data"]["attributes"]["tags"] == tags


def test_mailboxes_send_exclusions_as_the_documented_string_or_a_list(client):
    sent = [client.get(f"/mailboxes/{i}").json()["data"]["attributes"]["prospectEmailExclusions"] for i in (1, 2, 3)]
    assert sent == ["noreply@sandbox-sales.example\nbounces@mailer.example",
                    ["noreply@sandbox-sales.example", "bounces@mailer.example"], None]
