"""Clerk drafts: replies to formal council questions built only from quoted, cited paragraphs.

A :class:`Draft` is a list of :class:`Statement` (quote, citation, next-best sources to swap in);
:func:`make_draft`, :func:`swap`, :func:`remove` and :func:`render_text` are pure. The text: house-style
statements, a "Not found in the reports" line per part of the question nothing quoted covers, a caveat
for places no quoted paragraph mentions, numbered sources; or, when nothing answers, a note and the
closest paragraphs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import takewhile
from pathlib import Path

from ingest.embed import split_sentences
from qa.records import Answer, Citation, ReportInfo
from qa.retrieve import query_terms
from qa.sentences import asks, named_things, quotable
from qa.wording import long_date, paragraph_ref, short_date, where

__all__ = ["Draft", "Statement", "make_draft", "swap", "remove", "render_text", "draft_reply", "to_markdown",
           "write_docx", "reply_filename", "question_of", "first_source", "long_date", "paragraph_ref"]

QUESTION_HEADING = "Question"
REPLY_HEADING = "Draft reply"
NO_REPLY_HEADING = "No reply drafted"
SOURCES_HEADING = "Sources"
CLOSEST_HEADING = "Closest paragraphs"
HEADINGS = (QUESTION_HEADING, REPLY_HEADING, NO_REPLY_HEADING, SOURCES_HEADING, CLOSEST_HEADING)

NO_ANSWER = ("No indexed report answers this question, so no reply has been drafted. "
             "The closest paragraphs are listed below for the clerk to check.")
ALL_REMOVED = "Every statement has been removed, so nothing is drafted. The sources the reports offered are below."
NOT_FOUND = "Not found in the reports: {part}."
DEFAULT_AUTHOR = "council-qa"
COVERED_SHARE = 0.5  # a part of the question is covered when this share of its words is in the paragraphs
MAX_ADDED, ADDED_SHARE = 2, 2 / 3  # at most 2 statements added for uncovered parts, from paragraphs with 2/3
MAX_FILE_NAME = 60

_MARKED = re.compile(r"(.+?)\s*\[(\d+)\]", re.S)
_NUMBERED_SOURCE = re.compile(r"^(\d+)\.\s+")
_BULLET = re.compile(r"^\s*(?:[•▪●◦·*–-]|\(?[a-z0-9]{1,3}\))\s+", re.I)
_PREAMBLE = re.compile(r"^.{0,120}?\b(?:tell|inform|confirm|advise|explain|update|provide|set out|state|say)\b"
                       r"(?:\s+(?:me|us|members|the council|council))?(?:\s+(?:of|on|about|with))?\s+", re.I)
_ADDRESSED = re.compile(r"^\s*(?:will|would|can|could|please|may)\b", re.I)
_WH = r"(?:what|how|when|which|who|whom|why|whether|where|if)\b"
_HARD_SPLIT = re.compile(rf"\s*(?:;|\(\s*[a-z0-9]{{1,3}}\s*\)|(?:^|\s)[a-h]\)|,?\s+and\s+(?={_WH}))\s*", re.I)
_SOFT_SPLIT = re.compile(r",?\s+and\s+", re.I)
_NOT_CONTENT = frozenset("""inform confirm advise explain update provide state leader portfolio holder chairman
    chair made make being details information please know last year years month months recent latest since""".split())
_SLUG_SKIP = _NOT_CONTENT | {"progress", "current", "number", "position", "tell"}
_ENDINGS = frozenset(("", "s", "es", "ed", "ing", "er", "ers"))
_MONTHS = "january february march april may june july august september october november december".split()


@dataclass(frozen=True)
class Statement:
    """One quoted statement, its citation, and the sources it can be swapped for (best first)."""
    quote: str
    citation: Citation
    alternatives: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class Draft:
    """A clerk's draft: the question, its statements, and every citation of the answer."""
    question: str
    statements: tuple[Statement, ...]
    citations: tuple[Citation, ...] = ()
    abstained: bool = False  # nothing answers: no statements, a note and the closest paragraphs
    reports: Mapping[str, ReportInfo] = field(default_factory=dict, compare=False, hash=False)


