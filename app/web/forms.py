"""Turn submitted forms into validated models, with French messages per field."""

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter, ValidationError

from app.core.errors import DomainError, Invalid
from app.core.validation import field_errors, french_message


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
