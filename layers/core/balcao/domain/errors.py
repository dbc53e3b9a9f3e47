"""The one error vocabulary of Balcão.

Every expected business outcome is a ``BalcaoError``. Each base class below carries the API error ``code`` of
API.md; ``balcao.runtime.http`` maps codes to HTTP statuses in one place. Subclasses name the precise problem
(``<Noun><Problem>Error``) and keep their base's code; Step Functions ``Catch``/``Retry`` match these class names,
so class names are API too.

``message`` is an English msgid: the HTTP edge translates it into the caller's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


def N_(message: str) -> str:
    """Mark a string for translation without translating it (extracted by Babel)."""
    return message


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One invalid field of a request: ``field`` is a dotted path (``address.postal_code``)."""

    field: str
    code: str
    message: str


class BalcaoError(Exception):
    """An expected outcome, mapped to a 4xx/5xx answer or caught by a state machine."""

    code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = N_("Something went wrong on our side. Please try again.")

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class InvalidInputError(BalcaoError):
    """The request is well-formed but some fields are invalid; nothing was written."""

    code = "validation_error"
    default_message = N_("Some fields are invalid.")

    def __init__(self, fields: list[FieldProblem], message: str | None = None) -> None:
        super().__init__(message)
        self.fields = fields

    @classmethod
    def single(cls, field: str, message: str, code: str = "invalid") -> InvalidInputError:
        return cls([FieldProblem(field=field, code=code, message=message)])


class InvalidCredentialsError(BalcaoError):
    """Email, password or code did not match (never says which)."""

    code = "invalid_credentials"
    default_message = N_("The email or password is incorrect.")


class UnauthenticatedError(BalcaoError):
    """No valid session: missing, expired or revoked."""

    code = "unauthorized"
    default_message = N_("Please sign in again.")


class ForbiddenError(BalcaoError):
    """The caller is known but may not use this route (staff routes for customers)."""

    code = "forbidden"
    default_message = N_("You are not allowed to do this.")


class MfaRequiredError(BalcaoError):
    """The route needs a session that passed two-factor authentication."""

    code = "mfa_required"
    default_message = N_("Two-factor authentication is required for this action.")


class NotFoundError(BalcaoError):
    """Nothing the caller may see exists here. Also the answer for other accounts' resources."""

    code = "not_found"
    default_message = N_("Not found.")


class ConflictError(BalcaoError):
    """The change conflicts with the current state (or a concurrent change)."""

    code = "conflict"
    default_message = N_("This conflicts with the current state. Reload and try again.")


class RateLimitedError(BalcaoError):
    """Too many attempts; try again later."""

    code = "rate_limited"
    default_message = N_("Too many attempts. Please wait a moment and try again.")

    def __init__(self, retry_after_seconds: int = 60, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class ProviderUnavailableError(BalcaoError):
    """A provider (payments, provisioning, email) is not configured or not reachable."""

    code = "provider_unavailable"
    default_message = N_("A service we depend on is unavailable. Please try again later.")


class CurrencyMismatchError(BalcaoError):
    """Two amounts in different currencies were combined."""

    code = "validation_error"
    default_message = N_("Amounts must be in the same currency.")


# Messages of field problems, by field code (the ``code`` of each entry of ``fields`` in a 422).
FIELD_MESSAGES: dict[str, str] = {
    "required": N_("This field is required."),
    "invalid": N_("This value is not valid."),
    "too_short": N_("This value is too short."),
    "too_long": N_("This value is too long."),
    "too_small": N_("This value is too small."),
    "too_large": N_("This value is too large."),
    "not_allowed": N_("This field is not allowed."),
    "invalid_choice": N_("This value is not one of the allowed choices."),
    "invalid_json": N_("The request body is not valid JSON."),
}

_FIELD_CODE_BY_VALIDATOR_TYPE: dict[str, str] = {
    "missing": "required",
    "string_too_short": "too_short",
    "too_short": "too_short",
    "string_too_long": "too_long",
    "too_long": "too_long",
    "greater_than": "too_small",
    "greater_than_equal": "too_small",
    "less_than": "too_large",
    "less_than_equal": "too_large",
    "extra_forbidden": "not_allowed",
    "literal_error": "invalid_choice",
    "enum": "invalid_choice",
    "json_invalid": "invalid_json",
}


def problems_from_validation(errors: list[dict[str, object]]) -> list[FieldProblem]:
    """Field problems (msgids, untranslated) from pydantic-style errors (``loc``, ``type``, ``ctx``).

    A validator may name its own message and code with ``ctx = {"balcao_message": ..., "balcao_code": ...}``
    (raise ``pydantic_core.PydanticCustomError("balcao", msg, {...})``).
    """
    problems: list[FieldProblem] = []
    for error in errors:
        raw_location = error.get("loc", ())
        location = [str(part) for part in raw_location] if isinstance(raw_location, list | tuple) else []
        if location and location[0] in ("body", "query", "path", "header"):
            location = location[1:]
        code = _FIELD_CODE_BY_VALIDATOR_TYPE.get(str(error.get("type", "")), "invalid")
        message = FIELD_MESSAGES[code]
        context = error.get("ctx")
        if isinstance(context, dict) and isinstance(context.get("balcao_message"), str):
            message = str(context["balcao_message"])
            code = str(context.get("balcao_code", code))
        problems.append(FieldProblem(field=".".join(location) or "body", code=code, message=message))
    return problems
