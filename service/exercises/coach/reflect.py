"""The client's words turned to the second person, for the coach to reflect them back.

"I found out from my colleague" becomes "you found out from your colleague", "j'ai oublié mon
rendez-vous" becomes "vous avez oublié votre rendez-vous": a coach that echoes "I" as "I" sounds
as if it were talking about itself. Word lists are in ``data/reflect.toml``.
"""

from __future__ import annotations

import re

from service.exercises.coach.texts import data_file
from service.kit.i18n import pick_locale

_EN_TOKEN = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|[^\sA-Za-z]+|\s+")
_FR_TOKEN = re.compile(r"\w+(?:-\w+)?'?|[^\w\s]+|\s+")


def second_person(text: str, locale: str) -> str:
    text = text.replace("’", "'")
    return _french(text) if pick_locale(locale) == "fr" else _english(text)


def _english(text: str) -> str:
    data = data_file("reflect.toml")["en"]
    swap, after_i = data["swap"], data["after_i"]
    out: list[str] = []
    previous = ""
    for token in _EN_TOKEN.findall(text):
        low = token.lower()
        if token.isspace() or not token[0].isalpha():
            out.append(token)
            continue
        if low in swap:
            word = swap[low]
        elif previous == "i" and low in after_i:
            word = after_i[low]
        else:
            out.append(token)
            previous = low
            continue
        if token[0].isupper() and _sentence_start(out):
            word = word[0].upper() + word[1:]
        out.append(word)
        previous = low
    return "".join(out)


def _sentence_start(out: list[str]) -> bool:
    before = "".join(out).rstrip()
    return not before or before[-1] in ".!?:;“«\"'"


def _french(text: str) -> str:
    data = data_file("reflect.toml")["fr"]
    subjects, fused, possessive = set(data["subject"]), data["fused"], data["possessive"]
    objects, between, verbs = set(data["object"]), set(data["between"]), data["verbs"]
    tokens = _FR_TOKEN.findall(text)
    out: list[str] = []
    conjugate = False  # a "je" was seen: the next verb takes "vous"
    for index, token in enumerate(tokens):
        low = token.lower()
        if token.isspace() or not token[0].isalnum():
            out.append(token)
            continue
        if conjugate and low == "qui":
            out.append(token)
            continue
        capital = token[0].isupper() and _sentence_start(out)
        if low in fused:
            word = "vous " + fused[low]
            conjugate = False
        elif low in subjects:
            word, conjugate = "vous", True
        elif conjugate and low in objects:
            word = "vous"  # "je me sens" -> "vous vous sentez"
        elif conjugate and low in between:
            word = token
        elif conjugate:
            word, conjugate = _conjugate(low, verbs), False
        elif low in objects:
            word = "vous"  # "il m'a dit" -> "il vous a dit"
        elif low in possessive:
            word = possessive[low]
            conjugate = low == "moi" and _next_word(tokens, index) == "qui"  # "moi qui l'ai" -> "vous qui l'avez"
        else:
            out.append(token)
            continue
        if capital:
            word = word[0].upper() + word[1:]
        out.append(word)
    return _respace("".join(_join_elided(out)))


def _next_word(tokens: list[str], index: int) -> str:
    return next((t.lower() for t in tokens[index + 1 :] if not t.isspace()), "")


def _join_elided(out: list[str]) -> list[str]:
    """ "vous" took the place of "j'" or "m'": a space must follow it."""
    fixed = []
    for index, piece in enumerate(out):
        fixed.append(piece)
        following = out[index + 1] if index + 1 < len(out) else ""
        if piece.lower().startswith("vous") and following and not following[0].isspace() and following[0].isalnum():
            fixed.append(" ")
    return fixed


def _respace(text: str) -> str:
    return re.sub(r" {2,}", " ", text)


def _conjugate(verb: str, table: dict[str, str]) -> str:
    if verb in table:
        return str(table[verb])
    if verb.endswith("ais") or verb.endswith("ait"):
        return verb[:-3] + "iez"  # imparfait and conditionnel: pensais -> pensiez
    if verb.endswith("rai"):
        return verb[:-2] + "ez"  # futur: finirai -> finirez
    if verb.endswith("e"):
        return verb + "z"  # présent of -er verbs: pense -> pensez
    if verb.endswith("is"):
        return verb[:-1] + "ssez"  # finis -> finissez
    return verb
