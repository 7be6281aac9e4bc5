"""The privacy notice's sentences in Swedish."""

WORDS = {
    "title": "Dataskyddsbeskrivning: inspelning av telefonsamtal",
    "intro": (
        "Denna beskrivning anger hur {controller} spelar in telefonsamtal till sina nummer, "
        "vad som sparas, hur länge och vilka rättigheter du har."
    ),
    "h_register": "Registrets namn",
    "register_name": "Samtalsinspelningar hos {controller}",
    "h_controller": "Personuppgiftsansvarig",
    "h_dpo": "Kontaktperson och dataskyddsombud",
    "h_purposes": "Ändamålet med och rättslig grund för behandlingen",
    "label_purposes": "Ändamål",
    "label_basis": "Rättslig grund",
    "line_number": "Nummer {numbers}",
    "line_numbers": "Nummer {numbers}",
    "line_other": "Alla övriga nummer",
    "purpose.service_quality": "kvaliteten på vår kundtjänst",
    "purpose.evidence": "bevis på vad som avtalades eller anmäldes i samtalet",
    "purpose.staff_safety": "vår personals säkerhet",
    "purpose.complaints": "handläggning av klagomål och anspråk",
    "purpose.training": "utbildning av vår personal",
    "purpose.legal_obligation": "en skyldighet enligt lag",
    "basis.consent": "ditt samtycke (artikel 6.1 a i dataskyddsförordningen)",
    "basis.contract": "ett avtal med dig (artikel 6.1 b i dataskyddsförordningen)",
    "basis.legal_obligation": "en rättslig förpliktelse (artikel 6.1 c i dataskyddsförordningen)",
    "basis.public_task": (
        "en uppgift av allmänt intresse (artikel 6.1 e i dataskyddsförordningen)"
    ),
    "basis.legitimate_interests": (
        "vårt berättigade intresse (artikel 6.1 f i dataskyddsförordningen)"
    ),
    "h_data": "Registrets datainnehåll",
    "data_number": "ditt telefonnummer",
    "data_time": "datum och tid då samtalet började och slutade",
    "data_extension": "anknytningen till den anställda som svarade",
    "data_audio": "inspelningen av samtalet (ljud)",
    "data_consent": "om samtalet spelades in eller om du vägrade inspelning",
    "h_sources": "Regelmässiga uppgiftskällor",
    "sources": (
        "Du, när du ringer till oss; vårt telefonsystem lägger till datum, tid och anknytning."
    ),
    "h_recipients": "Mottagare",
    "recipients_staff": (
        "Behöriga anställda hos {controller}, var och en endast i den mån deras roll tillåter."
    ),
    "recipients_none": "Inspelningarna lämnas inte ut till någon annan, om inte lag kräver det.",
    "recipients_also": "Dessutom: {recipients}",
    "h_transfers": "Lagring och överföring utanför EU/EES",
    "stored_in": "Inspelningarna lagras i {country}.",
    "transfers_none": (
        "De överförs inte till länder utanför Europeiska unionen eller Europeiska ekonomiska "
        "samarbetsområdet."
    ),
    "transfers_some": (
        "Överföring utanför Europeiska unionen eller Europeiska ekonomiska "
        "samarbetsområdet: {transfers}"
    ),
    "h_retention": "Lagringstid",
    "retention_line": (
        "{line} (meddelande på {languages}): sparas i {period} och raderas sedan automatiskt."
    ),
    "retention_months": (
        "En period i månader slutar samma dag i den sista månaden, eller på månadens sista dag "
        "om den är kortare."
    ),
    "retention_hold": (
        "En inspelning sparas längre endast så länge ett rättsligt bevarande i ett visst ärende, "
        "till exempel ett anmält brott eller ett anspråk, kräver det; varje sådant beslut "
        "registreras med sitt skäl."
    ),
    "days.one": "{n} dag",
    "days.few": "{n} dagar",
    "days.other": "{n} dagar",
    "months.one": "{n} månad",
    "months.few": "{n} månader",
    "months.other": "{n} månader",
    "h_security": "Principerna för skydd av registret",
    "security_roles": (
        "Endast anställda med ett personligt konto och en roll kan använda systemet; "
        "kundrådgivare hör endast sina egna samtal, och de som administrerar systemet hör inga."
    ),
    "security_two_factor": (
        "Anställda loggar in med lösenord och en engångskod "
        "(tvåfaktorsautentisering); varje undantag kräver godkännande av två "
        "administratörer och registreras."
    ),
    "security_audit": (
        "Varje avlyssning, med angivet skäl, och varje ändring skrivs i en logg som inte kan "
        "ändras obemärkt."
    ),
    "security_tls": "Förbindelsen till systemet är krypterad.",
    "security_deletion": "Inspelningarna raderas automatiskt när lagringstiden gått ut.",
    "h_automated": "Automatiserat beslutsfattande",
    "automated": ("Inget: inga automatiserade beslut eller profilering grundas på inspelningarna."),
    "h_rights": "Dina rättigheter och hur du använder dem",
    "right_access": "tillgång till dina uppgifter och en kopia av dina inspelningar",
    "right_rectification": "rättelse av felaktiga uppgifter",
    "right_erasure": "radering",
    "right_restriction": "begränsning av behandlingen",
    "right_objection": "invändning mot behandlingen",
    "right_portability": "dataportabilitet",
    "right_withdraw": (
        "att när som helst återkalla ditt samtycke, utan att det påverkar behandlingen före "
        "återkallandet"
    ),
    "rights_how": (
        "Kontakta dataskyddsombudet för att använda dessa rättigheter: {dpo}. Vi svarar inom "
        "{period}; vi kan be dig styrka din identitet."
    ),
    "refuse_key": (
        "Du kan vägra inspelning i början av varje samtal genom att trycka {key} under meddelandet."
    ),
    "refuse_hangup": "Du kan vägra inspelning genom att avsluta samtalet under meddelandet.",
    "h_authority": "Tillsynsmyndighet",
    "authority": "Du har rätt att lämna in klagomål till tillsynsmyndigheten: {authority}.",
    "h_more": "Var beskrivningen publiceras",
    "more": "Denna beskrivning finns på {url}.",
}
