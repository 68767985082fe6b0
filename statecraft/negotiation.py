"""HTTP content negotiation (RFC 9110 §12.5.1): q-values, wildcards, specificity, combined Accept headers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float
    params: tuple[tuple[str, str], ...]

    def matches(self, media_type: str) -> int:
        """Specificity of the match (3 exact with parameters, 2 exact, 1 type/*, 0 */*), or -1."""
        main, _, sub = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 0
        if self.type != main:
            return -1
        if self.subtype == "*":
            return 1
        if self.subtype != sub:
            return -1
        return 3 if self.params else 2


def parse_accept(header: str | None) -> list[MediaRange]:
    if header is None or not header.strip():
        return [MediaRange("*", "*", 1.0, ())]
    ranges = []
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        media, params, q = pieces[0].lower(), [], 1.0
        if "/" not in media:
            media = "*/*" if media == "*" else ""
        if not media:
            continue
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if name == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
            elif name:
                params.append((name, value))
        main, _, sub = media.partition("/")
        ranges.append(MediaRange(main, sub, q, tuple(params)))
    return ranges


def negotiate(accept: str | None, offered: list[str]) -> str | None:
    """The offered media type the client prefers (the first offered wins a tie), or None: 406."""
    ranges = parse_accept(accept)
    best, best_key = None, None
    for position, media_type in enumerate(offered):
        matching = [(r.matches(media_type), r.q) for r in ranges if r.matches(media_type) >= 0]
        if not matching:
            continue
        specificity, q = max(matching)  # the most specific range decides, per RFC 9110
        if q <= 0:
            continue
        key = (q, -position)
        if best_key is None or key > best_key:
            best, best_key = media_type, key
    return best
