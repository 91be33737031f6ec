"""The clerk's draft reply: house style, quoted paragraphs only, numbered sources."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import SEED_PDF
from docx import Document

from qa import handlers
from qa.draft import (
    NO_ANSWER,
    Draft,
    draft_reply,
    first_source,
    long_date,
    make_draft,
    paragraph_ref,
    question_of,
    question_parts,
    remove,
    render_text,
    reply_filename,
    report_phrase,
    swap,
    to_markdown,
    write_docx,
)
from qa.records import Answer, Citation, ReportInfo

SOURCE = "worcestershire-2020-02-13-chief-executive-annual-report.pdf"
PARA_9 = (
    "Within the field of organisational redesign and human resources work has been progressing. "
    "Sickness absence has reduced to 7.68 days per employee, compared to the same position "
    "12 months ago. Further work continues."
)
HIGHLIGHT_9 = (
    "Sickness absence has reduced to 7.68 days per employee, compared to the same position "
    "12 months ago."
)


def _citation(rank, label="9", text=PARA_9, highlight=HIGHLIGHT_9, page=3, source=SOURCE, cite=None):
    return Citation(
        rank=rank, source=source, title="Annual Report of the Chief Executive", date="2020-02-13",
        paragraph=label, heading="Organisational Redesign", page=page, score=0.8, text=text,
        highlight=highlight, council="Worcestershire County Council",
        cite=cite if cite is not None else f"Annual Report of the Chief Executive, 13 Feb 2020, para {label}",
    )


REPORTS = {
    SOURCE: ReportInfo(
        source=SOURCE, title="Annual Report of the Chief Executive", date="2020-02-13",
        council="Worcestershire County Council", meeting="Council", pages=11, paragraphs=42,
        path="/x/" + SOURCE, sha256="0" * 64, ingested_at="2024-01-01T00:00:00",
    )
}
QUESTION = "Will the Cabinet Member tell me what progress has been made on reducing sickness absence?"


def test_house_style_sentence_and_sources():
    answer = Answer(question="q", answer="Sickness absence fell to 7.68 days [1].", abstained=False,
                    citations=(_citation(1),))
    text = draft_reply(QUESTION, answer, reports=REPORTS)
    assert text.startswith("Question\n" + QUESTION)
    assert (
        'The Annual Report of the Chief Executive to Council on 13 February 2020 (paragraph 9) '
        'records that "Sickness absence has reduced to 7.68 days per employee, compared to the '
        'same position 12 months ago". [1]'
    ) in text
    sources = text.split("\nSources\n", 1)[1]
    assert sources.startswith("1. Annual Report of the Chief Executive, 13 Feb 2020, para 9 (")
    assert "page 3" in sources and SOURCE in sources


def test_without_meeting_uses_the_date_and_same_report_for_repeats():
    answer = Answer(
        question="q", answer="A [2]. B [1].", abstained=False,
        citations=(_citation(1), _citation(2, label="5", text="Budget held.", highlight="Budget held.")),
    )
    text = draft_reply(QUESTION, answer)
    reply = text.split("\nDraft reply\n", 1)[1].split("\nSources\n", 1)[0]
    statements = [line for line in reply.splitlines() if line.strip()]
    # order of first mention in the answer; numbering restarts at 1 for the draft
    assert statements[0] == (
        'The Annual Report of the Chief Executive of 13 February 2020 (paragraph 5) '
        'records that "Budget held". [1]'
    )
    assert statements[1].startswith('The same report (paragraph 9) records that "Sickness absence')
    assert "1. Annual Report of the Chief Executive, 13 Feb 2020, para 5" in text
    assert "2. Annual Report of the Chief Executive, 13 Feb 2020, para 9" in text


def test_only_quoted_text_and_inner_quotes_are_made_single():
    text_with_quotes = 'The panel said "good progress" was made.'
    answer = Answer(question="q", answer="Progress [1].", abstained=False,
                    citations=(_citation(1, text=text_with_quotes, highlight=text_with_quotes),))
    text = draft_reply(QUESTION, answer, reports=REPORTS)
    assert "records that \"The panel said 'good progress' was made\". [1]" in text
    # the generated answer wording ("Progress") is not copied into the draft
    assert "Progress [1]" not in text


def test_abstained_answer_drafts_no_statement_but_lists_closest():
    answer = Answer(question="q", answer="No paragraph clearly answers this.", abstained=True,
                    citations=(_citation(1),))
    text = draft_reply("What is the price of fish?", answer, reports=REPORTS)
    assert NO_ANSWER in text
    assert "records that" not in text
    assert "1. Annual Report of the Chief Executive, 13 Feb 2020, para 9" in text


def test_helpers():
    assert long_date("2020-02-13") == "13 February 2020"
    assert long_date(None) is None
    assert paragraph_ref("288(3)") == "paragraph 288(3)"
    assert paragraph_ref("p4-2") == "page 4"


def test_markdown_and_docx_keep_the_edited_text(tmp_path):
    answer = Answer(question="q", answer="Fell [1].", abstained=False, citations=(_citation(1),))
    text = draft_reply(QUESTION, answer, reports=REPORTS).replace("records that", "states that")
    markdown = to_markdown(text)
    assert markdown.startswith("## Question\n\n" + QUESTION)
    assert "## Sources\n\n1. Annual Report of the Chief Executive, 13 Feb 2020, para 9" in markdown
    assert "states that" in markdown
    path = write_docx(text, tmp_path / "reply.docx")
    doc = Document(str(path))
    paragraphs = [p.text for p in doc.paragraphs]
    assert paragraphs[0] == "Question"
    assert any("(paragraph 9) states that" in p for p in paragraphs)
    assert "1. Annual Report of the Chief Executive, 13 Feb 2020, para 9 (Worcestershire County Council; "\
        f"page 3; file {SOURCE})" in paragraphs


# --- statements: order, questions never quoted, only citations that add something -----------

KENT = "kent-2025-03-13-questions.pdf"
ROADS = ("The county council repaired 41,000 potholes across the county in 2024. "
         "Will the Leader tell me why the roads are so poor? Resurfacing cost £12m.")


def _kent(rank, text, highlight, label="4", title="Highways Annual Report", council="Kent County Council"):
    return Citation(rank=rank, source=KENT, title=title, date="2025-03-13", paragraph=label, heading="Highways",
                    page=2, score=0.7, text=text, highlight=highlight, council=council,
                    cite=f"{title}, 13 Mar 2025, para {label}")


def _reply(text):
    return text.split("\nDraft reply\n", 1)[1].split("\nSources\n", 1)[0]


def _statements(text):
    return [line for line in _reply(text).splitlines() if "records that" in line]


def test_answer_sentences_come_first_in_the_answers_order_and_run_on_sentences_join():
    para = "Staff numbers fell. Sickness absence has reduced to 7.68 days per employee. This saved £1m a year."
    answer = Answer(
        question="q", abstained=False,
        answer="Sickness absence has reduced to 7.68 days per employee. [2] This saved £1m a year. [2] "
               "Budget held at year end overall. [1]",
        citations=(_citation(1, label="5", text="The budget held at year end overall.", highlight="Budget held."),
                   _citation(2, text=para, highlight="Staff numbers fell.")))
    statements = _statements(draft_reply(QUESTION, answer, reports=REPORTS))
    # the answer's own sentences (found in the paragraph), not the citation's marked one
    assert statements[0].endswith('(paragraph 9) records that "Sickness absence has reduced to 7.68 days per '
                                  'employee. This saved £1m a year". [1]')
    assert statements[1].startswith("The same report (paragraph 5)")
    assert len(statements) == 2


def test_a_sentence_that_is_a_question_is_never_quoted():
    asked = "Will the Leader tell me what progress has been made on reducing sickness absence?"
    answer = Answer(question="q", abstained=False, answer=f"{asked} [1] {HIGHLIGHT_9} [2]",
                    citations=(_citation(1, label="3", text=asked, highlight=asked), _citation(2)))
    draft = make_draft(QUESTION, answer, REPORTS)
    assert [s.citation.paragraph for s in draft.statements] == ["9"]
    assert "tell me" not in _reply(render_text(draft))
    # nor offered as a swap
    assert all(c.paragraph != "3" for c in draft.statements[0].alternatives)


def test_other_citations_are_added_only_for_a_part_the_answer_leaves_uncovered():
    agency = ("Through governance of agency spend we have seen a 24% reduction in agency spend "
              "compared to the same position 12 months ago.")
    off_point = "The Department for Education were pleased with the progress made to the agreed timescale."
    answer = Answer(question="q", abstained=False, answer=f"{HIGHLIGHT_9} [1]",
                    citations=(_citation(1), _citation(2, label="10", text=off_point, highlight=off_point),
                               _citation(3, label="8", text=agency, highlight=agency)))
    question = "What progress has been made on reducing sickness absence and how much has agency spend fallen?"
    draft = make_draft(question, answer, REPORTS)
    assert [s.citation.paragraph for s in draft.statements] == ["9", "8"]
    assert "Not found" not in render_text(draft)
    # a one-part question the answer covers gets nothing more
    alone = make_draft(QUESTION, answer, REPORTS)
    assert [s.citation.paragraph for s in alone.statements] == ["9"]
    assert [c.paragraph for c in alone.statements[0].alternatives] == ["10", "8"]


def test_partly_answered_question_gets_a_not_found_line_for_the_part_not_covered():
    answer = Answer(question="q", abstained=False, answer=f"{HIGHLIGHT_9} [1]", citations=(_citation(1),))
    question = ("Will the Cabinet Member tell me what progress has been made on reducing sickness absence, "
                "and how many potholes were repaired last year?")
    text = draft_reply(question, answer, reports=REPORTS)
    assert "records that" in text
    assert "Not found in the reports: how many potholes were repaired last year." in text
    assert "Not found in the reports: what progress" not in text
    assert text.index("Not found") < text.index("\nSources\n")


def test_question_parts():
    assert question_parts("Will the Leader tell me (a) how many potholes were filled; (b) what it cost?") == [
        "how many potholes were filled", "what it cost"]
    assert question_parts("What progress has been made on sickness absence and how many staff left?") == [
        "What progress has been made on sickness absence", "how many staff left"]
    assert question_parts("What is the budget for adult social care and children's services?") == [
        "What is the budget for adult social care", "children's services"]
    # "and" inside a name is not a split
    assert question_parts("What did the Health and Wellbeing Board decide?") == [
        "What did the Health and Wellbeing Board decide"]


def test_not_answerable_gets_a_note_and_the_closest_paragraphs_not_a_draft():
    answer = Answer(question="q", answer="No paragraph clearly answers this.", abstained=True,
                    citations=(_citation(1), _citation(2, label="5", text="Budget held.", highlight="Budget held.")))
    draft = make_draft("What is the price of fish in Grimsby?", answer, REPORTS)
    assert draft.statements == () and draft.abstained
    text = render_text(draft)
    assert "\nDraft reply\n" not in text and "records that" not in text
    assert "No indexed report answers this question" in text
    closest = text.split("\nClosest paragraphs\n", 1)[1]
    assert closest.startswith("1. Annual Report of the Chief Executive, 13 Feb 2020, para 9")
    assert '"Sickness absence has reduced to 7.68 days' in closest and "2. " in closest


def test_an_off_topic_answer_that_shares_no_word_with_the_question_is_not_drafted():
    answer = Answer(question="q", abstained=False, answer=f"{HIGHLIGHT_9} [1]", citations=(_citation(1),))
    draft = make_draft("What is the price of fish in Grimsby?", answer, REPORTS)
    assert draft.statements == () and draft.abstained
    assert NO_ANSWER in render_text(draft)


def test_a_place_the_paragraphs_never_mention_gets_a_caveat():
    answer = Answer(question="q", abstained=False, answer=f"{ROADS.split('. ')[0]}. [1]",
                    citations=(_kent(1, ROADS, ROADS.split(". ")[0] + "."),))
    text = draft_reply("How many potholes were repaired in Maidstone last year?", answer)
    assert "The reports do not mention Maidstone; the figures quoted are county-wide." in text
    assert "Not found" not in text
    # named and present: no caveat; a council that is not a county is named instead
    kent = draft_reply("How many potholes did Kent County Council repair in 2024?", answer)
    assert "do not mention" not in kent
    city = Answer(question="q", abstained=False, answer=answer.answer,
                  citations=(_kent(1, ROADS, ROADS.split(". ")[0] + ".", council="Bristol City Council"),))
    assert ("The reports do not mention Clifton; the figures quoted are for Bristol City Council as a whole."
            in draft_reply("How many potholes were repaired in Clifton last year?", city))


# --- house phrasing ---------------------------------------------------------------------------

def _phrase(title, meeting=None, iso="2025-03-13"):
    citation = _kent(1, ROADS, ROADS, title=title)
    citation = Citation(**{**citation.__dict__, "date": iso})
    report = None
    if meeting is not None:
        report = ReportInfo(source=KENT, title=title, date=iso, council="Kent County Council", meeting=meeting,
                            pages=1, paragraphs=1, path=KENT, sha256="0" * 64, ingested_at="2025-01-01")
    return report_phrase(citation, report)


def test_house_phrasing_never_repeats_the_title_date_or_article():
    assert _phrase("Services to County Council – 13 March 2025", "County Council") == (
        "The Services to County Council – 13 March 2025")
    assert _phrase("Printed minutes 13th-Mar-2025 09.30 County Council", "County Council") == (
        "The Printed minutes 13th-Mar-2025 09.30 County Council")
    assert _phrase("The Annual Report of the Chief Executive", "Council", "2020-02-13") == (
        "The Annual Report of the Chief Executive to Council on 13 February 2020")
    assert _phrase("the the Budget Report", "the Cabinet") == "The Budget Report to Cabinet on 13 March 2025"
    assert _phrase("Minutes of the Cabinet", "Cabinet") == "The Minutes of the Cabinet on 13 March 2025"
    assert _phrase("Questions put and answers given - March 2025", "County Council") == (
        "The Questions put and answers given - March 2025 to County Council on 13 March 2025")
    assert _phrase("Budget Report 13/03/2025") == "The Budget Report 13/03/2025"
    assert _phrase("Budget Report", iso=None) == "The Budget Report"


def test_drafted_text_has_no_doubled_words_or_dates():
    answer = Answer(question="q", abstained=False, answer=f"{ROADS.split('. ')[0]}. [1]",
                    citations=(_kent(1, ROADS, ROADS, title="Services to County Council – 13 March 2025"),))
    reports = {KENT: ReportInfo(source=KENT, title="x", date="2025-03-13", council="Kent County Council",
                                meeting="County Council", pages=1, paragraphs=1, path=KENT, sha256="0" * 64,
                                ingested_at="2025-01-01")}
    text = draft_reply("How many potholes were repaired in 2024?", answer, reports=reports)
    statement = _statements(text)[0]
    assert statement.startswith('The Services to County Council – 13 March 2025 (paragraph 4) records that "The '
                                'county council repaired 41,000 potholes')
    assert statement.count("13 March 2025") == 1 and "The The" not in text
    # a bullet's marker is not quoted
    bullet = "• We have moved to 100% compliance with mid-year ratings submissions."
    answer = Answer(question="q", abstained=False, answer=f"{bullet} [1]",
                    citations=(_citation(1, text=bullet, highlight=bullet),))
    assert 'records that "We have moved to 100% compliance' in draft_reply("What compliance was reached?", answer)


# --- accept, swap, remove ---------------------------------------------------------------------

def _three():
    agency = "We have seen a 24% reduction in agency spend on sickness cover over the year."
    roadshow = "We spoke to circa 450 people at 12 roadshows about sickness absence policy."
    answer = Answer(question="q", abstained=False, answer=f"{HIGHLIGHT_9} [1]",
                    citations=(_citation(1), _citation(2, label="8", text=agency, highlight=agency),
                               _citation(3, label="12", text=roadshow, highlight=roadshow)))
    return make_draft(QUESTION, answer, REPORTS)


def test_swap_takes_the_next_best_source_and_cycles_back():
    draft = _three()
    once = swap(draft, 0)
    assert once.statements[0].citation.paragraph == "8"
    assert once.statements[0].quote == "We have seen a 24% reduction in agency spend on sickness cover over the year"
    assert [c.paragraph for c in once.statements[0].alternatives] == ["12", "9"]
    assert swap(swap(once, 0), 0).statements[0].citation.paragraph == "9"
    assert '(paragraph 8) records that "We have seen a 24% reduction' in render_text(once)
    assert draft.statements[0].citation.paragraph == "9"  # pure: the original is unchanged


def test_remove_and_bad_index():
    draft = _three()
    added = Draft(draft.question, draft.statements + (swap(draft, 0).statements[0],), draft.citations,
                  reports=draft.reports)
    removed = remove(added, 0)
    assert [s.citation.paragraph for s in removed.statements] == ["8"]
    assert "[2]" not in render_text(removed) and "(paragraph 8)" in render_text(removed)
    emptied = remove(removed, 0)
    text = render_text(emptied)
    assert "Every statement has been removed" in text and "records that" not in text
    with pytest.raises(ValueError, match="no statement 5"):
        remove(draft, 4)
    with pytest.raises(ValueError):
        swap(draft, -1)


# --- files ------------------------------------------------------------------------------------

def test_docx_is_a4_titled_with_the_question_and_authored_by_the_council(tmp_path):
    answer = Answer(question="q", answer="Fell [1].", abstained=False, citations=(_citation(1),))
    text = draft_reply(QUESTION, answer, reports=REPORTS)
    doc = Document(str(write_docx(text, tmp_path / "r.docx", author="Worcestershire County Council")))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)  # A4, stored in twips
    assert round(section.left_margin.cm, 2) == round(section.right_margin.cm, 2) == round(section.top_margin.cm, 2)
    assert round(section.left_margin.cm, 2) == 2.54
    assert doc.core_properties.title == QUESTION
    assert doc.core_properties.author == "Worcestershire County Council"
    assert [p.text for p in doc.paragraphs][:2] == ["Question", QUESTION]
    assert doc.paragraphs[1].style.name == "Title" and section.header.paragraphs[0].text == QUESTION
    plain = Document(str(write_docx(text, tmp_path / "p.docx")))
    assert plain.core_properties.author == "council-qa" and plain.core_properties.title == QUESTION


def test_file_name_from_question_and_date():
    day = date(2026, 11, 26)
    assert reply_filename(QUESTION, day) == "reply-reducing-sickness-absence-2026-11-26.docx"
    assert reply_filename(QUESTION, day, ".md") == "reply-reducing-sickness-absence-2026-11-26.md"
    long = ("Will the Leader tell me what the council's £12m Highways/Transport budget (2025/26) will be spent "
            "on, including Élan Valley roads, and why?")
    name = reply_filename(long, day)
    assert len(name) <= 60 and re.fullmatch(r"reply(-[a-z0-9]+)+-2026-11-26\.docx", name), name
    assert reply_filename(long, day, ".md") == name.removesuffix(".docx") + ".md"
    assert reply_filename("???", day) == "reply-2026-11-26.docx"


def test_question_and_first_source_are_read_back_from_edited_text():
    answer = Answer(question="q", answer="Fell [1].", abstained=False, citations=(_citation(1),))
    text = draft_reply(QUESTION, answer, reports=REPORTS)
    assert question_of(text) == QUESTION
    assert question_of(text.replace(QUESTION, "What is\nthe position?")) == "What is the position?"
    assert first_source(text) == SOURCE
    assert first_source("no sources here") is None


def test_handlers_swap_remove_and_name_the_files(tmp_path):
    library = SimpleNamespace(drafts_dir=lambda: tmp_path, report=lambda source: REPORTS.get(source))
    draft = _three()
    text, state, picker = handlers.draft_swap(draft, 0)
    assert state.statements[0].citation.paragraph == "8" and "(paragraph 8)" in text
    assert picker["choices"][0] == ("1. Annual Report of the Chief Executive, 13 Feb 2020, para 8", 0)
    unchanged, same, _ = handlers.draft_remove(draft, 7)
    assert same is draft and unchanged == {"__type__": "update"}
    text, state, picker = handlers.draft_remove(draft, 0)
    assert state.statements == () and picker["visible"] is False
    docx, md = handlers.draft_files(library, render_text(draft))
    name = f"reply-reducing-sickness-absence-{date.today().isoformat()}"
    assert Path(docx["value"]).name == f"{name}.docx" and Path(md["value"]).name == f"{name}.md"
    assert Document(docx["value"]).core_properties.author == "Worcestershire County Council"
    assert Path(md["value"]).read_text(encoding="utf-8").startswith("## Question\n\n" + QUESTION)


# --- the real seed report and model -----------------------------------------------------------

def test_seed_report_draft_cites_paragraph_9(tmp_path):
    from ingest.index import ingest_paths
    from qa.answer import answer as answer_question
    from qa.store import open_index

    ingest_paths([SEED_PDF], tmp_path / "ix", model=None)
    reader = open_index(tmp_path / "ix")
    result = answer_question(reader, None, QUESTION)
    draft = make_draft(QUESTION, result, {r.source: r for r in reader.reports()})
    assert draft.statements[0].citation.paragraph == "9"
    text = render_text(draft)
    assert ("The Annual Report of the Chief Executive to Council on 13 February 2020 (paragraph 9) records that"
            in text)
    assert "7.68 days per employee" in _statements(text)[0] and "Not found" not in text
