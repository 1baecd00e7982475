"""Turn submitted forms into validated models, with French messages per field."""

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter, ValidationError

from app.errors import DomainError, Invalid

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


def localise_datetimes(data: dict, fields: tuple[str, ...], time_zone: str) -> dict:
    """A datetime-local input has no zone: read it in the site's time zone."""
    zone = ZoneInfo(time_zone)
    for name in fields:
        value = data.get(name)
        if not value:
            data.pop(name, None)
            continue
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            continue  # left as typed; validation reports it
        data[name] = (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).isoformat()
    return data


def parse_form(model, form: Mapping, *, datetimes: tuple[str, ...] = (), time_zone: str = "UTC"):
    """Validate a submitted form; raises Invalid with one French message per field."""
    data = {key: value for key, value in form.items() if key != "csrf_token"}
    for name, info in model.model_fields.items():
        if info.annotation is bool or str(info.annotation) == "bool":
            data[name] = name in form and form.get(name) not in ("", "0", "false", "off")
    data = localise_datetimes(data, datetimes, time_zone)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(field_errors(exc)) from exc


def parse_value(kind, value, *, name: str):
    """One value read by hand (a hidden field, a choice carried back) with one of the shared
    types of app.models.bounds or app.models.fields; raises Invalid({name: French message})."""
    try:
        return TypeAdapter(kind).validate_python(value)
    except ValidationError as exc:
        raise Invalid({name: french_message(exc.errors()[0])}) from exc


def form_errors(exc: DomainError) -> dict[str, str]:
    """Field messages of a refused action; any other refusal becomes the form's own message."""
    return exc.fields if isinstance(exc, Invalid) else {"__all__": exc.message}
