"""The retrieval maths: pure functions over lists, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.embed import make_windows, split_sentences
from qa.records import ParagraphFlags
from qa.retrieve import (
    DEFAULT_PARAMS,
    Candidates,
    apply_penalties,
    best_per_paragraph,
    block_penalties,
    discounted,
    fts_query,
    linear_fusion,
    query_terms,
    reciprocal_rank_fusion,
    refill_report_places,
)


def test_best_window_scores_its_paragraph():
    ranked = best_per_paragraph([10, 11, 12, 13], [0.2, 0.9, 0.5, 0.4], {10: 1, 11: 1, 12: 2, 13: 3})
    assert ranked == [(1, 0.9), (2, 0.5), (3, 0.4)]


def test_rrf_by_hand():
    fused = dict(reciprocal_rank_fusion([[1, 2], [2, 3]], [1.0, 1.0], k=60))
    assert fused[2] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[1] == pytest.approx(1 / 61)
    assert fused[3] == pytest.approx(1 / 62)


def test_linear_fusion_normalises_bm25_and_floors_missing_dense():
    scores = linear_fusion([(1, 0.8), (2, 0.5)], [(2, 10.0), (3, 5.0)], 0.2)
    assert scores[1] == pytest.approx(0.8)
    assert scores[2] == pytest.approx(0.5 + 0.2)
    assert scores[3] == pytest.approx(0.5 + 0.1)  # lexical only: the lowest dense score
    assert linear_fusion([], [(7, 3.0)], 1.0) == {7: pytest.approx(1.0)}


def test_a_named_report_s_common_subject_is_discounted_from_the_question():
    question = np.array([0.8, 0.6], dtype=np.float32)  # the report's subject (x) and the fact asked for (y)
    centroids = [np.array([0.9, 0.1]), np.array([0.7, -0.1])]  # two named reports, both about x
    assert discounted(question, centroids, 0.5) == pytest.approx([0.8 - 0.5 * 0.8, 0.6])
    introduction, fact = np.array([1.0, 0.0]), np.array([0.0, 1.0])  # "this report is about x" / the fact
    assert question @ introduction > question @ fact  # 0.8 > 0.6: the introduction wins on the question
    assert discounted(question, centroids, 0.5) @ fact > discounted(question, centroids, 0.5) @ introduction
    assert discounted(question, centroids, 0.0) is question
    assert discounted(question, [], 0.5) is question


def test_the_first_places_keep_their_report_and_take_its_paragraphs_in_the_report_named_order():
    ranked = [(1, 0.9), (2, 0.8), (7, 0.7), (3, 0.6), (8, 0.5)]  # reports: 1, 2, 3 of A; 7, 8 of B
    report_of = {1: 10, 2: 10, 3: 10, 4: 10, 7: 20, 8: 20}
    named = {10: [3, 1, 4], 20: [8, 7]}  # what the search narrowed to each report puts first
    refilled = refill_report_places(ranked, report_of, lambda rid: named[rid], 3)
    assert refilled == [(3, 0.9), (1, 0.8), (8, 0.7), (2, 0.6), (7, 0.5)]
    assert refill_report_places(ranked, report_of, lambda rid: named[rid], 0) == ranked
    assert refill_report_places(ranked, report_of, lambda rid: [], 3) == ranked  # nothing named: as ranked
    assert refill_report_places([], report_of, lambda rid: named[rid], 3) == []
    assert refill_report_places([(2, 0.5)], report_of, lambda rid: [4, 3], 3) == [(4, 0.5), (2, 0.5)]


def test_penalties_reorder():
    assert apply_penalties({1: 0.7, 2: 0.6}, {1: 0.2}) == [(2, 0.6), (1, pytest.approx(0.5))]


def test_block_priors_add_up_for_unnumbered_tables_and_bare_lines():
    flags = {
        1: ParagraphFlags(1, 10, numbered=True, tabular=False, bare=False),  # a numbered paragraph
        2: ParagraphFlags(2, 10, numbered=True, tabular=False, bare=True),  # "5. Apologies and Substitutes"
        3: ParagraphFlags(3, 10, numbered=False, tabular=False, bare=True),  # "TITLE: Workplace Parking Levy"
        4: ParagraphFlags(4, 10, numbered=False, tabular=True, bare=False),  # a table in a numbered report
        5: ParagraphFlags(5, 20, numbered=False, tabular=False, bare=False),  # a report printed without numbers
    }
    c = Candidates(dense=[], lexical=[], flags=flags, numbered_count={10: 12, 20: 0})
    p = DEFAULT_PARAMS
    assert block_penalties(c) == pytest.approx({
        2: p.bare_line_penalty,
        3: p.bare_line_penalty + p.unnumbered_penalty,
        4: p.unnumbered_penalty + p.table_penalty,
        5: p.unnumbered_report_penalty,
    })


def test_query_terms_drop_stopwords_and_quote_for_fts():
    assert query_terms("What happened to sickness absence?") == ["sickness", "absence"]
    assert fts_query("What's the EHCP timescale?") == '"ehcp" OR "timescale"'
    assert query_terms("the council’s section 25 statement") == ["section", "25", "statement"]


def test_windows_keep_sentences_whole_and_overlap():
    text = " ".join(f"Sentence number {i} has exactly seven words." for i in range(20))
    windows = make_windows(text, max_words=21, overlap=1)
    assert all(len(w.split()) <= 21 for w in windows)
    assert windows[0].startswith("Sentence number 0") and windows[-1].endswith("number 19 has exactly seven words.")
    assert windows[1].startswith("Sentence number 2")  # one sentence of overlap
    plain = make_windows(text, max_words=21, overlap=0)  # no overlap: every sentence once
    assert [w.startswith(f"Sentence number {3 * i}") for i, w in enumerate(plain)] == [True] * 7
    assert " ".join(plain) == text
    assert split_sentences("First one. Second one.\n• a bullet") == ["First one.", "Second one.", "• a bullet"]


def test_sentences_do_not_end_at_an_abbreviation():
    # Greenville's minutes: a quote cut after "Mr." had lost the name it introduced.
    assert split_sentences("Chief Diversity Officer Bryant Davis. Mr. McDonough introduced Mr. Davis.") == [
        "Chief Diversity Officer Bryant Davis.", "Mr. McDonough introduced Mr. Davis."]
    assert split_sentences("Cymerwyd y Gadair gan y Cyng. G. Evans. Diolch.") == [
        "Cymerwyd y Gadair gan y Cyng. G. Evans.", "Diolch."]
    assert split_sentences("Paid £680 (Ch. No 1234). Kilteely, Co. Limerick. Then A. N. Other spoke.") == [
        "Paid £680 (Ch. No 1234).", "Kilteely, Co. Limerick.", "Then A. N. Other spoke."]
    # Limerick's minutes: a quote had been "Notice of Motion submitted by Councillor E.".
    assert split_sentences("Notice of Motion submitted by Councillor E. O’Donovan was taken. Agreed.") == [
        "Notice of Motion submitted by Councillor E. O’Donovan was taken.", "Agreed."]
    address = "Eric Mitchell, 112 E. Tallulah Drive, spoke."
    assert split_sentences(address) == [address]
    # A capital letter that names something still ends its sentence, and so do ordinary words.
    assert split_sentences("See Appendix A. The plan follows. Option B. A new scheme.") == [
        "See Appendix A.", "The plan follows.", "Option B.", "A new scheme."]
    assert split_sentences("Cllr Hayward said no.\nMr. Smith agreed.") == ["Cllr Hayward said no.", "Mr. Smith agreed."]


def test_an_index_cuts_windows_as_its_manifest_says():
    from ingest.index_format import BuildParams, current_params

    older = BuildParams.from_manifest({"model": "m", "dimension": 8,
                                       "windowing": {"max_words": 50, "overlap_sentences": 1}})
    assert older.window_heading and older.window_overlap == 1  # a manifest without the field: prepended
    text = "Sickness absence fell to 7.68 days. It was 8.1 days the year before."
    assert older.windows(text, "Sickness") == [(text, f"Sickness: {text}")]
    plain = BuildParams("m", 8, 8, 0, False)
    first, second = "Sickness absence fell to 7.68 days.", "It was 8.1 days the year before."
    assert plain.windows(text, "Sickness") == [(first, first), (second, second)]  # 8 words each, no heading
    new = current_params("m", 8)
    assert BuildParams.from_manifest(new.to_manifest()) == new


def test_the_fast_model_cuts_windows_without_overlap_and_the_default_with_one_sentence():
    from ingest.embed import DEFAULT_MODEL, FAST_MODEL, INT8_SUFFIX
    from ingest.index_format import current_params

    assert current_params(DEFAULT_MODEL, 768).window_overlap == 1
    assert current_params(FAST_MODEL, 384).window_overlap == 0
    assert current_params(FAST_MODEL + INT8_SUFFIX, 384).window_overlap == 1  # not measured: the default


def test_a_printed_paragraph_cut_into_parts_is_shown_once_but_shared_labels_stay():
    from ingest.records import Paragraph
    from qa.retrieve import one_per_printed_paragraph

    head = Paragraph("m.pdf", "2.1", 2, "", "What data is there?", True)
    part = Paragraph("m.pdf", "p4-4", 4, "", "18,395 businesses.", False, "2.1")
    other_part = Paragraph("m.pdf", "p4-6", 4, "", "31% drive.", False, "2.1")
    six_a = Paragraph("m.pdf", "6", 2, "", "Public forum.", True)
    six_b = Paragraph("m.pdf", "6", 10, "", "Approved charging.", True)
    paragraphs = {1: part, 2: head, 3: six_a, 4: other_part, 5: six_b}
    ranked = [(1, 0.9), (2, 0.8), (3, 0.7), (4, 0.6), (5, 0.5)]
    assert one_per_printed_paragraph(ranked, paragraphs) == [(1, 0.9), (3, 0.7), (5, 0.5)]
    # the head first: its parts go
    assert one_per_printed_paragraph([(2, 0.9), (1, 0.8), (4, 0.7)], paragraphs) == [(2, 0.9)]
