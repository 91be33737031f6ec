"""Tiny hand-checkable documents for the segmenter: one rule per test."""

from __future__ import annotations

from ingest.records import Document, Page
from ingest.segment import MAX_BLOCK_WORDS, plausible_next, segment

BODY = "The council agreed the budget for the coming year after a long debate on costs."


def _doc(*pages: list[str]) -> Document:
    return Document("t.pdf", tuple(Page(n, tuple(lines)) for n, lines in enumerate(pages, start=1)))


def _numbered(*pages: list[str]) -> dict:
    return {p.label: p for p in segment(_doc(*pages)) if p.numbered}


def test_decimal_numbering_and_section_heading():
    paras = _numbered([
        "1. Introduction",
        "1.1 This report sets out the budget.",
        "1.2 It also covers reserves.",
        "2. Background",
        "2.1 The council met in May.",
        "2.1.1 A working group was formed.",
        "2.2 Costs rose sharply.",
    ])
    assert list(paras) == ["1.1", "1.2", "2.1", "2.1.1", "2.2"]
    assert paras["1.1"].heading == "Introduction"
    assert paras["2.2"].heading == "Background"
    assert paras["2.1.1"].text == "A working group was formed."


def test_section_title_printed_with_its_number_at_the_end_of_the_line():
    """Kent's budget report prints "Executive Summary   1" under a box of abbreviations: the
    title heads section 1 (without its number), and the box keeps its own words."""
    paras = segment(_doc([
        "Directorates – abbreviations in this report",
        "ASCH - Adult Social Care and Health",
        "CHB – Corporately Held Budgets",
        "Executive Summary 1",
        "1.1 This report sets out the draft budget.",
        "1.2 It also covers reserves.",
        "Council Tax 2",
        "2.1 The draft budget includes a 4.99% increase.",
        "Appendix 3",
        "3.1 A table follows.",
    ]))
    numbered = {p.label: p for p in paras if p.numbered}
    assert numbered["1.1"].heading == numbered["1.2"].heading == "Executive Summary"
    assert numbered["2.1"].heading == "Council Tax"
    assert "Executive Summary" not in " ".join(p.text for p in paras)
    assert "CHB – Corporately Held Budgets" in " ".join(p.text for p in paras if not p.numbered)
    assert numbered["3.1"].heading != "Appendix"  # a one-word title keeps its number: not this rule


def test_minutes_with_sub_paragraphs():
    paras = _numbered([
        "288. Budget Report (Item 5)",
        "(1) The Leader introduced the report.",
        "(2) Members debated it.",
        "289. Questions",
        "1) Three questions were asked.",
    ])
    assert list(paras) == ["288", "288(1)", "288(2)", "289", "289(1)"]
    assert paras["288(2)"].text == "Members debated it."
    assert paras["288(1)"].heading == "Budget Report (Item 5)"


def test_bullets_and_lettered_items_stay_in_their_paragraph():
    paras = _numbered([
        "3.1 The plan has three aims:",
        "• to reduce costs;",
        "• to protect services; and",
        "(a) to rebuild reserves.",
        "3.2 The next paragraph.",
    ])
    assert list(paras) == ["3.1", "3.2"]
    assert "to protect services" in paras["3.1"].text
    assert "(a) to rebuild reserves." in paras["3.1"].text


def test_page_break_continuation_and_furniture_removed():
    first = ["1.1 Spending on roads begins here and the sentence runs on to"]
    middle = ["the next page where it ends.", "2.1 Second section text."]
    rest = [["3.1 Libraries are open."], ["4.1 Parks are closed."]]
    pages = [
        ["Annual Budget Report", "OFFICIAL", *body, f"Page {n} of 4", "Version January 2024", str(n)]
        for n, body in enumerate([first, middle, *rest], start=1)
    ]
    paras = _numbered(*pages)
    text = paras["1.1"].text
    assert text.endswith("runs on to the next page where it ends.")
    for para in paras.values():
        for junk in ("OFFICIAL", "Page ", "Version January", "Annual Budget Report"):
            assert junk not in para.text, (para.label, junk)
    assert paras["2.1"].page == 2


def test_wrapped_year_is_not_a_paragraph():
    paras = _numbered([
        "4. The strategy was adopted in",
        "2020. The aim was to cut emissions.",
        "5. The next paragraph.",
    ])
    assert list(paras) == ["4", "5"]
    assert "2020. The aim" in paras["4"].text


