"""What a report page's Content-Security-Policy allows, read from the page itself with :mod:`html.parser`.

:func:`policy_problems` lists every way a page falls short of a policy without ``'unsafe-inline'``: a policy
keyword that lets inline code or ``eval`` run, an inline ``<script>`` or ``<style>`` block whose SHA-256 is not in
the policy (or a hash in the policy for no block), a script or style sheet loaded from elsewhere, and any
``style=`` or ``on...=`` attribute (a browser refuses both without ``'unsafe-inline'`` or ``'unsafe-hashes'``).
It computes the hashes from the parsed blocks, not from sanctions' own code, so it checks that code.
"""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser

UNSAFE = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'", "*", "data:", "blob:")
"""Sources no script-src or style-src of a report may list."""

DATA_TYPES = ("application/json",)
"""Script types a browser never runs (the batch page's data), so the policy need not list them."""


def sha256_source(text: str) -> str:
    """The CSP hash source for an inline block's exact text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def directives(policy: str) -> dict[str, list[str]]:
    """``"a x y; b z"`` as ``{"a": ["x", "y"], "b": ["z"]}``."""
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.policies: list[str] = []
        self.blocks: list[tuple[str, dict[str, str | None], str]] = []  # tag, attributes, exact text
        self.attributes: list[str] = []  # style= and on...= attributes, as "tag attr"
        self.loads: list[str] = []  # scripts and style sheets from elsewhere
        self.before_policy: list[str] = []  # blocks the browser would meet before the policy
        self._open: tuple[str, dict[str, str | None]] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name, _ in attrs:
            if name == "style" or name.startswith("on"):
                self.attributes.append(f"<{tag}> {name}=")
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.policies.append(a.get("content") or "")
        if tag == "link":
            self.loads.append(f"<link href={a.get('href')!r}>")
        if tag in ("script", "style"):
            if tag == "script" and a.get("src") is not None:
                self.loads.append(f"<script src={a.get('src')!r}>")
            if not self.policies:
                self.before_policy.append(tag)
            self._open, self._text = (tag, a), []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open is not None and tag == self._open[0]:
            self.blocks.append((tag, self._open[1], "".join(self._text)))
            self._open = None


def policy_problems(page: str) -> list[str]:
    """Every way ``page`` needs more than its policy's hashes to show and run as written (empty when none)."""
    p = _Page()
    p.feed(page)
    p.close()
    problems = [f"attribute the policy refuses: {a}" for a in p.attributes]
    problems += [f"loads from elsewhere: {x}" for x in p.loads]
    problems += [f"<{t}> before the policy" for t in p.before_policy]
    if len(p.policies) != 1:
        return [*problems, f"{len(p.policies)} Content-Security-Policy meta elements, not one"]
    d = directives(p.policies[0])
    if d.get("default-src") != ["'none'"]:
        problems.append(f"default-src is {d.get('default-src')}, not 'none'")
    for name in ("script-src", "style-src"):
        if name not in d:
            problems.append(f"no {name}: inline blocks would fall back to default-src 'none'")
    for name, sources in d.items():
        if name.startswith(("default-src", "script-src", "style-src")):
            problems += [f"{name} allows {s}" for s in sources if s.lower() in UNSAFE]
    wanted: dict[str, set[str]] = {"script-src": set(), "style-src": set()}
    for tag, attrs, text in p.blocks:
        kind = (attrs.get("type") or "").strip().lower()
        if tag == "script" and kind in DATA_TYPES:
            continue
        if tag == "script" and kind not in ("", "text/javascript", "module"):
            problems.append(f"<script type={kind!r}>: neither JavaScript nor a known data type")
            continue
        directive = "script-src" if tag == "script" else "style-src"
        source = sha256_source(text)
        wanted[directive].add(source)
        if source not in d.get(directive, []):
            problems.append(f"<{tag}> block starting {text[:40]!r}: its hash {source} is not in {directive}")
    for directive, sources in wanted.items():
        spare = [s for s in d.get(directive, []) if s.startswith("'sha") and s not in sources]
        problems += [f"{directive} allows {s}, which is no block on the page" for s in spare]
    return problems
