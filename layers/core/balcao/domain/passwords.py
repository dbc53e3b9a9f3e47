"""The password policy of API.md ("Passwords"): a weak password is a 422 on its field, code ``weak_password``.

- At least 12 characters, counted as Unicode code points and never truncated (NIST SP 800-63B: allow every
  printable character, space and Unicode).
- At most 256 characters, so hashing cost stays bounded (NIST SP 800-63B asks verifiers to allow at least 64).
- At least one lower-case letter, one upper-case letter, one digit and one symbol (any character that is neither a
  letter, a digit nor white space), as API.md requires.
- Not the account's email address, compared case-insensitively.

Every broken rule is reported as its own ``FieldProblem`` on the same field, so the form can list what is missing.
"""

from __future__ import annotations

from balcao.domain.errors import N_, FieldProblem, InvalidInputError

POLICY_VIOLATION = "weak_password"
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256

TOO_SHORT_MESSAGE = N_("Use at least 12 characters.")
TOO_LONG_MESSAGE = N_("Use at most 256 characters.")
NO_LOWER_CASE_MESSAGE = N_("Add a lower-case letter.")
NO_UPPER_CASE_MESSAGE = N_("Add an upper-case letter.")
NO_DIGIT_MESSAGE = N_("Add a digit.")
NO_SYMBOL_MESSAGE = N_("Add a symbol, such as ! or #.")
SAME_AS_EMAIL_MESSAGE = N_("Do not use your email address as your password.")


class WeakPasswordError(InvalidInputError):
    """The password breaks the password policy; each broken rule is one field problem."""

    default_message = N_("Choose a stronger password.")


def check_password(password: str, field: str = "password", email: str | None = None) -> None:
    """Raise ``WeakPasswordError`` listing every rule ``password`` breaks; ``email`` is the account's address."""
    messages: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        messages.append(TOO_SHORT_MESSAGE)
    if len(password) > MAX_PASSWORD_LENGTH:
        messages.append(TOO_LONG_MESSAGE)
    if not any(char.islower() for char in password):
        messages.append(NO_LOWER_CASE_MESSAGE)
    if not any(char.isupper() for char in password):
        messages.append(NO_UPPER_CASE_MESSAGE)
    if not any(char.isdigit() for char in password):
        messages.append(NO_DIGIT_MESSAGE)
    if not any(_is_symbol(char) for char in password):
        messages.append(NO_SYMBOL_MESSAGE)
    if email and password.strip().casefold() == email.strip().casefold():
        messages.append(SAME_AS_EMAIL_MESSAGE)
    if messages:
        raise WeakPasswordError(
            [FieldProblem(field=field, code=POLICY_VIOLATION, message=message) for message in messages]
        )


def _is_symbol(char: str) -> bool:
    return not char.isalnum() and not char.isspace()
