"""The clerk's draft reply: house style, quoted paragraphs only, numbered sources."""

from __future__ import annotations

from docx import Document

from qa.draft import NO_ANSWER, draft_reply, long_date, paragraph_ref, to_markdown, write_docx
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
