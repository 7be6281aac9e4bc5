"""The privacy notice's sentences in Finnish."""

WORDS = {
    "title": "Tietosuojaseloste: puhelujen tallentaminen",
    "intro": (
        "Tässä selosteessa kerrotaan, miten {controller} tallentaa numeroihinsa tulevat "
        "puhelut, mitä säilytetään, kuinka kauan ja mitä oikeuksia sinulla on."
    ),
    "h_register": "Rekisterin nimi",
    "register_name": "Puhelutallenteet, {controller}",
    "h_controller": "Rekisterinpitäjä",
    "h_dpo": "Yhteyshenkilö ja tietosuojavastaava",
    "h_purposes": "Henkilötietojen käsittelyn tarkoitus ja oikeusperuste",
    "label_purposes": "Tarkoitukset",
    "label_basis": "Oikeusperuste",
    "line_number": "Numero {numbers}",
    "line_numbers": "Numerot {numbers}",
    "line_other": "Kaikki muut numerot",
    "purpose.service_quality": "asiakaspalvelumme laatu",
    "purpose.evidence": "näyttö siitä, mitä puhelussa sovittiin tai ilmoitettiin",
    "purpose.staff_safety": "henkilöstömme turvallisuus",
    "purpose.complaints": "valitusten ja vaatimusten käsittely",
    "purpose.training": "henkilöstön koulutus",
    "purpose.legal_obligation": "lakisääteinen velvoite",
    "basis.consent": "suostumuksesi (tietosuoja-asetuksen 6 artiklan 1 kohdan a alakohta)",
    "basis.contract": "sopimus kanssasi (tietosuoja-asetuksen 6 artiklan 1 kohdan b alakohta)",
    "basis.legal_obligation": (
        "lakisääteinen velvoite (tietosuoja-asetuksen 6 artiklan 1 kohdan c alakohta)"
    ),
    "basis.public_task": (
        "yleisen edun mukainen tehtävä (tietosuoja-asetuksen 6 artiklan 1 kohdan e alakohta)"
    ),
    "basis.legitimate_interests": (
        "oikeutettu etumme (tietosuoja-asetuksen 6 artiklan 1 kohdan f alakohta)"
    ),
    "h_data": "Rekisterin tietosisältö",
    "data_number": "puhelinnumerosi",
    "data_time": "puhelun alkamis- ja päättymispäivä ja -aika",
    "data_extension": "puheluun vastanneen työntekijän alanumero",
    "data_audio": "keskustelun tallenne (ääni)",
    "data_consent": "tallennettiinko puhelu vai kieltäydyitkö tallentamisesta",
    "h_sources": "Säännönmukaiset tietolähteet",
    "sources": (
        "Sinä, kun soitat meille; puhelinjärjestelmämme lisää päivän, kellonajan ja alanumeron."
    ),
    "h_recipients": "Vastaanottajat",
    "recipients_staff": (
        "Rekisterinpitäjän {controller} valtuutetut työntekijät, kukin vain roolinsa sallimissa "
        "rajoissa."
    ),
    "recipients_none": "Tallenteita ei luovuteta muille, ellei laki sitä edellytä.",
    "recipients_also": "Lisäksi: {recipients}",
    "h_transfers": "Säilytys ja siirrot EU:n tai ETA:n ulkopuolelle",
    "stored_in": "Tallenteita säilytetään maassa: {country}.",
    "transfers_none": "Niitä ei siirretä Euroopan unionin tai Euroopan talousalueen ulkopuolelle.",
    "transfers_some": (
        "Siirrot Euroopan unionin tai Euroopan talousalueen ulkopuolelle: {transfers}"
    ),
    "h_retention": "Säilytysaika",
    "retention_line": (
        "{line} (tiedote kielillä: {languages}): säilytetään {period}, minkä jälkeen "
        "poistetaan automaattisesti."
    ),
    "retention_months": (
        "Kuukausina laskettu aika päättyy viimeisen kuukauden samana päivänä tai, jos kuukausi "
        "on lyhyempi, sen viimeisenä päivänä."
    ),
    "retention_hold": (
        "Tallennetta säilytetään pidempään vain, jos tiettyä asiaa, kuten ilmoitettua rikosta "
        "tai vaatimusta, koskeva säilytysmääräys sitä edellyttää; jokainen määräys kirjataan "
        "perusteluineen."
    ),
    "days.one": "{n} päivän",
    "days.few": "{n} päivää",
    "days.other": "{n} päivää",
    "months.one": "{n} kuukauden",
    "months.few": "{n} kuukautta",
    "months.other": "{n} kuukautta",
    "h_security": "Rekisterin suojauksen periaatteet",
    "security_roles": (
        "Järjestelmää voivat käyttää vain työntekijät, joilla on henkilökohtainen tunnus ja "
        "rooli; asiakaspalvelijat kuulevat vain omat puhelunsa, eivätkä järjestelmän "
        "ylläpitäjät kuule yhtään."
    ),
    "security_two_factor": (
        "Työntekijät kirjautuvat salasanalla ja kertakäyttöisellä koodilla "
        "(kaksivaiheinen tunnistautuminen); poikkeus edellyttää kahden "
        "ylläpitäjän hyväksyntää ja kirjataan."
    ),
    "security_audit": (
        "Jokainen kuuntelu perusteluineen ja jokainen muutos kirjataan lokiin, jota ei voi "
        "muuttaa huomaamatta."
    ),
    "security_tls": "Yhteys järjestelmään on salattu.",
    "security_deletion": "Tallenteet poistetaan automaattisesti säilytysajan päätyttyä.",
    "h_automated": "Automaattinen päätöksenteko",
    "automated": (
        "Ei ole: tallenteiden perusteella ei tehdä automaattisia päätöksiä eikä profilointia."
    ),
    "h_rights": "Oikeutesi ja niiden käyttäminen",
    "right_access": "oikeus saada pääsy tietoihisi ja kopio tallenteistasi",
    "right_rectification": "virheellisten tietojen oikaiseminen",
    "right_erasure": "tietojen poistaminen",
    "right_restriction": "käsittelyn rajoittaminen",
    "right_objection": "käsittelyn vastustaminen",
    "right_portability": "tietojen siirtäminen järjestelmästä toiseen",
    "right_withdraw": (
        "suostumuksen peruuttaminen milloin tahansa, vaikuttamatta sitä ennen tehdyn "
        "käsittelyn lainmukaisuuteen"
    ),
    "rights_how": (
        "Käyttääksesi näitä oikeuksia ota yhteyttä tietosuojavastaavaan: {dpo}. Vastausaika on "
        "{period}; voimme pyytää sinua todistamaan henkilöllisyytesi."
    ),
    "refuse_key": (
        "Voit kieltäytyä tallentamisesta jokaisen puhelun alussa painamalla {key} tiedotteen "
        "aikana."
    ),
    "refuse_hangup": "Voit kieltäytyä tallentamisesta lopettamalla puhelun tiedotteen aikana.",
    "h_authority": "Valvontaviranomainen",
    "authority": "Sinulla on oikeus tehdä valitus valvontaviranomaiselle: {authority}.",
    "h_more": "Selosteen julkaisupaikka",
    "more": "Tämä seloste on julkaistu osoitteessa {url}.",
}
