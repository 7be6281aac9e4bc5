"""The short first layer of the notice, composed from the profile: what a caller hears.

Pure text, no I/O. Per language, a caller hears the announcement and then, when a decline
key is configured, the decline hint (two prompts, played back to back by the consent flow)::

    announcement   who records, why (at most two purposes), that staying on is consent,
                   [how to refuse: hang up - only when no decline key is offered],
                   where the full notice is (its address spoken as words)
    decline-hint   how to refuse: press <key>

Everything else (retention, recipients, rights, transfers) is in the full notice the
announcement names. Nothing here promises an unrecorded call-back: seed 004 records
outbound calls. The outbound announcement asks the callee to press a key to agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callrec_ari.errors import PromptError
from callrec_ari.profile.model import Processing, Profile, Purpose
from callrec_ari.prompts.keys import check_key, spoken_key

ANNOUNCEMENT = "announcement"
DECLINE_HINT = "decline-hint"
OUTBOUND_ANNOUNCEMENT = "outbound-announcement"
KEY_PLACEHOLDER = "{key}"
MAX_SPOKEN_PURPOSES = 2  # more would not fit the 12 s ceiling; the notice lists them all


@dataclass(frozen=True, kw_only=True)
class Wording:
    """One language's sentences; ``{controller}``, ``{purposes}``, ``{url}``, ``{key}`` are
    filled in by ``compose``."""

    purposes: dict[Purpose, str]  # as they read after the announcement's "for"
    conjunction: str  # between the two purposes
    announcement: str
    hang_up: str  # how to refuse when no decline key is offered
    decline_hint: str
    outbound: str
    otherwise_unrecorded: str  # what happens to an outbound call without the agree key...
    otherwise_ends: str  # ...on a route that ends it instead
    url_words: dict[str, str]  # "." and "/" and "-" as said aloud


WORDINGS: dict[str, Wording] = {
    "en": Wording(
        purposes={
            Purpose.SERVICE_QUALITY: "service quality",
            Purpose.EVIDENCE: "evidence",
            Purpose.STAFF_SAFETY: "staff safety",
            Purpose.COMPLAINTS: "handling complaints",
            Purpose.TRAINING: "staff training",
            Purpose.LEGAL_OBLIGATION: "legal obligations",
        },
        conjunction="and",
        announcement="{controller} records this call for {purposes}. "
        "Staying on the line means you agree.{hang_up} Full notice: {url}.",
        hang_up=" If you do not agree, please hang up.",
        decline_hint="To refuse, press {key}.",
        outbound="This is {controller}. This call may be recorded for {purposes}. "
        "To agree, press {key}; {otherwise}. Full notice: {url}.",
        otherwise_unrecorded="otherwise the call goes on unrecorded",
        otherwise_ends="otherwise the call ends",
        url_words={".": "dot", "/": "slash", "-": "dash"},
    ),
    "pl": Wording(
        purposes={
            # after "w celach": adjectives where Polish has one, else a genitive
            Purpose.SERVICE_QUALITY: "jakościowych",
            Purpose.EVIDENCE: "dowodowych",
            Purpose.STAFF_SAFETY: "bezpieczeństwa pracowników",
            Purpose.COMPLAINTS: "reklamacyjnych",
            Purpose.TRAINING: "szkoleniowych",
            Purpose.LEGAL_OBLIGATION: "wymaganych prawem",
        },
        conjunction="i",
        announcement="{controller} nagrywa rozmowę w celach {purposes}. "
        "Kontynuując, zgadzasz się.{hang_up} Więcej: {url}.",
        hang_up=" Jeśli nie, rozłącz się.",
        decline_hint="Aby odmówić, wciśnij {key}.",
        outbound="Dzwoni {controller}. Rozmowa może być nagrywana w celach {purposes}. "
        "Aby się zgodzić, wciśnij {key}; {otherwise}. Więcej: {url}.",
        otherwise_unrecorded="inaczej rozmowa nie będzie nagrywana",
        otherwise_ends="inaczej rozmowa zostanie zakończona",
        url_words={".": "kropka", "/": "ukośnik", "-": "myślnik"},
    ),
    "sv": Wording(
        purposes={
            Purpose.SERVICE_QUALITY: "kvalitetssäkring",
            Purpose.EVIDENCE: "bevisning",
            Purpose.STAFF_SAFETY: "personalens säkerhet",
            Purpose.COMPLAINTS: "hantering av klagomål",
            Purpose.TRAINING: "utbildning av personal",
            Purpose.LEGAL_OBLIGATION: "rättsliga skyldigheter",
        },
        conjunction="och",
        announcement="{controller} spelar in samtalet för {purposes}. "
        "Stannar du kvar godkänner du det.{hang_up} Mer information: {url}.",
        hang_up=" Annars, lägg på.",
        decline_hint="Tryck {key} för att neka.",
        outbound="Det här är {controller}. Samtalet kan spelas in för {purposes}. "
        "Tryck {key} om du godkänner; {otherwise}. Mer information: {url}.",
        otherwise_unrecorded="annars spelas samtalet inte in",
        otherwise_ends="annars avslutas samtalet",
        url_words={".": "punkt", "/": "snedstreck", "-": "bindestreck"},
    ),
    "fi": Wording(
        purposes={
            Purpose.SERVICE_QUALITY: "palvelun laadun",
            Purpose.EVIDENCE: "todisteiden",
            Purpose.STAFF_SAFETY: "henkilöstön turvallisuuden",
            Purpose.COMPLAINTS: "valitusten käsittelyn",
            Purpose.TRAINING: "henkilöstön koulutuksen",
            Purpose.LEGAL_OBLIGATION: "lakisääteisen velvoitteen",
        },
        conjunction="ja",
        announcement="{controller} tallentaa puhelun {purposes} vuoksi. "
        "Jatkamalla hyväksyt.{hang_up} Lisätietoja: {url}.",
        hang_up=" Muuten katkaise puhelu.",
        decline_hint="Kieltäydy painamalla {key}.",
        outbound="Täällä {controller}. Puhelu voidaan tallentaa {purposes} vuoksi. "
        "Jos hyväksyt, paina {key}; {otherwise}. Lisätietoja: {url}.",
        otherwise_unrecorded="muuten puhelua ei tallenneta",
        otherwise_ends="muuten puhelu päättyy",
        url_words={".": "piste", "/": "kauttaviiva", "-": "viiva"},
    ),
    "ro": Wording(
        purposes={
            Purpose.SERVICE_QUALITY: "calitatea serviciilor",
            Purpose.EVIDENCE: "dovezi",
            Purpose.STAFF_SAFETY: "siguranța personalului",
            Purpose.COMPLAINTS: "soluționarea reclamațiilor",
            Purpose.TRAINING: "instruirea personalului",
            Purpose.LEGAL_OBLIGATION: "obligații legale",
        },
        conjunction="și",
        announcement="{controller} înregistrează apelul pentru {purposes}. "
        "Continuând, sunteți de acord.{hang_up} Detalii: {url}.",
        hang_up=" Altfel, vă rugăm să închideți.",
        decline_hint="Pentru refuz, apăsați {key}.",
        outbound="Vă sună {controller}. Acest apel poate fi înregistrat pentru {purposes}. "
        "Pentru acord, apăsați {key}; {otherwise}. Detalii: {url}.",
        otherwise_unrecorded="altfel, apelul nu se înregistrează",
        otherwise_ends="altfel, apelul se încheie",
        url_words={".": "punct", "/": "bară", "-": "cratimă"},
    ),
}
LANGUAGES = tuple(sorted(WORDINGS))
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def wording(language: str) -> Wording:
    """The sentences of ``language``; PromptError for a language callrec has none for."""
    try:
        return WORDINGS[language]
    except KeyError:
        raise PromptError(
            f"There is no announcement wording in {language!r} (only {', '.join(LANGUAGES)}): "
            f"write prompts/{language}/announcement.txt yourself."
        ) from None


def spoken_url(url: str, language: str) -> str:
    """The notice address as it reads aloud: no scheme, '.', '/' and '-' as words."""
    address = _SCHEME.sub("", url.strip()).rstrip("/")
    words = wording(language).url_words
    return re.sub(r"[./-]", lambda sign: f" {words[sign.group()]} ", address).strip()


def spoken_purposes(processing: Processing, language: str) -> str:
    """The route's first two purposes (the rest are in the full notice), joined as said."""
    said = wording(language)
    chosen = list(dict.fromkeys(processing.purposes))[:MAX_SPOKEN_PURPOSES]
    if not chosen:
        raise PromptError("The profile's processing names no purpose to announce.")
    return f" {said.conjunction} ".join(said.purposes[purpose] for purpose in chosen)