def test_table_rows_of_figures_are_not_paragraphs():
    paras = _numbered([
        "6. The table shows spending.",
        "7. 2023 2024 2025",
        "8 £1.2m £1.4m £1.6m",
        "31.3.24 31.3.25 31.3.26",
        "7. Spending rose each year.",
    ])
    assert list(paras) == ["6", "7"]
    assert paras["7"].text == "Spending rose each year."


def test_contents_lines_are_not_paragraphs():
    paras = _numbered([
        "1. General ........................ 3",
        "2. Audit …………………… 5",
        "1. GENERAL",
        "1.1. These regulations govern the council.",
    ])
    assert list(paras) == ["1.1"]
    assert paras["1.1"].heading == "GENERAL"


def test_restart_under_a_new_heading_is_disambiguated():
    paras = segment(_doc([
        "Possible Outcomes",
        "1. The first outcome.",
        "2. The second outcome.",
        "Risks",
        "1. The first risk.",
        "2. The second risk.",
    ]))
    numbered = [(p.label, p.heading) for p in paras if p.numbered]
    assert numbered == [("1", "Possible Outcomes"), ("2", "Possible Outcomes"), ("1", "Risks"), ("2", "Risks")]


def test_list_inside_a_paragraph_is_not_a_restart():
    paras = _numbered([
        "3. The tasks are as follows:",
        "1. Survey the car parks.",
        "2. Model the charge.",
        "4. The next paragraph.",
    ])
    assert list(paras) == ["3", "4"]
    assert "Model the charge." in paras["3"].text


def test_new_minutes_in_the_same_file_are_accepted():
    paras = _numbered(
        ["805. Apologies for absence.", "806. Minutes were signed."],
        ["TINTERN COMMUNITY COUNCIL", "Minutes of a meeting held on 20 May 2019.",
         "2691. Police report: none.", "2692. Matters arising."],
    )
    assert list(paras) == ["805", "806", "2691", "2692"]
    assert paras["2691"].page == 2


def test_unnumbered_blocks_are_kept_and_capped():
    long = " ".join([BODY] * 30)  # 450 words of cover text
    paras = segment(_doc(["Cover sheet", "", *[BODY] * 30, "", "1. The first paragraph."]))
    blocks = [p for p in paras if not p.numbered]
    assert blocks and all(p.label.startswith("p1-") for p in blocks)
    assert all(len(p.text.split()) <= MAX_BLOCK_WORDS + 40 for p in blocks)
    assert " ".join(" ".join(p.text for p in blocks).split()).endswith(long[-40:])
    assert [p.label for p in paras if p.numbered] == ["1"]


def test_plausible_next():
    assert plausible_next((3, 2), (3, 3))
    assert plausible_next((3, 2), (4, 1))
    assert plausible_next((3,), (3, 1))
    assert plausible_next((2, 1), (2, 1, 1))
    assert not plausible_next((3, 2), (3, 2))
    assert not plausible_next((3, 2), (2, 1))
    assert not plausible_next((4,), (2020,))
    assert not plausible_next((3, 2), (3, 9))


def test_looks_tabular_tells_tables_from_prose():
    from ingest.segment import looks_tabular

    table = ("Support and grow our workforce HROD input What we have committed to Strategies plans in place "
             "Address levels of sickness absence Focus on addressing long term absence with ongoing analysis")
    prose = ("The council agreed the budget. Members noted the variances reported by each directorate. "
             "The Cabinet Member thanked officers for their work on the monitoring report this year.")
    assert looks_tabular(table)
    assert not looks_tabular(prose)
    assert not looks_tabular("Short heading only")


def test_a_bare_line_is_a_short_title_or_label_without_a_sentence():
    from ingest.segment_rules import looks_bare

    assert looks_bare("TITLE: Workplace Parking Levy Update")
    assert looks_bare("H.1 HUMAN RESOURCES COMMITTEE")
    assert looks_bare("Recommendation 6 - Temple Gate & West End Multi Storey Car Parks")
    assert not looks_bare("The Health and Wellbeing Board will be a committee of the Local Authority.")
    assert not looks_bare("The Chair and the Vice Chair shall be elected members of the Council;")
    assert not looks_bare("What is the current estimated cost to taxpayers of the review?")
    long_label = " ".join(["Councillor Ed Plowden (Chair) Councillor Graham Morris (Vice Chair)"] * 3)
    assert not looks_bare(long_label)  # 24 words: a list of members, which can answer "who chairs"


