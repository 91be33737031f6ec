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
