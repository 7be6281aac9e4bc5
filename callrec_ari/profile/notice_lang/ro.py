"""The privacy notice's sentences in Romanian."""

WORDS = {
    "title": "Notă de informare: înregistrarea convorbirilor telefonice",
    "intro": (
        "Această notă descrie cum {controller} înregistrează convorbirile telefonice către "
        "numerele sale, ce se păstrează, cât timp și ce drepturi aveți."
    ),
    "h_register": "Denumirea evidenței",
    "register_name": "Înregistrările convorbirilor {controller}",
    "h_controller": "Operatorul de date",
    "h_dpo": "Persoana de contact și responsabilul cu protecția datelor",
    "h_purposes": "Scopurile și temeiul juridic al prelucrării",
    "label_purposes": "Scopuri",
    "label_basis": "Temei juridic",
    "line_number": "Numărul {numbers}",
    "line_numbers": "Numerele {numbers}",
    "line_other": "Toate celelalte numere",
    "purpose.service_quality": "calitatea serviciului nostru pentru clienți",
    "purpose.evidence": "dovada celor convenite sau semnalate în convorbire",
    "purpose.staff_safety": "siguranța personalului nostru",
    "purpose.complaints": "soluționarea reclamațiilor și a pretențiilor",
    "purpose.training": "instruirea personalului nostru",
    "purpose.legal_obligation": "o obligație prevăzută de lege",
    "basis.consent": "consimțământul dumneavoastră (art. 6 alin. (1) lit. a) din RGPD)",
    "basis.contract": "un contract cu dumneavoastră (art. 6 alin. (1) lit. b) din RGPD)",
    "basis.legal_obligation": "o obligație legală (art. 6 alin. (1) lit. c) din RGPD)",
    "basis.public_task": ("o sarcină de interes public (art. 6 alin. (1) lit. e) din RGPD)"),
    "basis.legitimate_interests": ("interesul nostru legitim (art. 6 alin. (1) lit. f) din RGPD)"),
    "h_data": "Datele păstrate",
    "data_number": "numărul dumneavoastră de telefon",
    "data_time": "data și ora începerii și încheierii convorbirii",
    "data_extension": "interiorul angajatului care a răspuns",
    "data_audio": "înregistrarea convorbirii (audio)",
    "data_consent": "dacă convorbirea a fost înregistrată sau ați refuzat înregistrarea",
    "h_sources": "Sursele datelor",
    "sources": (
        "Dumneavoastră, atunci când ne sunați; sistemul nostru telefonic adaugă data, ora și "
        "interiorul."
    ),
    "h_recipients": "Destinatari",
    "recipients_staff": (
        "Personalul autorizat al {controller}, fiecare doar în măsura permisă de rolul său."
    ),
    "recipients_none": "Înregistrările nu sunt dezvăluite altcuiva, decât dacă legea o cere.",
    "recipients_also": "De asemenea: {recipients}",
    "h_transfers": "Stocarea și transferurile în afara UE/SEE",
    "stored_in": "Înregistrările sunt stocate în {country}.",
    "transfers_none": (
        "Acestea nu sunt transferate în afara Uniunii Europene sau a Spațiului Economic European."
    ),
    "transfers_some": (
        "Transferuri în afara Uniunii Europene sau a Spațiului Economic European: {transfers}"
    ),
    "h_retention": "Durata păstrării datelor",
    "retention_line": ("{line} (anunț în {languages}): păstrate {period}, apoi șterse automat."),
    "retention_months": (
        "O perioadă în luni se încheie în aceeași zi a ultimei luni sau, dacă luna este mai "
        "scurtă, în ultima ei zi."
    ),
    "retention_hold": (
        "O înregistrare este păstrată mai mult doar cât timp o cere o măsură de conservare "
        "pentru un caz anume, de exemplu o infracțiune semnalată sau o pretenție; fiecare "
        "astfel de măsură este consemnată împreună cu motivul ei."
    ),
    "days.one": "{n} zi",
    "days.few": "{n} zile",
    "days.other": "{n} de zile",
    "months.one": "{n} lună",
    "months.few": "{n} luni",
    "months.other": "{n} de luni",
    "h_security": "Cum sunt protejate datele",
    "security_roles": (
        "Sistemul poate fi folosit doar de angajați cu un cont personal și un rol; operatorii "
        "ascultă doar propriile convorbiri, iar administratorii sistemului nu ascultă niciuna."
    ),
    "security_two_factor": (
        "Angajații se autentifică cu o parolă și un cod de unică folosință "
        "(autentificare în doi pași); orice excepție necesită aprobarea a doi "
        "administratori și este consemnată."
    ),
    "security_audit": (
        "Fiecare ascultare, cu motivul declarat, și fiecare modificare sunt consemnate într-un "
        "jurnal care nu poate fi modificat fără să se observe."
    ),
    "security_tls": "Conexiunea la sistem este criptată.",
    "security_deletion": "Înregistrările sunt șterse automat la sfârșitul perioadei de păstrare.",
    "h_automated": "Procesul decizional automatizat",
    "automated": (
        "Niciunul: pe baza înregistrărilor nu se iau decizii automatizate și nu se face "
        "creare de profiluri."
    ),
    "h_rights": "Drepturile dumneavoastră și cum le exercitați",
    "right_access": "accesul la date și o copie a înregistrărilor dumneavoastră",
    "right_rectification": "rectificarea datelor inexacte",
    "right_erasure": "ștergerea datelor",
    "right_restriction": "restricționarea prelucrării",
    "right_objection": "opoziția la prelucrare",
    "right_portability": "portabilitatea datelor",
    "right_withdraw": (
        "retragerea consimțământului în orice moment, fără a afecta legalitatea prelucrării "
        "anterioare"
    ),
    "rights_how": (
        "Pentru a vă exercita aceste drepturi, contactați responsabilul cu protecția datelor: "
        "{dpo}. Răspundem în termen de {period}; vă putem cere să vă dovediți identitatea."
    ),
    "refuse_key": (
        "Puteți refuza înregistrarea la începutul fiecărei convorbiri apăsând tasta {key} în "
        "timpul anunțului."
    ),
    "refuse_hangup": "Puteți refuza înregistrarea închizând apelul în timpul anunțului.",
    "h_authority": "Autoritatea de supraveghere",
    "authority": (
        "Aveți dreptul de a depune o plângere la autoritatea de supraveghere: {authority}."
    ),
    "h_more": "Unde este publicată această notă",
    "more": "Această notă este publicată la adresa {url}.",
}
