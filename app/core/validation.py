"""Validation errors in French, one message per field, for forms and CSV imports alike."""

from collections.abc import Mapping

from pydantic import ValidationError

_MESSAGES = {
    "missing": "Ce champ est obligatoire",
    "string_too_short": "Ce champ est obligatoire",
    "enum": "Choix invalide",
    "literal_error": "Choix invalide",
    "int_parsing": "Nombre entier attendu",
    "int_type": "Nombre entier attendu",
    "bool_parsing": "Valeur invalide",
    "datetime_parsing": "Date et heure invalides",
    "datetime_from_date_parsing": "Date et heure invalides",
    "datetime_type": "Date invalide",
    "timezone_aware": "Date invalide : fuseau horaire manquant",
    "date_parsing": "Date invalide",
    "date_from_datetime_parsing": "Date invalide",
    "date_from_datetime_inexact": "Date invalide : le jour seul est attendu",
    "value_error": None,  # our own validators already speak French
}


def french_message(error: Mapping) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "string_too_long":
        return f"Trop long : {ctx.get('max_length')} caractères au plus"
    if kind in ("greater_than_equal", "greater_than"):
        return f"Doit être au moins {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"Doit être au plus {ctx.get('le', ctx.get('lt'))}"
    if kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
        if "email" in message.lower() and "@" in message or "email address" in message:
            return "Adresse e-mail invalide"
        return message.removeprefix("Value error, ")
    return _MESSAGES.get(kind) or "Valeur invalide"


def field_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "__all__"
        errors.setdefault(name, french_message(error))
    return errors
