"""Language versions found by the build. Documents in different languages
that are versions of each other (the Act in Finnish and in Swedish) share
their numbered headings, in the same order: "38 §", "5 luku" = "5 kap.",
"3.2". Such documents are linked as a ``group`` in sources.toml links them,
so the pivot and the "other languages" panel work without one. A group
written in sources.toml always wins; unrelated documents are never linked."""

from __future__ import annotations

from dataclasses import dataclass, replace

from kb.records import Chunk
from kb.text.headings import title_key

MIN_SHARED = 5  # numbered headings two versions must share at least
MIN_JACCARD = 0.6  # shared / all numbered headings of the two
MIN_IN_ORDER = 0.9  # shared headings in the same order in both
MAX_SIZE_RATIO = 2.0  # passages of the longer / the shorter


@dataclass(frozen=True)
class VersionLink:
    docs: tuple[str, ...]
    group: str
    reason: str

    def to_json(self) -> dict:
        return {"docs": list(self.docs), "group": self.group, "reason": self.reason}


def _keys(chunks: list[Chunk]) -> list[str]:
    seen: dict[str, None] = {}
    for c in chunks:
        for title in c.section:
            key = title_key(title)
            if key:
                seen.setdefault(key, None)
    return list(seen)


def _in_order(a: list[str], b: list[str]) -> float:
    pos = {k: i for i, k in enumerate(b)}
    seq = [pos[k] for k in a if k in pos]
    if len(seq) < 2:
        return 0.0
    return sum(1 for x, y in zip(seq, seq[1:], strict=False) if y > x) / (len(seq) - 1)


def _match(a: list[str], b: list[str], na: int, nb: int) -> str | None:
    """Why two documents are versions of each other, or None."""
    shared = set(a) & set(b)
    union = set(a) | set(b)
    if len(shared) < MIN_SHARED or len(shared) / len(union) < MIN_JACCARD:
        return None
    if max(na, nb) > MAX_SIZE_RATIO * max(min(na, nb), 1):
        return None
    order = _in_order(a, b)
    if order < MIN_IN_ORDER:
        return None
    return (
        f"{len(shared)} of {len(union)} numbered headings shared, {order:.0%} in the same "
        f"order; {na} and {nb} passages"
    )


def link_versions(chunks: list[Chunk]) -> tuple[list[Chunk], list[VersionLink]]:
    """``chunks`` with a ``group`` for documents found to be language
    versions of each other (only those without a declared group), and the
    links with their reasons."""
    by_doc: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    free = [d for d, cs in by_doc.items() if not cs[0].group and cs[0].lang]
    keys = {d: _keys(by_doc[d]) for d in free}
    parent = {d: d for d in free}
    reasons: dict[tuple[str, str], str] = {}

    def root(d: str) -> str:
        while parent[d] != d:
            d = parent[d]
        return d

    for i, a in enumerate(free):
        for b in free[i + 1 :]:
            if by_doc[a][0].lang == by_doc[b][0].lang:
                continue
            why = _match(keys[a], keys[b], len(by_doc[a]), len(by_doc[b]))
            if why:
                reasons[(a, b)] = why
                parent[root(b)] = root(a)
    components: dict[str, list[str]] = {}
    for d in free:
        components.setdefault(root(d), []).append(d)
    links, group_of = [], {}
    for members in components.values():
        if len(members) < 2:
            continue
        group = "versions:" + members[0]
        why = "; ".join(f"{a} ~ {b}: {r}" for (a, b), r in reasons.items() if a in members)
        links.append(VersionLink(tuple(members), group, why))
        group_of.update(dict.fromkeys(members, group))
    if not group_of:
        return chunks, []
    return [replace(c, group=group_of.get(c.doc_id, c.group)) for c in chunks], links
