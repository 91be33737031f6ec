"""Which sentence answers: pure functions over a question and candidate sentences.

A sentence is scored by its similarity to the question (the model's cosine), the question's
own words it contains, and, for "how many / how much / when / who" questions, whether it
carries the kind of fact asked for (a figure, a date, a name). Fragments of tables and lists
are not answers.
"""

from __future__ import annotations

import re
from enum import StrEnum

import numpy as np


class Wants(StrEnum):
    """The kind of fact a question asks for."""

    FIGURE = "figure"
    DATE = "date"
    PERSON = "person"


_FIGURE_Q = re.compile(r"\b(how (many|much|often|long|far|big|large)|what (percentage|proportion|share|number|"
                       r"amount|level|rate|sum|total|cost|value|figure)|cost|percentage|budget|spend|spent|"
                       r"overspend|underspend|savings?|deficit|surplus|rate|number of)\b", re.I)
_DATE_Q = re.compile(r"\b(when|what date|which date|what year|which year|deadline|by what time)\b", re.I)
_PERSON_Q = re.compile(r"^\s*(who|whom)\b|\bwhich (councillor|member|officer|person|company|firm|body)\b", re.I)

_FIGURE = re.compile(r"£\s?\d|\d[\d,.]*\s?(%|per ?cent|m\b|bn\b|k\b|million|billion|days?|hours?|weeks?|"
                     r"months?|years?|people|staff|pupils|homes|spaces|places)|\b\d{2,}[\d,.]*\b|"
                     r"\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
                     r"hundred|dozen)\b", re.I)
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_DATE = re.compile(rf"\b(\d{{1,2}}(st|nd|rd|th)?\s+({_MONTHS})\b|({_MONTHS})\s+\d{{4}}|\b(19|20)\d{{2}}\b|"
                   r"\b(spring|summer|autumn|winter)\b|\bquarter\b|\d{1,2}/\d{1,2}/\d{2,4})", re.I)
_NAME = re.compile(r"\b(Cllr|Councillor|Mr|Mrs|Ms|Dr|Mayor|Leader|Chair(man)?|Director|Officer|Chief)\b"
                   r"|\b[A-Z][a-z]+ [A-Z][a-z]+\b")
_FUNCTION_WORDS = frozenset("""the a an of to and is are was were be been has have had will would should
    this that which it its for on in by with as at from not no than these those there their our we""".split())

TYPE_BONUS = 0.06
"""Added to a sentence that carries the kind of fact the question asks for."""
OVERLAP_WEIGHT = 0.15
"""Weight of the share of the question's content words found in the sentence."""


def wants(question: str) -> frozenset[Wants]:
    """The kinds of fact the question asks for (several for "when … and how many …"); empty
    for an open question."""
    kinds = set()
    if _PERSON_Q.search(question):
        kinds.add(Wants.PERSON)
    if _DATE_Q.search(question):
        kinds.add(Wants.DATE)
    if _FIGURE_Q.search(question):
        kinds.add(Wants.FIGURE)
    return frozenset(kinds)


def missing(sentence: str, kinds: frozenset[Wants]) -> frozenset[Wants]:
    """The kinds asked for that the sentence does not carry."""
    return frozenset(k for k in kinds if not carries(sentence, k))


_ASKING = re.compile(r"\?\s*[\"'”’)]?\s*$|^\W*(\([a-z0-9]{1,3}\)\s*)?(how (many|much|often|long)|why|whether|"
                     r"(can|could|will|would) (you|the|they|we)|what (is|are|was|were|will)|"
                     r"to ask (the|if|whether|what|how))\b|\bask at the next meeting\b", re.I)


def asks(sentence: str) -> bool:
    """A sentence that is itself a question (a member's question in minutes, "Councillor Galvin: I
    will ask at the next Meeting ... how many XL Bully Dogs were destroyed;"): never the answer."""
    return bool(_ASKING.search(sentence.strip()))


def carries(sentence: str, kind: Wants) -> bool:
    """Whether the sentence holds a fact of that kind."""
    if kind is Wants.FIGURE:
        return bool(_FIGURE.search(sentence))
    if kind is Wants.DATE:
        return bool(_DATE.search(sentence))
    return bool(_NAME.search(sentence))


_CONTACT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+|\b0\d{2,4}[ -]?\d{3,4}[ -]?\d{3,4}\b|\+44 ?\d")
_WEB = re.compile(r"\b(?:https?://|www\.)\S+", re.I)
_ASKS_CONTACT = re.compile(r"\b(contact|e-?mail|phone|telephone|ring|ask for|website|web site|address|who (do|should|"
                           r"can) (i|we) (ask|speak|talk|write))\b", re.I)


def contact_details(sentence: str) -> bool:
    """An address to write to or a number to ring, or two web addresses: the page furniture of an
    agenda ("For more information ... contact democratic.services@merton.gov.uk or telephone 020
    8545 3616"), which matches any question naming the council and answers none."""
    return bool(_CONTACT.search(sentence)) or len(_WEB.findall(sentence)) >= 2


def asks_for_contact(question: str) -> bool:
    """Whether the question asks whom to contact or how ("who do I ask about the agenda?")."""
    return bool(_ASKS_CONTACT.search(question))