def announcement_text(
    profile: Profile, processing: Processing, language: str, decline_key: str | None
) -> str:
    """The announcement prompt's text. "Hang up" is its way to refuse only when no decline
    key is offered; otherwise the decline hint that follows it names the key."""
    said = wording(language)
    return said.announcement.format(
        controller=profile.controller_name.strip(),
        purposes=spoken_purposes(processing, language),
        hang_up=said.hang_up if decline_key is None else "",
        url=spoken_url(profile.notice_url, language),
    )


def decline_hint_text(language: str) -> str:
    """The decline hint's text, with ``{key}`` where the build speaks the configured key."""
    return wording(language).decline_hint


def compose(
    profile: Profile, processing: Processing, language: str, decline_key: str | None
) -> str:
    """Everything a caller hears in ``language`` before being connected, as spoken."""
    text = announcement_text(profile, processing, language, decline_key)
    if decline_key is None:
        return text
    check_key(decline_key)
    hint = decline_hint_text(language).replace(KEY_PLACEHOLDER, spoken_key(language, decline_key))
    return f"{text} {hint}"


def compose_outbound(
    profile: Profile,
    processing: Processing,
    language: str,
    agree_key: str,
    *,
    ends_without_consent: bool = False,
) -> str:
    """The outbound announcement (prompt ``outbound-announcement``): who calls, why the call
    may be recorded, press ``agree_key`` to agree, what happens otherwise, the notice."""
    check_key(agree_key, what="Agree key")
    said = wording(language)
    return said.outbound.format(
        controller=profile.controller_name.strip(),
        purposes=spoken_purposes(processing, language),
        key=spoken_key(language, agree_key),
        otherwise=said.otherwise_ends if ends_without_consent else said.otherwise_unrecorded,
        url=spoken_url(profile.notice_url, language),
    )