def _body(question: str) -> str:
    """The question without its formal address ("Will the Cabinet Member tell me …")."""
    text = " ".join(question.split()).rstrip(" ?.")
    if _ADDRESSED.match(text):
        text = _PREAMBLE.sub("", text, count=1)
    return text


def _content(text: str) -> list[str]:
    return [t for t in query_terms(text) if t not in _NOT_CONTENT]


def question_parts(question: str) -> list[str]:
    """The parts of a formal question: split on ";", "(a)"/"(b)", "… and what/how …", and on
    "and" between two phrases of two or more content words each."""
    parts: list[str] = []
    for piece in _HARD_SPLIT.split(_body(question)):
        pieces = _SOFT_SPLIT.split(piece)
        if len(pieces) > 1 and all(len(_content(p)) >= 2 for p in pieces):
            parts += pieces
        else:
            parts.append(piece)
    return [re.sub(r"^(?:and|or)\s+", "", p.strip(" ,.?"), flags=re.I) for p in parts if _content(p)]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[\w£%]+", text.lower()))


def _found(term: str, words: set[str]) -> bool:
    """``term`` or a word sharing its stem ("reducing": "reduced", "reduction") is in ``words``."""
    stem = re.sub(r"(?<=\w{4})(ies|ing|ed|es|s)$", "", term)  # a short stem takes only plain endings
    return any(w.startswith(stem) and (len(stem) > 4 or w[len(stem):] in _ENDINGS) for w in words)


def _share(terms: list[str], words: set[str]) -> float:
    return sum(_found(t, words) for t in terms) / len(terms) if terms else 0.0


def _covered(part: str, *texts: set[str], share: float = COVERED_SHARE) -> bool:
    """Whether one of ``texts`` (paragraphs' words) holds enough of the part's content words, names
    and years aside (:func:`coverage_notes` caveats a name no paragraph mentions)."""
    names = set(named_things(f"x {part}"))
    terms = [t for t in _content(part) if t not in names and not t.isdigit()] or _content(part)
    return any(_share(terms, words) >= share for words in texts)


def _key(citation: Citation) -> tuple[str, str, int]:
    return citation.source, citation.paragraph, citation.page  # one paragraph, however often it is cited


def _clean(sentence: str) -> str:
    sentence = _BULLET.sub("", " ".join(sentence.split()))
    sentence = sentence.replace('"', "'").replace("\u201c", "'").replace("\u201d", "'")
    return sentence.rstrip(" .;:")


def _best_sentence(citation: Citation, terms: list[str]) -> str:
    """The citation's marked sentence when it can be quoted, else its quotable sentence holding
    most of the question's words; "" when it has none."""
    if quotable(citation.highlight):
        return _clean(citation.highlight)
    candidates = [s for s in split_sentences(citation.text) if quotable(s)]
    if not candidates:
        return ""
    return _clean(max(candidates, key=lambda s: _share(terms, _words(s))))


def _answer_statements(answer: Answer) -> list[Statement]:
    """The answer's quoted sentences in its order (sentences from one paragraph in a row make one
    statement); a sentence not found in its paragraph gives way to the citation's marked one."""
    by_rank = {c.rank: c for c in answer.citations}
    out: list[Statement] = []
    for match in _MARKED.finditer(answer.answer):
        citation = by_rank.get(int(match.group(2)))
        sentence = match.group(1).strip(" .")
        if citation is None:
            continue
        if len(sentence.split()) < 4 or " ".join(sentence.split()) not in " ".join(citation.text.split()):
            sentence = citation.highlight
        if not sentence.strip() or asks(sentence):
            continue
        quote = _clean(sentence)
        if out and _key(out[-1].citation) == _key(citation):
            if quote not in out[-1].quote:
                out[-1] = replace(out[-1], quote=f"{out[-1].quote}. {quote}")
        elif all(_key(s.citation) != _key(citation) for s in out):
            out.append(Statement(quote, citation))
    return out


