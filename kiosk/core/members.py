"""The members of a Kartu Keluarga: one person's entry, the household's consistency, counts.

A member has a name, a NIK (checked with :mod:`kiosk.core.nik`; its birth date and sex are read
from it, so they are never typed twice), a relation to the head as printed on the KK (the
Dukcapil SHDK list), sex and age (typed only when the NIK is not known), functioning per the
Washington Group Short Set (six domains, four answer levels; asked from age 5), school
attendance and work.

:func:`check_member` validates one entry, :func:`check_household` the list as a whole (exactly
one head, ages against relations, no NIK twice), and :func:`derived_counts` gives the household
figures the portal reads (people on the card, children, elderly, disability, the head's work),
so nobody types a count the list already holds. Every failure is a :class:`MemberProblem` with a
stable ``code``, the ``field`` it belongs to and a message per language. Nothing here does I/O;
``today`` is injected.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from kiosk.core.i18n import N_, Msgid, Translate, render, untranslated
from kiosk.core.nik import NikInvalid, parse_nik

MAX_MEMBERS = 30
"""People on one KK the kiosk accepts (the form's old upper bound for the count)."""
MAX_AGE = 110
NAME_MAX = 60
CHILD_UNDER = 18
"""Members younger than this count as children."""
ELDERLY_FROM = 60
"""Members this old or older count as elderly."""
WG_FROM_AGE = 5
"""The Washington Group Short Set is asked from this age (younger children: not asked)."""
WORK_FROM_AGE = 10
"""Work is asked from this age; younger members are recorded as not working."""
PREGNANCY_AGES = (10, 55)
"""Pregnancy is asked of women within these ages (years, inclusive)."""
MIN_HEAD_AGE = 15
"""Youngest plausible head of household (child-headed households exist: not 17)."""
MIN_SPOUSE_AGE = 15
"""Youngest plausible husband or wife on a KK (marriages with dispensation exist)."""
GENERATION_GAP = 12
"""A parent is at least this many years older than their child (a generous lower bound)."""

RELATIONS: dict[str, tuple[int, str]] = {
    "head": (1, N_("Head of household")),
    "husband": (2, N_("Husband")),
    "wife": (3, N_("Wife")),
    "child": (4, N_("Child")),
    "child_in_law": (5, N_("Son- or daughter-in-law")),
    "grandchild": (6, N_("Grandchild")),
    "parent": (7, N_("Parent")),
    "parent_in_law": (8, N_("Parent-in-law")),
    "other_family": (9, N_("Other relative")),
    "helper": (10, N_("Household helper")),
    "other": (11, N_("Other")),
}
"""Relation code -> (SHDK number on the KK, label msgid): the KK's own list."""

SEXES: dict[str, str] = {"F": N_("Female"), "M": N_("Male")}

WG_DOMAINS: dict[str, str] = {
    "seeing": N_("Difficulty seeing, even if wearing glasses?"),
    "hearing": N_("Difficulty hearing, even if using a hearing aid?"),
    "walking": N_("Difficulty walking or climbing steps?"),
    "remembering": N_("Difficulty remembering or concentrating?"),
    "self_care": N_("Difficulty with self-care, such as washing all over or dressing?"),
    "communicating": N_("Difficulty communicating, for example understanding or being understood?"),
}
"""The six Washington Group Short Set domains, in the WG order, with their questions."""

WG_SHORT: dict[str, str] = {
    "seeing": N_("Seeing"),
    "hearing": N_("Hearing"),
    "walking": N_("Walking, steps"),
    "remembering": N_("Remembering, concentrating"),
    "self_care": N_("Washing, dressing"),
    "communicating": N_("Communicating"),
}
"""Short row labels for the screen (the full WG question is spoken)."""

WG_LEVELS: dict[str, str] = {
    "none": N_("No difficulty"),
    "some": N_("Some difficulty"),
    "a_lot": N_("A lot of difficulty"),
    "cannot": N_("Cannot do at all"),
}
"""The four WG answer levels, mildest first."""
WG_DISABILITY_LEVELS = frozenset({"a_lot", "cannot"})
"""The WG's recommended cut-off: "a lot of difficulty" or worse in any domain."""

SCHOOL: dict[str, str] = {
    "attending": N_("In school now"),
    "not_yet": N_("Not yet in school"),
    "left": N_("No longer in school"),
    "never": N_("Never went to school"),
}

WORK: dict[str, str] = {
    "farmer": N_("Farmer"),
    "farm_labourer": N_("Farm labourer"),
    "fisher": N_("Fisher"),
    "labourer": N_("Construction or factory worker"),
    "trader": N_("Trader or small shop"),
    "driver": N_("Driver or motorbike taxi"),
    "employee": N_("Employee"),
    "housework": N_("Housework"),
    "not_working": N_("Not working"),
    "other": N_("Other work"),
}
"""Work codes: the household form's ``main_work`` codes plus housework."""

CODE_GROUPS: dict[str, Mapping[str, str]] = {
    "relation": {k: v[1] for k, v in RELATIONS.items()},
    "sex": SEXES,
    "wg_level": WG_LEVELS,
    "school": SCHOOL,
    "work": WORK,
}
"""Group -> code -> label msgid."""

PROBLEMS: dict[str, str] = {
    "name_missing": N_("The name is missing."),
    "name_invalid": N_("A name has only letters, spaces, dots, commas or apostrophes, at most 60."),
    "nik_invalid": N_("The NIK is wrong."),  # worded by the NIK check's own message
    "nik_twice": N_("This NIK is already given for another member (%(name)s)."),
    "relation_missing": N_("Choose the relation to the head of household."),
    "sex_missing": N_("Choose male or female (without a NIK it cannot be read)."),
    "sex_not_nik": N_("According to the NIK this person is %(sex)s. Check the NIK or this choice."),
    "age_missing": N_("Enter the age in years (without a NIK it cannot be read)."),
    "age_invalid": N_("The age must be a number from 0 to 110."),
    "age_not_nik": N_("According to the NIK the age is %(age)s. Check the NIK or this age."),
    "wg_missing": N_("Answer all six questions about difficulties."),
    "school_missing": N_("Choose the school situation."),
    "work_missing": N_("Choose the work."),
    "chronic_missing": N_("Answer Yes or No."),
    "pregnant_missing": N_("Answer Yes or No."),
    "not_a_choice": N_("That choice does not exist."),
    "no_members": N_("No members yet. Add everyone on the family card."),
    "too_many": N_("At most %(max)s people on one family card."),
    "no_head": N_("There is no head of household. One person must be the head."),
    "two_heads": N_("There can be only one head of household, and there is one already: %(name)s."),
    "head_too_young": N_("A head of household is at least %(min)s years old."),
    "spouse_too_young": N_("A husband or wife is at least %(min)s years old."),
    "two_husbands": N_("There can be only one husband, and there is one already: %(name)s."),
    "husband_not_male": N_("A husband is male."),
    "wife_not_female": N_("A wife is female."),
    "child_too_old": N_(
        "A child is at least %(gap)s years younger than the head or the head's spouse."
    ),
    "grandchild_too_old": N_(
        "A grandchild is at least %(gap)s years younger than the head or the head's spouse."
    ),
    "parent_too_young": N_("A parent is at least %(gap)s years older than the head of household."),
    "parent_in_law_too_young": N_(
        "A parent-in-law is at least %(gap)s years older than the head or the head's spouse."
    ),
}
"""Problem code -> message msgid (English, translated at the edge); codes are stable API."""
SEX_WORDS: dict[str, str] = {"F": N_("female"), "M": N_("male")}
"""A sex as it is said inside a sentence."""

_NAME = re.compile(r"^[^\W\d_]+(?:[ .,'\-]+[^\W\d_]*)*$")


@dataclass(frozen=True)
class MemberProblem:
    """One failure: ``code`` from :data:`PROBLEMS`, the member's position, its ``field``."""

    code: str
    index: int | None
    """Position in the member list (None: the list as a whole)."""
    field: str
    """``name``, ``nik``, ``relation``, ``sex``, ``age``, ``wg``, ``school``, ``work`` or ``""``."""
    params: Mapping[str, Any] = dc_field(default_factory=dict)
    msgid: str = ""
    """The message id; by default the code's (:data:`PROBLEMS`)."""

    def message(self, translate: Translate = untranslated) -> str:
        """The message in the language of ``translate`` (English without one)."""
        return render(self.msgid or PROBLEMS[self.code], dict(self.params), translate)


@dataclass(frozen=True)
class Member:
    """One person on the KK, as recorded (JSON shape: :meth:`to_dict`)."""

    name: str
    relation: str
    sex: str
    age: int
    nik: str | None = None
    birth_date: dt.date | None = None
    wg: Mapping[str, str] = dc_field(default_factory=dict)
    """Domain -> level; empty below :data:`WG_FROM_AGE`."""
    school: str = "not_yet"
    work: str = "not_working"
    chronic: bool = False
    """A long-term illness (high blood pressure, diabetes, TB, stroke ...)."""
    pregnant: bool = False

    @property
    def disability(self) -> bool:
        """True at the WG cut-off: a lot of difficulty or worse in any domain."""
        return any(level in WG_DISABILITY_LEVELS for level in self.wg.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (holds the NIK: sealed with the answers, never logged)."""
        return {
            "name": self.name,
            "nik": self.nik,
            "relation": self.relation,
            "sex": self.sex,
            "age": self.age,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "wg": dict(self.wg),
            "school": self.school,
            "work": self.work,
            "chronic": self.chronic,
            "pregnant": self.pregnant,
        }


def label(group: str, code: str, translate: Translate = untranslated) -> str:
    """The label of ``code`` in ``group`` (:data:`CODE_GROUPS`), translated; else the code."""
    msgid = CODE_GROUPS.get(group, {}).get(code)
    return code if msgid is None else translate(msgid)


def asks_wg(age: int | None) -> bool:
    """True when the WG Short Set is asked at this age (unknown age: asked)."""
    return age is None or age >= WG_FROM_AGE


def asks_pregnancy(sex: str | None, age: int | None) -> bool:
    """True when pregnancy is asked: a woman (or sex unknown) of child-bearing age."""
    lo, hi = PREGNANCY_AGES
    return sex != "M" and (age is None or lo <= age <= hi)


def asks_work(age: int | None) -> bool:
    """True when work is asked at this age (unknown age: asked)."""
    return age is None or age >= WORK_FROM_AGE


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # a stored age
    return " ".join(value.split()) if isinstance(value, str) else ""


def _age_on(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _clean_name(raw: Mapping[str, Any], out: list[MemberProblem], i: int | None) -> str:
    name = unicodedata.normalize("NFC", _text(raw, "name"))
    if not name:
        out.append(MemberProblem("name_missing", i, "name"))
    elif len(name) > NAME_MAX or not _NAME.match(name):
        out.append(MemberProblem("name_invalid", i, "name"))
    return name


def _choice(
    raw: Mapping[str, Any], key: str, group: str, out: list[MemberProblem], i: int | None
) -> str:
    value = _text(raw, key)
    if not value:
        out.append(MemberProblem(f"{key}_missing", i, key))
    elif value not in CODE_GROUPS[group]:
        out.append(MemberProblem("not_a_choice", i, key))
    return value


def check_member(
    raw: Mapping[str, Any], today: dt.date, index: int | None = None
) -> tuple[Member | None, list[MemberProblem]]:
    """One member as typed (strings, ``wg`` a mapping or ``wg_<domain>`` keys): the cleaned
    :class:`Member`, or None with every problem of the entry.

    With a NIK, sex and birth date come from it; a typed sex or age must agree. The NIK's
    century is settled by the typed age when it is ambiguous.
    """
    out: list[MemberProblem] = []
    name = _clean_name(raw, out, index)
    relation = _choice(raw, "relation", "relation", out, index)
    typed_sex = _text(raw, "sex")
    if typed_sex and typed_sex not in SEXES:
        out.append(MemberProblem("not_a_choice", index, "sex"))
        typed_sex = ""
    typed_age: int | None = None
    age_text = _text(raw, "age")
    if age_text:
        if not age_text.isdigit() or int(age_text) > MAX_AGE:
            out.append(MemberProblem("age_invalid", index, "age"))
        else:
            typed_age = int(age_text)
    nik: str | None = None
    birth: dt.date | None = None
    sex, age = typed_sex, typed_age
    nik_text = _text(raw, "nik")
    if nik_text:
        try:
            info = parse_nik(nik_text, today)
        except NikInvalid as err:
            out.append(MemberProblem("nik_invalid", index, "nik", err.params, err.msgid))
        else:
            nik = info.nik
            ages = {d: _age_on(d, today) for d in info.birth_date_candidates}
            if typed_age is not None and typed_age in ages.values():
                birth = next(d for d, a in ages.items() if a == typed_age)
            elif len(ages) == 1:
                birth = next(iter(ages))
            if birth is not None:
                age = ages[birth]
                if typed_age is not None and typed_age != age:
                    out.append(MemberProblem("age_not_nik", index, "age", {"age": age}))
            if typed_sex and typed_sex != info.sex:
                sex_word = Msgid(SEX_WORDS[info.sex])
                out.append(MemberProblem("sex_not_nik", index, "sex", {"sex": sex_word}))
            sex = info.sex
    if not sex and not any(p.field == "sex" for p in out):
        out.append(MemberProblem("sex_missing", index, "sex"))
    if age is None and not any(p.field in ("age", "nik") for p in out):
        out.append(MemberProblem("age_missing", index, "age"))
    wg = _clean_wg(raw, age, out, index)
    school = _choice(raw, "school", "school", out, index)
    work = _choice(raw, "work", "work", out, index) if asks_work(age) else "not_working"
    chronic = _yes_no(raw, "chronic", out, index)
    pregnant = _yes_no(raw, "pregnant", out, index) if asks_pregnancy(sex, age) else False
    if out or age is None:
        return None, out
    member = Member(name, relation, sex, age, nik, birth, wg, school, work, chronic, pregnant)
    return member, out


PERSON_FIELDS = frozenset({"name", "nik", "relation", "sex", "age", "school", "work", "chronic"})
"""The fields of the first member screen (who the person is); the second has ``wg`` and
``pregnant`` (the Washington Group questions, then pregnancy where it is asked)."""


def person_problems(problems: Sequence[MemberProblem]) -> list[MemberProblem]:
    """The problems of the first member screen only (the second is not answered yet)."""
    return [p for p in problems if p.field in PERSON_FIELDS or p.field == ""]


def _yes_no(raw: Mapping[str, Any], key: str, out: list[MemberProblem], i: int | None) -> bool:
    value = raw.get(key)
    if isinstance(value, bool):
        return value
    text = _text(raw, key)
    if text not in ("yes", "no"):
        out.append(MemberProblem(f"{key}_missing" if not text else "not_a_choice", i, key))
    return text == "yes"


def _clean_wg(
    raw: Mapping[str, Any], age: int | None, out: list[MemberProblem], i: int | None
) -> dict[str, str]:
    if not asks_wg(age):
        return {}
    given = raw.get("wg")
    source: Mapping[str, Any] = (
        given if isinstance(given, Mapping) else {d: raw.get(f"wg_{d}") for d in WG_DOMAINS}
    )
    wg = {d: str(source.get(d) or "") for d in WG_DOMAINS}
    if any(v and v not in WG_LEVELS for v in wg.values()):
        out.append(MemberProblem("not_a_choice", i, "wg"))
    elif not all(wg.values()):
        out.append(MemberProblem("wg_missing", i, "wg"))
    return wg


def member_from_dict(data: Mapping[str, Any]) -> Member:
    """A stored member (:meth:`Member.to_dict`) back as a :class:`Member` (no checks)."""
    born = data.get("birth_date")
    return Member(
        name=str(data["name"]),
        relation=str(data["relation"]),
        sex=str(data["sex"]),
        age=int(data["age"]),
        nik=data.get("nik") or None,
        birth_date=dt.date.fromisoformat(born) if born else None,
        wg=dict(data.get("wg") or {}),
        school=str(data.get("school", "not_yet")),
        work=str(data.get("work", "not_working")),
        chronic=bool(data.get("chronic", False)),
        pregnant=bool(data.get("pregnant", False)),
    )


def _spouses(members: Sequence[Member]) -> list[Member]:
    return [m for m in members if m.relation in ("head", "husband", "wife")]


def check_household(members: Sequence[Member]) -> list[MemberProblem]:
    """Every problem of the list as a whole: one head, ages against relations, NIKs once."""
    out: list[MemberProblem] = []
    if not members:
        return [MemberProblem("no_members", None, "")]
    if len(members) > MAX_MEMBERS:
        out.append(MemberProblem("too_many", None, "", {"max": MAX_MEMBERS}))
    seen: dict[str, Member] = {}
    for i, m in enumerate(members):
        if m.nik is not None and m.nik in seen:
            out.append(MemberProblem("nik_twice", i, "nik", {"name": seen[m.nik].name}))
        elif m.nik is not None:
            seen[m.nik] = m
    heads = [i for i, m in enumerate(members) if m.relation == "head"]
    if not heads:
        out.append(MemberProblem("no_head", None, "relation"))
    for i in heads[1:]:
        out.append(MemberProblem("two_heads", i, "relation", {"name": members[heads[0]].name}))
    husbands = [i for i, m in enumerate(members) if m.relation == "husband"]
    for i in husbands[1:]:
        out.append(
            MemberProblem("two_husbands", i, "relation", {"name": members[husbands[0]].name})
        )
    head = members[heads[0]] if heads else None
    couple = _spouses(members)
    for i, m in enumerate(members):
        out.extend(_relation_problems(i, m, head, couple))
    return out


def _relation_problems(
    i: int, m: Member, head: Member | None, couple: Sequence[Member]
) -> list[MemberProblem]:
    gap = GENERATION_GAP
    if m.relation == "head" and m.age < MIN_HEAD_AGE:
        return [MemberProblem("head_too_young", i, "age", {"min": MIN_HEAD_AGE})]
    if m.relation in ("husband", "wife"):
        if m.age < MIN_SPOUSE_AGE:
            return [MemberProblem("spouse_too_young", i, "age", {"min": MIN_SPOUSE_AGE})]
        if m.relation == "husband" and m.sex != "M":
            return [MemberProblem("husband_not_male", i, "relation")]
        if m.relation == "wife" and m.sex != "F":
            return [MemberProblem("wife_not_female", i, "relation")]
    if head is None:
        return []
    elders = [p.age for p in couple if p is not m]
    if m.relation == "child" and elders and all(a - m.age < gap for a in elders):
        return [MemberProblem("child_too_old", i, "age", {"gap": gap})]
    if m.relation == "grandchild" and elders and all(a - m.age < 2 * gap for a in elders):
        return [MemberProblem("grandchild_too_old", i, "age", {"gap": 2 * gap})]
    if m.relation == "parent" and m.age - head.age < gap:
        return [MemberProblem("parent_too_young", i, "age", {"gap": gap})]
    if m.relation == "parent_in_law" and elders and all(m.age - a < gap for a in elders):
        return [MemberProblem("parent_in_law_too_young", i, "age", {"gap": gap})]
    return []


def derived_counts(members: Sequence[Member]) -> dict[str, Any]:
    """The household figures the list implies (the portal reads these; nobody types them)."""
    head = next((m for m in members if m.relation == "head"), None)
    return {
        "members_count": len(members),
        "children_count": sum(1 for m in members if m.age < CHILD_UNDER),
        "elderly_count": sum(1 for m in members if m.age >= ELDERLY_FROM),
        "disability_count": sum(1 for m in members if m.disability),
        "disability": any(m.disability for m in members),
        "chronic_illness": any(m.chronic for m in members),
        "pregnant": any(m.pregnant for m in members),
        "main_work": head.work if head is not None else None,
    }
