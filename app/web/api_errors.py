"""The refusals the JSON API answers, as its OpenAPI document shows them: one entry per status,
with the body main.py's error handlers send, to put in a router's or a route's `responses=`;
and the two that FastAPI itself may answer on any operation, written into the document."""

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

SCHEMAS = "#/components/schemas/"


class ErrorAnswer(BaseModel):
    """Every refusal: a sentence in French."""

    detail: str

    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": "Introuvable"}]})


class InvalidAnswer(BaseModel):
    """422: the sentence, and one message per field at fault (`fields`), named as in the
    request; a field inside a list or an object is named by its path (`sections.0.body`)."""

    detail: str
    fields: dict[str, str]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": "Certaines informations sont à corriger",
                    "fields": {"email": "Adresse e-mail invalide"},
                }
            ]
        }
    )


def refusal(description: str, model: type[BaseModel] = ErrorAnswer, **extra) -> dict:
    """One entry of `responses=`: what the status means here, and its body."""
    return {"description": description, "model": model, **extra}


UNAUTHENTICATED = {
    401: refusal(
        "Jeton absent, invalide, expiré ou révoqué",
        headers={
            "WWW-Authenticate": {
                "description": "Le schéma attendu",
                "required": True,
                "schema": {"type": "string", "enum": ["Bearer"]},
            }
        },
    )
}
FORBIDDEN = {403: refusal("Rôle sans accès à cette ressource")}
NOT_FOUND = {404: refusal("Introuvable (ou appartenant à un autre opérateur)")}
# The reads of a person's file: the operator may ask for a reason outside one's own cases.
OUTSIDE_READ = {
    403: refusal(
        "Rôle sans accès à cette ressource, ou dossier hors de votre portefeuille lu sans motif "
        "(paramètre `reason`) alors que l'opérateur en demande un"
    )
}
CONFLICT = {409: refusal("Conflit avec l'état actuel")}
TOO_MANY = {429: refusal("Trop de demandes : réessayez plus tard")}
PDF_UNAVAILABLE = {503: refusal("Génération de PDF indisponible sur ce serveur")}

# The header of every file the API hands out: a download, never shown inline.
DOWNLOAD = {
    "description": "Toujours en pièce jointe, avec le nom du fichier",
    "required": True,
    "schema": {"type": "string", "pattern": "^attachment; "},
}

# What every /api/v1 route behind a Bearer token may answer: no valid token, a role without
# access, a row that is not the operator's (or not at all). 400 and 422 are added to the
# operations that read a body or parameters (with_exact_errors).
API_ERRORS = UNAUTHENTICATED | FORBIDDEN | NOT_FOUND

_INVALID = {
    "description": "Données invalides : un message en français par champ dans `fields`",
    "content": {"application/json": {"schema": {"$ref": f"{SCHEMAS}InvalidAnswer"}}},
}
_UNREADABLE = {
    "description": "Corps de la requête illisible (ni JSON, ni formulaire, ou mal encodé)",
    "content": {"application/json": {"schema": {"$ref": f"{SCHEMAS}ErrorAnswer"}}},
}
_FASTAPI_422 = {"$ref": f"{SCHEMAS}HTTPValidationError"}


def exact_errors(document: dict) -> dict:
    """Write into an OpenAPI document what FastAPI answers before any route runs, in the shape
    main.py's handlers give it: 422 wherever there are parameters or a body to validate (FastAPI
    documents its own shape, which the handler replaces with InvalidAnswer), and 400 wherever
    a body is read, for one that cannot be decoded."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorAnswer, InvalidAnswer):
        schemas.setdefault(
            model.__name__, model.model_json_schema(ref_template=SCHEMAS + "{model}")
        )
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            invalid = responses.get("422", {}).get("content", {}).get("application/json", {})
            if invalid.get("schema") == _FASTAPI_422:
                responses["422"] = _INVALID
            if "requestBody" in operation:
                responses.setdefault("400", _UNREADABLE)
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    return document


def with_exact_errors(openapi: Callable[[], dict]) -> Callable[[], dict]:
    """FastAPI's `app.openapi`, its document passed through exact_errors (which FastAPI's
    cached document keeps: writing it again changes nothing)."""
    return lambda: exact_errors(openapi())
