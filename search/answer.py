"""The answer first: the few sentences that best answer a question, taken
word for word from the top distinct sections of its results (each hit is
already one section, and carries its best sentence as a highlight). Nothing
is generated, so the answer cannot say what the documents do not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kb.records import Chunk
from kb.text.headings import heading_key
from kb.text.sentences import LIST_ITEM, Span
from search.highlight import body_spans, closes_mid_sentence, opens_mid_sentence
from search.hits import HighlightKind, Hit, Results

# The passages just before a hit's in its document, nearest first, at most
# LEAD_IN_REACH (Searcher.passages_before): where a list item's lead-in is
# when the hit's passage starts inside a long list.
Before = Callable[[Hit], list[Chunk]]

ANSWER_SENTENCES = 3  # at most; the issue asks for two to four
ANSWER_DEPTH = 5  # hits the sentences may come from: the top of the list only
MAX_CHARS = 400  # a "sentence" that is a whole list is cut at a word
MIN_LEAD_IN = 80  # characters of a list item's lead-in kept however long the item
# Passages before a hit's searched for its list item's lead-in (a long list
# spans several): on the 120 dev questions of the Act's sets 4 found none
# within four passages, 1 within twelve (deep in 4 §'s definitions).
LEAD_IN_REACH = 12


@dataclass(frozen=True)
class AnswerSentence:
    """One quoted sentence and the hit (card) it comes from."""

    text: str
    hit: Hit


def best_span(hit: Hit, spans: list[Span]) -> Span | None:
    """Where the hit's marked best sentence lies in its text; a
    one-sentence passage (``spans``: its body's sentences) is its own best
    sentence; None when none is marked."""
    marks = [h for h in hit.highlights if h.kind is HighlightKind.SENTENCE]
    if marks:
        return marks[0].start, marks[0].end
    if len(spans) == 1 and any(h.kind is HighlightKind.TERM for h in hit.highlights):
        return spans[0]
    return None


def best_sentence(hit: Hit, before: Before | None = None) -> str:
    """The hit's best sentence as quoted: a sentence that leads into a list
    ("... are:", "... if") brings the list's items with it; a list item
    comes after its lead-in (from the passages before, through ``before``,
    when the hit's passage starts inside the list), and is not quoted
    where no lead-in is found; a sentence cut by the passage's start or
    end says so with "…"."""
    spans = body_spans(hit.text, hit.section)
    span = best_span(hit, spans)
    if span is None:
        return ""
    if LIST_ITEM.match(hit.text, span[0]):
        return _item_after_its_lead_in(hit, spans, span, before)
    start, end, items_left = _with_its_list(hit.text, spans, *span)
    text = hit.text[start:end].strip()
    if not text:
        return ""
    first = spans[0][0] if spans else 0
    if start <= first and opens_mid_sentence(hit.text, first):
        text = "… " + text
    if items_left or (not hit.text[end:].strip() and closes_mid_sentence(hit.text)):
        text += " …"
    return text


def _with_its_list(text: str, spans: list[Span], start: int, end: int) -> tuple[int, int, bool]:
    """(start, end) widened over the list items that follow a lead-in
    sentence (one that ends in a colon, or in no full stop before an
    item), up to MAX_CHARS: the items are the answer; and whether items
    were left out for that limit."""
    head = text[start:end].rstrip()
    if head[-1:] in ".!?":
        return start, end, False
    after = [sp for sp in spans if sp[0] >= end]
    items = [sp for sp in after if LIST_ITEM.match(text, sp[0])]
    if not items or (head[-1:] != ":" and after[0] != items[0]):
        return start, end, False
    for s, e in after:
        if not LIST_ITEM.match(text, s):
            break
        if e - start > MAX_CHARS:
            return start, end, True
        end = e
    return start, end, False


def _lead_in(text: str, spans: list[Span]) -> tuple[Span | None, bool]:
    """The list's lead-in: walking back over ``spans``, the first sentence
    that is not part of an item (an item, an item's tail that ends in a
    comma or semicolon, or a full sentence after an earlier item), unless
    it is a piece the passage opens with in mid-sentence (None then, and if
    there is none); and whether items lie between it and the end of
    ``spans``."""
    items = 0
    for i in range(len(spans) - 1, -1, -1):
        start, end = spans[i]
        last = text[start:end].rstrip()[-1:]
        in_item = (
            LIST_ITEM.match(text, start)
            or last in ",;"
            or (last in ".!?" and any(LIST_ITEM.match(text, s) for s, _ in spans[:i]))
        )
        if in_item:
            items += 1
            continue
        if i == 0 and opens_mid_sentence(text, start):
            break
        return spans[i], items > 0
    return None, items > 0


def _after(lead: str, item: str, skipped: bool) -> str:
    """``lead`` then ``item``, with "…" between where items are left out;
    a lead-in too long for both to fit MAX_CHARS is cut (and says so), so
    the item, the best sentence, stays in the quote."""
    lead, sep = " ".join(lead.split()), " … " if skipped else " "
    room = max(MAX_CHARS - len(item) - len(sep), MIN_LEAD_IN)
    if len(lead) > room:
        return f"{_shorten(lead, room)} {item}"  # ends in "…" itself
    return f"{lead}{sep}{item}"


def _item_after_its_lead_in(hit: Hit, spans: list[Span], span: Span, before: Before | None) -> str:
    """A list item quoted after its lead-in: "lead-in item" when the item
    follows it at once, "lead-in … item" when items lie between or the
    lead-in is in a passage before (same document and section); "" when
    the lead-in is not at hand, so the answer never quotes a list's tail
    alone."""
    text = hit.text
    after = [sp for sp in spans if sp[0] >= span[1]]
    more = bool(LIST_ITEM.match(text, after[0][0])) if after else closes_mid_sentence(text)
    item = " ".join(text[span[0] : span[1]].split()) + (" …" if more else "")
    lead, skipped = _lead_in(text, [sp for sp in spans if sp[1] <= span[0]])
    if lead is not None:
        return _after(text[lead[0] : lead[1]], item, skipped)
    for previous in before(hit) if before is not None else []:
        if previous.doc_id != hit.doc_id or previous.section != hit.section:
            break
        lead, _ = _lead_in(previous.text, body_spans(previous.text, previous.section))
        if lead is not None:
            return _after(previous.text[lead[0] : lead[1]], item, True)
    return ""


def _shorten(text: str, limit: int = MAX_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:") + " …"


def answer(
    hits: Results, limit: int = ANSWER_SENTENCES, before: Before | None = None
) -> list[AnswerSentence]:
    """Up to ``limit`` best sentences of the first hits, best hit first, one
    per section (a section's other language versions count as that
    section), without the same sentence twice; a list item with its
    lead-in (``before``: the passage before a hit's, see best_sentence). Empty when the search
    found nothing relevant (``hits.no_relevant_passage``): the page then
    says so instead of quoting the nearest passages as an answer."""
    if hits.no_relevant_passage:
        return []
    out: list[AnswerSentence] = []
    seen: set[str] = set()
    sections: set[tuple[str, str]] = set()
    for hit in list(hits)[:ANSWER_DEPTH]:
        text = best_sentence(hit, before)
        norm = " ".join(text.split()).lower()
        key = heading_key(hit.section)  # "38§" in every language version
        section = (hit.group or hit.doc_id, key) if key else (hit.doc_id, hit.chunk_id)
        if not text or norm in seen or section in sections:
            continue
        seen.add(norm)
        sections.add(section)
        out.append(AnswerSentence(_shorten(text), hit))
        if len(out) == limit:
            break
    return out