def _paragraphs(statements: Sequence[Statement]) -> list[set[str]]:
    return [_words(f"{s.citation.heading} {s.citation.text}") for s in statements]


def _add_for_gaps(question: str, statements: list[Statement], citations: tuple[Citation, ...]) -> list[Statement]:
    """Other citations that cover a part of the question the statements leave uncovered."""
    added = 0
    for part in question_parts(question):
        if added >= MAX_ADDED or _covered(part, *_paragraphs(statements)):
            continue
        used = {_key(s.citation) for s in statements}
        for citation in citations:
            paragraph = _words(f"{citation.heading} {citation.text}")
            if _key(citation) in used or not _covered(part, paragraph, share=ADDED_SHARE):
                continue
            quote = _best_sentence(citation, _content(part))
            if quote and _covered(part, _words(quote)):
                statements.append(Statement(quote, citation))
                added += 1
                break
    return statements


def _with_alternatives(statements: list[Statement], citations: tuple[Citation, ...],
                       terms: list[str]) -> tuple[Statement, ...]:
    used = {_key(s.citation) for s in statements}
    spare = tuple(c for c in citations if _key(c) not in used and _best_sentence(c, terms))
    return tuple(replace(s, alternatives=spare) for s in statements)


def make_draft(question: str, answer: Answer, reports: Mapping[str, ReportInfo] | None = None) -> Draft:
    """The draft for ``question``: the answer's quoted sentences in its order, then other citations
    only for parts of the question it leaves uncovered. No statements (a note instead) when the
    answer declined or the quoted paragraphs hold none of the question's words."""
    question, reports, citations = " ".join(question.split()) or answer.question, dict(reports or {}), answer.citations
    if answer.abstained:
        return Draft(question, (), citations, True, reports)
    statements = _add_for_gaps(question, _answer_statements(answer), citations)
    if not statements or not _share(_content(_body(question)), set().union(*_paragraphs(statements))):
        return Draft(question, (), citations, True, reports)
    return Draft(question, _with_alternatives(statements, citations, _content(question)), citations, False, reports)


def _checked(draft: Draft, index: int) -> Statement:
    if 0 <= index < len(draft.statements):
        return draft.statements[index]
    raise ValueError(f"the draft has no statement {index + 1}")


def swap(draft: Draft, index: int) -> Draft:
    """Statement ``index`` (0-based) quoted from its next-best source instead; the source it had
    goes to the back of its alternatives. Unchanged when no other source is free."""
    statement = _checked(draft, index)
    used = {_key(s.citation) for i, s in enumerate(draft.statements) if i != index}
    for j, alternative in enumerate(statement.alternatives):
        quote = _best_sentence(alternative, _content(draft.question))
        if _key(alternative) in used or not quote:
            continue
        rest = statement.alternatives[:j] + statement.alternatives[j + 1:] + (statement.citation,)
        swapped = Statement(quote, alternative, rest)
        return replace(draft, statements=draft.statements[:index] + (swapped,) + draft.statements[index + 1:])
    return draft


def remove(draft: Draft, index: int) -> Draft:
    """The draft without statement ``index`` (0-based)."""
    _checked(draft, index)
    return replace(draft, statements=draft.statements[:index] + draft.statements[index + 1:])


def cite_line(citation: Citation) -> str:
    """The short reference: "Annual Report of the Chief Executive, 13 Feb 2020, para 9"."""
    dated = [short_date(citation.date) or citation.date] if citation.date else []
    return citation.cite or ", ".join([citation.title, *dated, where(citation.paragraph, citation.page)])