def quotable(sentence: str, *, contact_ok: bool = False, names_ok: bool = False) -> bool:
    """Prose that can be quoted as an answer: not a fragment of a table or list, not itself a
    question, and not contact details unless ``contact_ok`` (the question asks for them);
    ``names_ok``: the question asks who, so a line of names may answer (:func:`prose_like`)."""
    sentence = without_trailing_label(sentence)
    return (prose_like(sentence, names_ok=names_ok) and not asks(sentence)
            and (contact_ok or not contact_details(sentence)))


_TRAILING_LABEL = re.compile(r"(?<=[.!?”\"’)])\s+[A-Z][\w’'/&-]*(?:\s+[\w’'/&-]+){0,2}:\s*$")


def without_trailing_label(sentence: str) -> str:
    """The sentence without the label of a form's next field that the text layer ran into it
    ("... EV charging infrastructure.” Proposed Amount:" -> "... EV charging infrastructure.”")."""
    return _TRAILING_LABEL.sub("", sentence)


def lead_in(sentence: str) -> bool:
    """A sentence that introduces what follows it: it ends in a colon."""
    return sentence.rstrip().endswith(":")


_RUNS_ON = re.compile(r"(?:[:;,]|\b(?:and|or))\s*$")


_COUNT = re.compile(rf"\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|\d{{1,2}})\b"
                    rf"(?!\s*(%|st\b|nd\b|rd\b|th\b|[-/.:,]\d|({_MONTHS})\b|(days?|weeks?|months?|years?)\b))",
                    re.I)


def gives_count(sentence: str) -> bool:
    """A lead-in that says how many things follow ("four key strategic priorities:", "9 main
    issues:"), not a date or a length of time ("in the 6 months to 30 September", "over the past
    five years")."""
    return bool(_COUNT.search(sentence))


def dangles(sentence: str) -> bool:
    """A sentence that leads into or runs on to what follows it, so that quoted alone it reads
    unfinished: it ends in a colon, a semicolon, a comma, "and" or "or" ("c) The creation and
    launch of Worcestershire Children First and the Ofsted reinspection; and"); but a lead-in that
    gives a count says something alone ("This year has been dominated by four key strategic
    priorities:", "I have identified 9 main issues:"), unlike "... in the 6 months to 30 September
    is as follows:"."""
    sentence = sentence.rstrip()
    return bool(_RUNS_ON.search(sentence)) and not (lead_in(sentence) and gives_count(sentence))


_ITEM_MARKER = re.compile(r"^\W*[a-z0-9]{1,3}\)\s")


def prose_like(sentence: str, *, names_ok: bool = False) -> bool:
    """A sentence of running text, not a fragment of a table, list or heading: five words or
    more, not the tail of a parenthesis cut off by the sentence splitter, some function words, not
    mostly words in capitals (a heading: "AUDIT COMMITTEE 24 SEPTEMBER 2009 (19:15 TO 19:25)"), not
    mostly numbers or capitalised words (``names_ok``: mostly
    capitalised words may be names: "Proposed by Mr Alister Brady Seconded by Mrs Jackie Meade"),
    and not a lead-in ending in a colon unless it gives a count ("There are two Planning
    Committees:", quoted with what follows it)."""
    words = sentence.split()
    if len(words) < 5 or (lead_in(sentence) and not gives_count(sentence)):
        return False
    unmarked = _ITEM_MARKER.sub("", sentence)  # "a) NOTE the forecast ..." is a list item, not a tail
    if unmarked.count(")") > unmarked.count("("):  # the tail of a parenthesis: "LOBO loans and callable deposits)."
        return False
    lowered = [w.strip(".,;:()'\"").lower() for w in words]
    function = sum(w in _FUNCTION_WORDS for w in lowered)
    numeric = sum(any(ch.isdigit() for ch in w) for w in words)
    capital = sum(w[:1].isupper() for w in words[1:])
    lettered = [w for w in words if any(ch.isalpha() for ch in w)]
    shouted = sum(w.isupper() and len(w.strip(".,;:()'\"")) > 1 for w in lettered)
    if function < max(1, len(words) // 12) or shouted > len(lettered) / 2:
        return False
    return numeric + (0 if names_ok else capital) <= 0.6 * len(words)


def lexical_overlap(terms: list[str], sentence: str) -> float:
    """Share of the question's content words that the sentence contains."""
    if not terms:
        return 0.0
    lowered = sentence.lower()
    return sum(1 for t in terms if t in lowered) / len(terms)


def score_sentences(cosines: np.ndarray, overlaps: np.ndarray, typed: np.ndarray) -> np.ndarray:
    """Cosine similarity to the question, plus the question's own words, plus the kind of fact
    asked for."""
    return cosines + OVERLAP_WEIGHT * overlaps + TYPE_BONUS * typed


_NOT_NAMES = frozenset("""i monday tuesday wednesday thursday friday saturday sunday mondays tuesdays wednesdays
    thursdays fridays saturdays sundays january february march april may june july august september october
    november december council councils councillor councillors cllr mayor leader cabinet member members chief
    executive officer director what when where who why how which is are was were can could will would do does
    did has have the a an in on of for to and or""".split())


def named_things(question: str) -> list[str]:
    """Names in a question (capitalised words after its first word, not days, months or roles),
    lowercased: "how many potholes were repaired in Swansea?" -> ["swansea"]."""
    words = re.findall(r"[A-Za-z][\w'’-]*", question)
    names = [re.sub(r"['’]s?$", "", w.lower()) for w in words[1:] if w[:1].isupper()]
    return [n for n in names if n not in _NOT_NAMES and len(n) > 2]
