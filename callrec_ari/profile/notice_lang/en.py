"""The privacy notice's sentences in English."""

WORDS = {
    "title": "Privacy notice: recording of telephone calls",
    "intro": (
        "This notice describes how {controller} records telephone calls to its numbers, "
        "what is kept, for how long, and what rights you have."
    ),
    "h_register": "Name of the register",
    "register_name": "Call recordings of {controller}",
    "h_controller": "Controller",
    "h_dpo": "Contact person and data protection officer",
    "h_purposes": "Purposes and legal basis of the processing",
    "label_purposes": "Purposes",
    "label_basis": "Legal basis",
    "line_number": "Number {numbers}",
    "line_numbers": "Numbers {numbers}",
    "line_other": "All other numbers",
    "purpose.service_quality": "the quality of our customer service",
    "purpose.evidence": "evidence of what was agreed or reported in the call",
    "purpose.staff_safety": "the safety of our staff",
    "purpose.complaints": "handling complaints and claims",
    "purpose.training": "training our staff",
    "purpose.legal_obligation": "an obligation under the law",
    "basis.consent": "your consent (GDPR Art. 6(1)(a))",
    "basis.contract": "a contract with you (GDPR Art. 6(1)(b))",
    "basis.legal_obligation": "a legal obligation (GDPR Art. 6(1)(c))",
    "basis.public_task": "a task carried out in the public interest (GDPR Art. 6(1)(e))",
    "basis.legitimate_interests": "our legitimate interests (GDPR Art. 6(1)(f))",
    "h_data": "Data kept",
    "data_number": "your telephone number",
    "data_time": "the date and the time the call started and ended",
    "data_extension": "the extension of the member of staff who answered",
    "data_audio": "the recording of the conversation (audio)",
    "data_consent": "whether the call was recorded or you refused recording",
    "h_sources": "Sources of the data",
    "sources": (
        "You, when you call us; our telephone system adds the date, the time and the extension."
    ),
    "h_recipients": "Recipients",
    "recipients_staff": (
        "Authorised staff of {controller}, each only as far as their role allows."
    ),
    "recipients_none": "The recordings are not disclosed to anyone else unless a law requires it.",
    "recipients_also": "Also: {recipients}",
    "h_transfers": "Storage and transfers outside the EU/EEA",
    "stored_in": "The recordings are stored in {country}.",
    "transfers_none": "They are not transferred outside the European Union or the EEA.",
    "transfers_some": "Transfers outside the European Union or the EEA: {transfers}",
    "h_retention": "How long the data is kept",
    "retention_line": (
        "{line} (announcement in {languages}): kept for {period}, then deleted automatically."
    ),
    "retention_months": (
        "A period in months ends on the same day of the last month, or on the last day of "
        "that month if it is shorter."
    ),
    "retention_hold": (
        "A recording is kept longer only while a legal hold for a specific case, such as a "
        "reported crime or a claim, requires it; each hold is recorded with its reason."
    ),
    "days.one": "{n} day",
    "days.few": "{n} days",
    "days.other": "{n} days",
    "months.one": "{n} month",
    "months.few": "{n} months",
    "months.other": "{n} months",
    "h_security": "How the data is protected",
    "security_roles": (
        "Only staff with a personal account and a role may use the system; agents hear only "
        "their own calls, and the administrators who run it never hear any."
    ),
    "security_two_factor": (
        "Staff sign in with a password and a one-time code (two-factor); any "
        "exemption needs two administrators' approval and is recorded."
    ),
    "security_audit": (
        "Every listening, with its stated reason, and every change is written to an audit "
        "trail that cannot be altered unnoticed."
    ),
    "security_tls": "The connection to the system is encrypted.",
    "security_deletion": "Recordings are deleted automatically when their period ends.",
    "h_automated": "Automated decision-making",
    "automated": "None: no automated decisions or profiling are based on the recordings.",
    "h_rights": "Your rights and how to use them",
    "right_access": "access to your data and a copy of your recordings",
    "right_rectification": "rectification of inaccurate data",
    "right_erasure": "erasure",
    "right_restriction": "restriction of the processing",
    "right_objection": "objection to the processing",
    "right_portability": "data portability",
    "right_withdraw": (
        "withdrawal of your consent at any time, without affecting what was lawful before"
    ),
    "rights_how": (
        "To use these rights, contact the data protection officer: {dpo}. We answer within "
        "{period}; we may ask you to prove your identity."
    ),
    "refuse_key": (
        "You may refuse recording at the start of each call by pressing {key} during the "
        "announcement."
    ),
    "refuse_hangup": "You may refuse recording by ending the call during the announcement.",
    "h_authority": "Supervisory authority",
    "authority": (
        "You have the right to lodge a complaint with the supervisory authority: {authority}."
    ),
    "h_more": "Where this notice is published",
    "more": "This notice is published at {url}.",
}
