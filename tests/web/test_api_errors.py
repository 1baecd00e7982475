"""The OpenAPI document shows the refusals as main.py's handlers send them."""

from app.main import create_app


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_every_422_documented_has_the_fields_main_py_sends():
    document = create_app().openapi()
    invalid = {"$ref": "#/components/schemas/InvalidAnswer"}

    wrong = [
        name
        for name, operation in _operations(document)
        if "422" in operation["responses"]
        and operation["responses"]["422"]["content"]["application/json"]["schema"] != invalid
        and name != "POST /api/v1/cases/{case_id}/attachments"  # a refused file has no field
    ]
    assert wrong == []
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert document["components"]["schemas"]["InvalidAnswer"]["required"] == ["detail", "fields"]


def test_an_operation_without_input_documents_no_422():
    operation = create_app().openapi()["paths"]["/api/v1/units"]["get"]

    assert "422" not in operation["responses"]


def test_every_operation_that_reads_a_body_documents_400_for_one_it_cannot_read():
    missing = [
        name
        for name, operation in _operations(create_app().openapi())
        if "requestBody" in operation and "400" not in operation["responses"]
    ]
    assert missing == []


def test_a_body_that_is_not_utf_8_is_refused_with_the_documented_400(client):
    response = client.post(
        "/api/v1/cases", content=b'{"motive": "\xe9"}', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert set(response.json()) == {"detail"}
