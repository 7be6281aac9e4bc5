"""The privacy notice's sentences in Polish."""

WORDS = {
    "title": "Klauzula informacyjna: nagrywanie rozmów telefonicznych",
    "intro": (
        "Niniejsza informacja opisuje, jak {controller} nagrywa rozmowy telefoniczne na swoje "
        "numery, co jest przechowywane, jak długo i jakie przysługują Pani/Panu prawa."
    ),
    "h_register": "Nazwa zbioru",
    "register_name": "Nagrania rozmów telefonicznych {controller}",
    "h_controller": "Administrator danych",
    "h_dpo": "Osoba kontaktowa i inspektor ochrony danych",
    "h_purposes": "Cele i podstawa prawna przetwarzania",
    "label_purposes": "Cele",
    "label_basis": "Podstawa prawna",
    "line_number": "Numer {numbers}",
    "line_numbers": "Numery {numbers}",
    "line_other": "Wszystkie pozostałe numery",
    "purpose.service_quality": "jakość obsługi klientów",
    "purpose.evidence": "dowód tego, co uzgodniono lub zgłoszono w rozmowie",
    "purpose.staff_safety": "bezpieczeństwo naszych pracowników",
    "purpose.complaints": "rozpatrywanie skarg i reklamacji",
    "purpose.training": "szkolenie pracowników",
    "purpose.legal_obligation": "obowiązek wynikający z przepisów prawa",
    "basis.consent": "Pani/Pana zgoda (art. 6 ust. 1 lit. a RODO)",
    "basis.contract": "umowa z Panią/Panem (art. 6 ust. 1 lit. b RODO)",
    "basis.legal_obligation": "obowiązek prawny (art. 6 ust. 1 lit. c RODO)",
    "basis.public_task": "zadanie realizowane w interesie publicznym (art. 6 ust. 1 lit. e RODO)",
    "basis.legitimate_interests": "nasz prawnie uzasadniony interes (art. 6 ust. 1 lit. f RODO)",
    "h_data": "Przechowywane dane",
    "data_number": "Pani/Pana numer telefonu",
    "data_time": "data oraz godzina rozpoczęcia i zakończenia rozmowy",
    "data_extension": "numer wewnętrzny pracownika, który odebrał połączenie",
    "data_audio": "nagranie rozmowy (dźwięk)",
    "data_consent": "czy rozmowa została nagrana, czy odmówiono nagrywania",
    "h_sources": "Źródła danych",
    "sources": (
        "Pani/Pan, dzwoniąc do nas; nasz system telefoniczny dodaje datę, godzinę i numer "
        "wewnętrzny."
    ),
    "h_recipients": "Odbiorcy",
    "recipients_staff": (
        "Upoważnieni pracownicy {controller}, każdy wyłącznie w zakresie swojej roli."
    ),
    "recipients_none": (
        "Nagrania nie są udostępniane nikomu innemu, chyba że wymaga tego przepis prawa."
    ),
    "recipients_also": "Ponadto: {recipients}",
    "h_transfers": "Miejsce przechowywania i przekazywanie poza EOG",
    "stored_in": "Nagrania są przechowywane w kraju: {country}.",
    "transfers_none": "Nie są przekazywane poza Unię Europejską ani Europejski Obszar Gospodarczy.",
    "transfers_some": (
        "Przekazywanie poza Unię Europejską lub Europejski Obszar Gospodarczy: {transfers}"
    ),
    "h_retention": "Okres przechowywania danych",
    "retention_line": (
        "{line} (zapowiedź w językach: {languages}): przechowywane przez {period}, następnie "
        "usuwane automatycznie."
    ),
    "retention_months": (
        "Okres liczony w miesiącach kończy się w tym samym dniu ostatniego miesiąca, a gdy "
        "miesiąc jest krótszy, w jego ostatnim dniu."
    ),
    "retention_hold": (
        "Nagranie jest przechowywane dłużej tylko wtedy, gdy wymaga tego blokada prawna w "
        "konkretnej sprawie, np. zgłoszonego przestępstwa lub roszczenia; każda blokada jest "
        "rejestrowana wraz z uzasadnieniem."
    ),
    "days.one": "{n} dzień",
    "days.few": "{n} dni",
    "days.other": "{n} dni",
    "months.one": "{n} miesiąc",
    "months.few": "{n} miesiące",
    "months.other": "{n} miesięcy",
    "h_security": "Sposób zabezpieczenia danych",
    "security_roles": (
        "Z systemu mogą korzystać wyłącznie pracownicy z osobistym kontem i przypisaną rolą; "
        "konsultanci odsłuchują tylko własne rozmowy, a administratorzy systemu nie "
        "odsłuchują żadnych."
    ),
    "security_two_factor": (
        "Pracownicy logują się hasłem i jednorazowym kodem (uwierzytelnianie "
        "dwuskładnikowe); każde zwolnienie z tego wymogu wymaga zgody dwóch "
        "administratorów i jest rejestrowane."
    ),
    "security_audit": (
        "Każde odsłuchanie wraz z podanym powodem oraz każda zmiana są zapisywane w dzienniku "
        "zdarzeń, którego nie można niepostrzeżenie zmienić."
    ),
    "security_tls": "Połączenie z systemem jest szyfrowane.",
    "security_deletion": "Nagrania są usuwane automatycznie po upływie okresu przechowywania.",
    "h_automated": "Zautomatyzowane podejmowanie decyzji",
    "automated": (
        "Brak: na podstawie nagrań nie są podejmowane zautomatyzowane decyzje ani nie jest "
        "prowadzone profilowanie."
    ),
    "h_rights": "Pani/Pana prawa i sposób ich realizacji",
    "right_access": "dostęp do danych i kopia nagrań",
    "right_rectification": "sprostowanie nieprawidłowych danych",
    "right_erasure": "usunięcie danych",
    "right_restriction": "ograniczenie przetwarzania",
    "right_objection": "sprzeciw wobec przetwarzania",
    "right_portability": "przenoszenie danych",
    "right_withdraw": (
        "cofnięcie zgody w dowolnym momencie, bez wpływu na zgodność z prawem wcześniejszego "
        "przetwarzania"
    ),
    "rights_how": (
        "Aby skorzystać z tych praw, prosimy o kontakt z inspektorem ochrony danych: {dpo}. "
        "Odpowiadamy w ciągu {period}; możemy poprosić o potwierdzenie tożsamości."
    ),
    "refuse_key": (
        "Na początku każdej rozmowy można odmówić nagrywania, naciskając {key} w trakcie "
        "zapowiedzi."
    ),
    "refuse_hangup": "Można odmówić nagrywania, rozłączając się w trakcie zapowiedzi.",
    "h_authority": "Organ nadzorczy",
    "authority": (
        "Przysługuje Pani/Panu prawo wniesienia skargi do organu nadzorczego: {authority}."
    ),
    "h_more": "Miejsce publikacji informacji",
    "more": "Niniejsza informacja jest opublikowana pod adresem {url}.",
}