# --- where a numbered paragraph ends (so that a citation can be checked on the page) -----

FULL = "Members asked how the levy would be collected and officers explained the process to"
LAST = "the committee in some detail."


def _prose(lines: int) -> list[str]:
    """A printed paragraph: ``lines`` full lines of running text, then a short last line."""
    return [FULL] * lines + [LAST]


def test_a_title_line_over_running_text_ends_the_numbered_paragraph():
    paras = segment(_doc([
        "1.1 The study has been reviewed by the officers.", *_prose(10),
        "(WS1.2) Measures and Monitoring", *_prose(10), "1.2 The next paragraph.",
    ]))
    numbered = {p.label: p for p in paras if p.numbered}
    assert list(numbered) == ["1.1", "1.2"]
    assert "Measures and Monitoring" not in numbered["1.1"].text
    after = [p for p in paras if not p.numbered and p.heading == "(WS1.2) Measures and Monitoring"]
    assert after and all(p.label.startswith("p1-") for p in after)


def test_a_footnote_is_its_own_block_and_does_not_break_the_paragraph():
    paras = segment(_doc(
        ["1. Some of the information is now out of date and may need", "updating.7", *_prose(20),
         FULL, "7 Atkins: Bristol Workplace Parking Levy Scoping Study, February 2011"],
        ["the rest of the sentence on the next page.", "2. The next paragraph."],
    ))
    numbered = {p.label: p for p in paras if p.numbered}
    assert list(numbered) == ["1", "2"]
    assert "Atkins" not in numbered["1"].text
    assert numbered["1"].text.endswith(f"{FULL} the rest of the sentence on the next page.")
    note = next(p for p in paras if "Atkins" in p.text)
    assert not note.numbered and note.label.startswith("p1-") and note.text.startswith("7 Atkins")


def test_a_contents_list_without_page_numbers_is_not_numbered():
    contents = ["Contents overview", "1. Introduction", "1.1. Purpose of the Report", "1.2. Structure of the Report",
                "2. Background and Context", "2.1. Transport in Leicester", "2.2. Local Transport Plans"]
    body = ["1. INTRODUCTION", "1.1 Purpose of the Report", *_prose(8), "1.2 Structure of the Report", *_prose(8),
            "2. BACKGROUND", "2.1 Transport in Leicester", *_prose(8), "2.2 Local Transport Plans", *_prose(8)]
    paras = segment(_doc(contents, body))
    numbered = [(p.label, p.page) for p in paras if p.numbered]
    assert numbered == [("1.1", 2), ("1.2", 2), ("2.1", 2), ("2.2", 2)]
    assert any("Purpose of the Report" in p.text for p in paras if p.page == 1 and not p.numbered)


def test_a_numbered_list_after_as_follows_is_not_contents():
    paras = _numbered([
        "The following deliverables have been produced:",
        "1. A route map", "2. Specialist advice", "3. A governance structure", "4. A stakeholder strategy",
        "5. A risk register", "1. A route map was drawn up and agreed.",
    ])
    assert list(paras) == ["1", "2", "3", "4", "5"]


def test_a_table_after_a_paragraph_is_not_part_of_it():
    paras = segment(_doc([
        "7. The reserves are used.", *_prose(20),
        "8. Conclusions", "The budget has been reviewed by the Section 151 Officer.",
        "Core External Total Core External Total", "£000s £000s £000s £000s £000s £000s",
        "Original base budget 1,429,506.8 0.0 1,429,506.8 1,530,923.8",
    ]))
    eight = next(p for p in paras if p.label == "8")
    assert eight.text == "Conclusions The budget has been reviewed by the Section 151 Officer."
    assert any("1,429,506.8" in p.text for p in paras if not p.numbered)


def test_an_appendix_title_and_a_blank_page_end_the_paragraph():
    paras = segment(_doc(
        [*_prose(20), "7.1 The plan results in more reserves.", "APPENDIX D: HIGH LEVEL REVENUE PLAN",
         "Figures follow for each year of the plan."],
        ["8. The council met in May.", "This page is intentionally left blank", "Budget Amendment Form"],
    ))
    numbered = {p.label: p for p in paras if p.numbered}
    assert numbered["7.1"].text == "The plan results in more reserves."
    assert numbered["8"].text == "The council met in May."
    assert not any("intentionally" in p.text for p in paras)
    assert next(p for p in paras if "Figures follow" in p.text).heading == "APPENDIX D: HIGH LEVEL REVENUE PLAN"