def _mentions_date(text: str, iso: str | None) -> bool:
    """Whether ``text`` already names the day ``iso`` ("13 March 2025", "13th-Mar-2025", ISO)."""
    try:
        day = date.fromisoformat((iso or "")[:10])
    except ValueError:
        return False
    month = _MONTHS[day.month - 1]
    spelled = rf"\b0?{day.day}(?:st|nd|rd|th)?[\s./-]+(?:{month}|{month[:3]})\.?[\s./-]+{day.year}\b"
    numeric = rf"\b0?{day.day}[./]0?{day.month}[./](?:{day.year}|{day.year % 100:02d})\b"
    return bool(re.search(rf"{spelled}|{numeric}|{day.isoformat()}", text, re.I))


def report_phrase(citation: Citation, report: ReportInfo | None) -> str:
    """"The Annual Report of the Chief Executive to Council on 13 February 2020": the meeting only
    when the title does not already name it, the date only when the title does not carry it."""
    title = re.sub(r"\b(the)\s+the\b", r"\1", " ".join(citation.title.split()), flags=re.I) or citation.source
    title = f"The {title[4:] if title.lower().startswith('the ') else title}"
    meeting = " ".join(((report.meeting or report.committee or "") if report else "").split())
    meeting = re.sub(r"^the\s+", "", meeting, flags=re.I)
    to = f" to {meeting}" if meeting and meeting.lower() not in title.lower() else ""
    when, it = None if _mentions_date(title, citation.date) else long_date(citation.date), citation.item
    return f"{title}{to}" + (f" {'on' if meeting else 'of'} {when}" if when else "") + (f", item {it}" if it else "")


def _source_entry(citation: Citation) -> str:
    details = [d for d in (citation.council, f"page {citation.page}" if citation.page else "") if d]
    return f"{cite_line(citation)} ({'; '.join([*details, f'file {citation.source}'])})"


def _place_phrase(draft: Draft) -> str:
    council = next((s.citation.council for s in draft.statements if s.citation.council), "") or ""
    whole = "county-wide" if "county" in council.lower() else f"for {council} as a whole" if council else "general"
    return f"the figures quoted are {whole}"


def coverage_notes(draft: Draft) -> list[str]:
    """A "Not found in the reports" line for each part of the question the statements do not
    cover, then a caveat naming places or bodies the quoted paragraphs never mention."""
    words = _paragraphs(draft.statements)
    named = set().union(*words, _words(" ".join(f"{s.citation.title} {s.citation.council}" for s in draft.statements)))
    notes, covered = [], []
    for part in question_parts(draft.question):
        (covered if _covered(part, *words) else notes).append(part)
    notes = [NOT_FOUND.format(part=part) for part in notes]
    names = [n for n in dict.fromkeys(named_things(f"x {' '.join(covered)}")) if not _found(n, named)]
    if names:
        shown = [re.search(rf"\b{re.escape(n)}\w*", _body(draft.question), re.I) for n in names]
        spelled = [m.group(0) if m else n for m, n in zip(shown, names, strict=True)]
        listed = ", ".join(spelled[:-1]) + (" or " if len(spelled) > 1 else "") + spelled[-1]
        notes.append(f"The reports do not mention {listed}; {_place_phrase(draft)}.")
    return notes


def render_text(draft: Draft) -> str:
    """The plain-text draft: question, statements (or the note), coverage lines, numbered sources."""
    lines = [QUESTION_HEADING, draft.question, ""]
    if not draft.statements:
        lines += [NO_REPLY_HEADING, NO_ANSWER if draft.abstained else ALL_REMOVED, "", CLOSEST_HEADING]
        if not draft.citations:
            lines.append("None: the indexed reports hold nothing close to this question.")
        for number, citation in enumerate(draft.citations, start=1):
            excerpt = _clean(citation.highlight or citation.text)
            lines += [f"{number}. {_source_entry(citation)}", f'   "{excerpt}"']
        return "\n".join(lines).strip() + "\n"
    lines.append(REPLY_HEADING)
    previous: str | None = None
    for number, statement in enumerate(draft.statements, start=1):
        citation = statement.citation
        same, subject = citation.source == previous, "The same report"
        subject = subject if same else report_phrase(citation, draft.reports.get(citation.source))
        previous = citation.source
        lines += [f'{subject} ({paragraph_ref(citation.paragraph)}) records that "{statement.quote}". [{number}]', ""]
    for note in coverage_notes(draft):
        lines += [note, ""]
    lines.append(SOURCES_HEADING)
    lines += [f"{n}. {_source_entry(s.citation)}" for n, s in enumerate(draft.statements, start=1)]
    return "\n".join(lines).strip() + "\n"


