"""The household questionnaire and the consent text, as versioned data with pure checks.

Definitions live beside this file as JSON (``household_v1.json``, ``consent_v2.json``) and are
loaded with :func:`load_form` / :func:`load_consent`; answers are checked page by page with
:func:`validate_answers` (a screen at a time with :func:`check_questions`) and shown back
with :func:`summary`.
"""

from __future__ import annotations

from kiosk.core.forms.answers import (
    ANSWER_FAILURES,
    AnswerInvalid,
    SummaryRow,
    check_page,
    check_questions,
    clean_members,
    derived_answers,
    format_answer,
    is_visible,
    missing_questions,
    summary,
    summary_rows,
    validate_answers,
    validate_question,
    visible_answers,
    visible_questions,
)
from kiosk.core.forms.consent import ConsentSection, ConsentText, load_consent, parse_consent
from kiosk.core.forms.definition import (
    FormDefinition,
    FormDefinitionError,
    Option,
    Page,
    Question,
    ShowIf,
    Text,
    load_form,
    parse_form,
)

__all__ = [
    "ANSWER_FAILURES",
    "AnswerInvalid",
    "ConsentSection",
    "ConsentText",
    "FormDefinition",
    "FormDefinitionError",
    "Option",
    "Page",
    "Question",
    "ShowIf",
    "SummaryRow",
    "Text",
    "check_page",
    "check_questions",
    "clean_members",
    "derived_answers",
    "format_answer",
    "is_visible",
    "load_consent",
    "load_form",
    "missing_questions",
    "parse_consent",
    "parse_form",
    "summary",
    "summary_rows",
    "validate_answers",
    "validate_question",
    "visible_answers",
    "visible_questions",
]
