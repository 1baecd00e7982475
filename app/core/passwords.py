"""What a new password must be: long enough, and not among those that attackers try first.

The judge is zxcvbn (the Python port of Dropbox's estimator): it matches the password against
its frequency lists — the 30 000 most common leaked passwords, names, surnames and words —
and against keyboard rows, sequences, repeats and dates, and scores how many guesses it would
take (0 to 4). Below 3 (about 10⁸ guesses) a password is refused, and so is one made half
or more of the person's name or e-mail: « motdepasse123 »,
« azertyuiop12 » or « Bonjour123456 » are, « marseille13marseille » is not."""

import re

from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 200  # a passphrase is welcome; beyond this, it is a paste gone wrong
MIN_SCORE = 3
# zxcvbn refuses longer input; past 72 characters a password is judged by its start.
_JUDGED_LENGTH = 72
_WORDS = re.compile(r"[^\W\d_]{3,}")


def password_problem(password: str, *, personal: list[str] = ()) -> str | None:
    """Why this password cannot be chosen, in French; None when it can.

    `personal`: what an attacker knows of the person (name, e-mail): guessed first too."""
    if len(password) < MIN_LENGTH:
        return f"Au moins {MIN_LENGTH} caractères (une phrase de passe convient très bien)."
    if len(password) > MAX_LENGTH:
        return f"Au plus {MAX_LENGTH} caractères."
    if not password.strip():
        return "Le mot de passe ne peut pas être fait que d'espaces."
    hints = [word.lower() for text in personal for word in _WORDS.findall(text)]
    judged = password[:_JUDGED_LENGTH]
    result = zxcvbn(judged, user_inputs=[*hints, "filrouge", "fil rouge"])
    personal_part = sum(
        len(match["token"])
        for match in result["sequence"]
        if match.get("dictionary_name") == "user_inputs"
    )
    # zxcvbn forgives a name repeated or padded; an attacker who knows it tries it first.
    if result["score"] >= MIN_SCORE and personal_part * 2 < len(judged):
        return None
    common = [
        match["token"]
        for match in result["sequence"]
        if match.get("dictionary_name") == "passwords"
    ]
    if common:
        return (
            f"Ce mot de passe repose sur « {common[0]} », l'un des mots de passe les plus "
            "répandus : choisissez-en un plus difficile à deviner."
        )
    if personal_part:
        return (
            "Ce mot de passe reprend votre nom ou votre adresse e-mail : choisissez-en un plus "
            "difficile à deviner."
        )
    return (
        "Ce mot de passe est trop facile à deviner (mots courants, suites de touches ou de "
        "chiffres, dates) : allongez-le ou mêlez plusieurs mots sans rapport."
    )
