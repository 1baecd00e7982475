"""Domain errors raised by services; one handler in main.py maps them to pages, fragments or JSON."""


class DomainError(Exception):
    status_code = 400
    default_message = "Requête invalide"

    def __init__(self, message: str | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message


class NotFound(DomainError):
    status_code = 404
    default_message = "Introuvable"


class Forbidden(DomainError):
    status_code = 403
    default_message = "Accès refusé"


class Conflict(DomainError):
    status_code = 409
    default_message = "Conflit avec l'état actuel"


class NeedsConfirmation(DomainError):
    """Allowed, but worth a second look: the form shows the warnings and acts once confirmed."""

    status_code = 409
    default_message = "À confirmer"

    def __init__(self, warnings: list[str]):
        super().__init__(" ".join(warnings))
        self.warnings = warnings


class TooManyAttempts(DomainError):
    status_code = 429
    default_message = "Trop de tentatives, réessayez plus tard"


class StorageUnavailable(DomainError):
    """The file store (disk or S3) did not answer: the step is refused whole, to be retried."""

    status_code = 503
    default_message = "Le stockage des fichiers ne répond pas : réessayez dans quelques minutes."


class Invalid(DomainError):
    """Bad input; `fields` maps a field name to its French message."""

    status_code = 422
    default_message = "Certaines informations sont à corriger"

    def __init__(self, fields: dict[str, str], message: str | None = None):
        super().__init__(message)
        self.fields = fields
