"""A 405 names every method its address takes (RFC 9110), on the API and on the pages."""


def test_a_405_from_the_api_lists_the_methods_of_every_route_at_its_address(client):
    # GET and POST are two routes here: Starlette alone would name only the first one's.
    response = client.request("TRACE", "/api/v1/cases/1/action-steps")

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert response.json() == {"detail": "Méthode non autorisée"}


def test_a_405_on_a_page_lists_the_methods_too(client):
    response = client.request("PATCH", "/login")

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert "Méthode non autorisée" in response.text


def test_a_405_on_a_one_method_address_names_that_method(client):
    response = client.post("/healthz")

    assert (response.status_code, response.headers["Allow"]) == (405, "GET")