def draft_reply(question: str, answer: Answer, *, reports: Mapping[str, ReportInfo] | None = None) -> str:
    """The plain-text draft (:func:`make_draft`, :func:`render_text`); ``reports`` (file → ReportInfo)
    adds the meeting a report went to ("to Council on 13 February 2020")."""
    return render_text(make_draft(question, answer, reports))


def question_of(text: str) -> str:
    """The question of a (possibly edited) plain-text draft: the lines under "Question"."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    start = lines.index(QUESTION_HEADING) + 1 if QUESTION_HEADING in lines else len(lines)
    block = "\n".join(lines[start:]).strip().split("\n\n")[0].split("\n")
    return " ".join(" ".join(takewhile(lambda line: line not in HEADINGS, block)).split())


def first_source(text: str) -> str | None:
    """The file of the first numbered source under "Sources" in a (possibly edited) draft."""
    _, found, sources = text.replace("\r\n", "\n").partition(f"\n{SOURCES_HEADING}\n")
    match = re.search(r"^\s*1\.\s.*\bfile (.+?)\)\s*$", sources, re.M) if found else None
    return match.group(1) if match else None


def reply_filename(question: str, day: date, suffix: str = ".docx") -> str:
    """"reply-reducing-sickness-absence-2026-11-26.docx": the question's key words and the day,
    lower-case letters, digits and hyphens only, at most 60 characters."""
    tail, slug = f"-{day.isoformat()}", ""
    for term in _content(_body(question)):
        word = re.sub(r"[^a-z0-9]+", "-", term.lower()).strip("-")
        if word and term not in _SLUG_SKIP and word not in slug.split("-"):
            if len(f"reply{slug}-{word}{tail}.docx") > MAX_FILE_NAME:  # the .md gets the same name
                break
            slug += f"-{word}"
    return f"reply{slug}{tail}{suffix}"


def to_markdown(text: str) -> str:
    """The (possibly edited) plain-text draft as Markdown: section headings become ``##``."""
    out: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        out += ["", f"## {line.strip()}", ""] if line.strip() in HEADINGS else [line.rstrip()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip() + "\n"


def write_docx(text: str, path: str | Path, *, title: str | None = None, author: str | None = None) -> Path:
    """Write the (possibly edited) plain-text draft as a Word document, A4 with UK margins (2.54 cm),
    titled with the question (``title`` overrides; also the running head), ``author`` the council
    (default "council-qa"); returns the path."""
    from docx import Document
    from docx.shared import Cm, Mm, Pt

    path, document = Path(path), Document()
    title, author = title or question_of(text) or "Draft reply", author or DEFAULT_AUTHOR
    for section in document.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Cm(2.54)
        section.header.paragraphs[0].text = title
    props = document.core_properties
    props.title, props.author, props.last_modified_by, props.comments = title, author, author, ""
    document.styles["Normal"].font.name, document.styles["Normal"].font.size = "Arial", Pt(11)
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        block_lines = [line.rstrip() for line in block.split("\n") if line.strip()]
        while block_lines:
            first = block_lines[0].strip()
            if first in HEADINGS:
                document.add_heading(first, level=2)
                block_lines.pop(0)
                if first == QUESTION_HEADING and block_lines:
                    document.add_paragraph(" ".join(line.strip() for line in block_lines), style="Title")
                    break
                continue
            if _NUMBERED_SOURCE.match(first):
                for line in block_lines:
                    document.add_paragraph(line.strip())
            else:
                document.add_paragraph(" ".join(line.strip() for line in block_lines))
            break
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path
