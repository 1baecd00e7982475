"""SMS as they leave the app: which numbers may get one, and the transports that hand them
over — an HTTP gateway, or a folder of JSON files when none is configured.

The gateway's request and answers are described in the README (« SMS »): a JSON POST of
`to`, `text`, `reference` (also the Idempotency-Key header, the same on every retry) and
`callback_url`; 2xx with an `id` is accepted; 408, 425, 429 and 5xx are worth a retry, any
other refusal is final unless its JSON says `"retryable": true`."""

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import httpx
import phonenumbers

from app.core.config import Settings, get_settings
from app.models.beneficiaries import Beneficiary
from app.models.fields import normalise_phone
from app.services.messaging.mail import DeliveryError

# The territories the CEP operators cover, and the mobile ranges libphonenumber knows there:
# 06/07 in metropolitan France, 0690/0691 in Guadeloupe, 0696/0697 in Martinique, 0694 in
# Guyane, 0692/0693 in La Réunion, 0639 in Mayotte.
_REGIONS = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT"})
_MOBILE = frozenset({phonenumbers.PhoneNumberType.MOBILE})
_RETRYABLE_STATUSES = frozenset({408, 425, 429})
_ANSWER_LIMIT = 64 * 1024
CALLBACK_PATH = "/api/sms/callback"


def mobile_number(phone: str | None) -> str | None:
    """The number in E.164 when it is a French (metropolitan or overseas) mobile, however it
    is written (« 0690 12 34 56 » is Guadeloupe's), else None: a landline gets no SMS."""
    if not phone:
        return None
    try:
        e164 = normalise_phone(phone)
    except ValueError:
        return None
    number = phonenumbers.parse(e164)
    if (
        phonenumbers.region_code_for_number(number) not in _REGIONS
        or phonenumbers.number_type(number) not in _MOBILE
    ):
        return None
    return e164


def may_get_sms(beneficiary: Beneficiary) -> bool:
    """A mobile number on file, and no STOP answered from it."""
    return beneficiary.sms_opt_out_at is None and mobile_number(beneficiary.phone) is not None


@dataclass(frozen=True)
class Sms:
    to: str
    text: str
    # The outbox row's message_id: the same on every retry, so that the gateway drops a copy.
    reference: str
    callback_url: str


class SmsTransport(Protocol):
    def send(self, sms: Sms, *, deadline: float | None = None) -> str:
        """Hand the SMS over and return the provider's id for it; raise DeliveryError."""

    def close(self) -> None: ...


class HttpSmsGateway:
    """POSTs each SMS as JSON to the configured gateway, one connection kept for a batch."""

    def __init__(self, settings: Settings):
        self.url = settings.sms_gateway_url
        self.token = settings.sms_gateway_token
        self.timeout = settings.sms_timeout_seconds
        self._client: httpx.Client | None = None

    def send(self, sms: Sms, *, deadline: float | None = None) -> str:
        headers = {"Idempotency-Key": sms.reference, "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            answer = self._http().post(
                self.url, json=asdict(sms), headers=headers, timeout=self._timeout(deadline)
            )
        except (httpx.HTTPError, OSError) as exc:
            self.close()
            raise DeliveryError(f"Passerelle SMS injoignable : {type(exc).__name__}") from exc
        body = _json(answer.content[:_ANSWER_LIMIT])
        if answer.is_success:
            provider_id = body.get("id")
            if isinstance(provider_id, str | int) and str(provider_id).strip():
                return str(provider_id)[:100]
            # Accepted or not? A retry is safe: it carries the same Idempotency-Key.
            raise DeliveryError(f"Réponse {answer.status_code} de la passerelle SMS sans « id »")
        raise refusal(answer.status_code, body)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _http(self) -> httpx.Client:
        if self._client is None:
            # No redirects: a gateway that moved is a setting to fix, not a place to follow.
            self._client = httpx.Client(follow_redirects=False)
        return self._client

    def _timeout(self, deadline: float | None) -> float:
        if deadline is None:
            return self.timeout
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeliveryError("délai d'envoi du SMS dépassé")
        return min(self.timeout, left)


def refusal(status: int, body: dict) -> DeliveryError:
    """A gateway's refusal: busy or broken (5xx, 408, 425, 429) is worth a retry, a message it
    will never take (4xx: a bad number, say) is not — unless its answer says otherwise."""
    retryable = status >= 500 or status in _RETRYABLE_STATUSES
    if isinstance(body.get("retryable"), bool):
        retryable = body["retryable"]
    error = body.get("error")
    detail = f" : {str(error)[:300]}" if isinstance(error, str | int) and str(error) else ""
    return DeliveryError(f"Passerelle SMS : refus {status}{detail}", permanent=not retryable)


def _json(content: bytes) -> dict:
    try:
        found = json.loads(content)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


class SmsFolderTransport:
    """Writes each SMS as a JSON file, for developers without a gateway."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def send(self, sms: Sms, *, deadline: float | None = None) -> str:
        name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in sms.reference)
        path = self.directory / f"{name}.json"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".part")
            partial.write_text(json.dumps(asdict(sms), ensure_ascii=False, indent=2))
            os.replace(partial, path)  # a reader never sees half a file
        except OSError as exc:
            raise DeliveryError(f"{type(exc).__name__} : {exc}") from exc
        return f"fichier {path.name}"

    def close(self) -> None:
        pass


def sms_transport_from_settings(settings: Settings | None = None) -> SmsTransport:
    settings = settings or get_settings()
    if settings.sms_gateway_url:
        return HttpSmsGateway(settings)
    return SmsFolderTransport(settings.sms_dir)


def callback_url(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    return f"{settings.public_base_url.rstrip('/')}{CALLBACK_PATH}"


def describe_sms_destination(settings: Settings | None = None) -> str:
    """Where SMS go, in one French line for the console."""
    settings = settings or get_settings()
    if settings.sms_gateway_url:
        return f"SMS : envoyés par la passerelle {settings.sms_gateway_url}"
    return f"SMS : écrits dans {settings.sms_dir} (aucune passerelle SMS configurée)"