def test_a_long_section_is_cut_at_a_printed_paragraph_but_one_long_paragraph_is_kept():
    section = ["5.1 Key Stages and Activities", *[line for _ in range(12) for line in _prose(5)], "5.2 Next."]
    paras = segment(_doc(section))
    first = next(p for p in paras if p.label == "5.1")
    assert len(first.text.split()) <= 600 and first.text.endswith(LAST)
    rest = [p for p in paras if not p.numbered]
    assert rest and all(len(p.text.split()) <= MAX_BLOCK_WORDS + 40 for p in rest)
    words = sum(len(p.text.split()) for p in paras if p.label != "5.2")
    assert words == len(" ".join(section[:-1]).split()) - 1  # nothing is lost but the label "5.1"
    one = segment(_doc([f"5.1 {FULL}", *[FULL] * 60, LAST, "5.2 Next."]))
    assert len(next(p for p in one if p.label == "5.1").text.split()) > 600


def test_a_number_wrapped_from_a_full_line_is_not_a_paragraph():
    paras = segment(_doc([
        *_prose(20),
        "The business fund recorded a net decrease since the increase of 31.0 FTE jobs in Quarter",
        "1. In the year to the end of Quarter 2, the total net decrease in jobs is 7.51 FTE,",
        "covering both jobs created and safeguarded.",
    ]))
    assert not [p for p in paras if p.numbered]
    assert any("in Quarter 1. In the year" in p.text for p in paras)


def test_the_parts_cut_off_a_long_paragraph_are_cited_by_its_label_until_the_next_heading():
    section = ["5.1 Key Stages and Activities", *[line for _ in range(12) for line in _prose(5)],
               "Funding Arrangements", *_prose(3), "5.2 Next."]
    paras = segment(_doc(section))
    parts = [p for p in paras if p.part_of == "5.1"]
    assert parts and all(not p.numbered and p.cited_label == "5.1" for p in parts)
    after_heading = [p for p in paras if p.heading == "Funding Arrangements" and not p.numbered]
    assert after_heading and all(p.part_of == "" for p in after_heading)
    assert next(p for p in paras if p.label == "5.2").part_of == ""


def test_a_run_on_table_of_figures_cut_off_a_numbered_row_is_cited_by_page():
    """A budget table row numbered "41" that runs on for pages is cut, and what follows is not
    "para 41" (Kent's budget amendments had carried ten pages of amendment forms so)."""
    row = "Drawdowns CYPE Dedicated Schools Grant reserve -14,200.0 -8,300.0 0.0 Drawdowns from reserves Core 42"
    paras = segment(_doc(["1 TOTAL REMOVAL OF PRIOR YEAR CONTRIBUTIONS -10,640 -14,200 -14,200",
                          *[row] * 50, "Budget Amendment Form Amendment Name: Highway Asset Maintenance.",
                          *_prose(3)]))
    assert next(p for p in paras if p.label == "1").numbered
    assert len(paras) > 1 and not [p for p in paras if p.part_of]


def test_a_number_printed_alone_then_a_title_line_names_the_item():
    """Minutes print "1." on its own line, the item's title on the next, then its text: the title
    is the paragraph's heading, not the heading of the section before (which had been "REPLY:")."""
    paras = _numbered([
        "REPLY:",
        "1.",
        "Adoption of Minutes",
        "Circulated, copies of the draft minutes of the meeting of 27th January.",
        "2.",
        "The Director reported that the accounts for the year",
        "Were audited without qualification in the last quarter.",
    ])
    assert paras["1"].heading == "Adoption of Minutes"
    assert paras["1"].text.startswith("Adoption of Minutes Circulated")
    # a wrapped first line of text is too long for a title
    assert paras["2"].heading != "The Director reported that the accounts for the year"


def test_own_title_turns_away_text_that_runs_on():
    from ingest.segment_rules import own_title

    assert own_title("Disposal of Land", "Housing Directorate") == "Disposal of Land"
    assert own_title("Questions submitted by the", "Members of the Council") is None  # ends in a word that runs on
    assert own_title("Declaration of Interest", "the Meetings Administrator stated") is None  # text continues
    assert own_title("The Meetings Administrator stated that, in line with the Act", "Meeting") is None  # too long
