"""Small HTML building blocks of the report: escaping, tables, number formats and the one inline style sheet.

The page loads nothing: no external CSS, fonts, scripts or images (figures are ``data:`` URIs or inline SVG).
"""

from __future__ import annotations

import html
import math

__all__ = ["Raw", "esc", "table", "num", "CSS", "BIDI_CONTROLS"]


class Raw(str):
    """Text that is already HTML (not escaped again by :func:`table`)."""


#: Bidirectional-text controls (Unicode's "Trojan Source" set): an id or a wording holding one could reorder what a
#: reader sees, so the report shows each as a visible mark ``[U+202E]`` instead.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_MARK = {ord(c): f"[U+{ord(c):04X}]" for c in BIDI_CONTROLS}


def esc(x) -> str:
    """HTML-escaped text (quotes too: safe in attributes), bidirectional controls shown as ``[U+202E]``."""
    return x if isinstance(x, Raw) else html.escape(str(x).translate(_MARK), quote=True)


def num(x, digits: int = 2, *, signed: bool = False) -> str:
    """A float for a table: fixed decimals, a real minus sign, an en dash for NaN / None."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "\u2013"
    x = float(x)
    if math.isnan(x):
        return "\u2013"
    s = f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"
    if float(s) == 0:  # no "-0.00"
        s = s.replace("-", "+" if signed else "")
    return s.replace("-", "\u2212")


def _cell(c, tag: str) -> str:
    if isinstance(c, tuple):  # (content, class)
        content, cls = c
        return f'<{tag} class="{esc(cls)}">{esc(content)}</{tag}>' if cls else f"<{tag}>{esc(content)}</{tag}>"
    return f"<{tag}>{esc(c)}</{tag}>"


def table(head, rows, *, cls: str = "", caption: str | None = None) -> str:
    """An HTML table; a cell is text (escaped), :class:`Raw` HTML, or ``(content, css_class)``."""
    out = [f'<table class="{esc(cls)}">' if cls else "<table>"]
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append("<thead><tr>" + "".join(_cell(h, "th") for h in head) + "</tr></thead>")
    out.append("<tbody>")
    out += ["<tr>" + "".join(_cell(c, "td") for c in r) + "</tr>" for r in rows]
    out.append("</tbody></table>")
    return "\n".join(out)


#: Okabe-Ito colours (safe for colour-blind readers), one per factor, repeated beyond eight.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")

CSS = """
:root { --ink:#1d2330; --muted:#5b6475; --line:#d8dce3; --soft:#f4f6f9; --accent:#0b5cad;
        --ok:#1b7f3b; --okbg:#e6f4ea; --bad:#b3261e; --badbg:#fce8e6; --warn:#8a5a00; --warnbg:#fff4d6;
        --dist:#ffe2b8; --cons:#e4e7ec; }
* { box-sizing: border-box; }
html { font-size: 15px; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.5;
       font-family: "Segoe UI", Roboto, "Helvetica Neue", Arial, "DejaVu Sans", sans-serif; }
.page { max-width: 1120px; margin: 0 auto; padding: 28px 28px 60px; }
header.top { border-bottom: 3px solid var(--accent); padding-bottom: 12px; margin-bottom: 18px; }
header.top .kicker { color: var(--muted); font-size: .85rem; letter-spacing: .06em; text-transform: uppercase; }
h1 { font-size: 1.9rem; margin: .15em 0 .2em; line-height: 1.2; }
h2 { font-size: 1.35rem; margin: 2.2em 0 .5em; padding-top: .4em; border-top: 1px solid var(--line); }
h3 { font-size: 1.08rem; margin: 1.4em 0 .4em; }
p, li { max-width: 80ch; }
.lede { font-size: 1.05rem; color: var(--muted); margin: 0; }
a { color: var(--accent); }
code, pre, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .86em; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
      white-space: pre-wrap; overflow-wrap: anywhere; }
nav.toc { background: var(--soft); border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px;
          margin: 14px 0 8px; }
nav.toc ol { margin: 4px 0; padding-left: 1.4em; columns: 2; column-gap: 36px; }
nav.toc li { margin: 1px 0; }
.glance { display: grid; grid-template-columns: repeat(auto-fit, minmax(230px, 1fr)); gap: 12px; margin: 16px 0; }
.glance .card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: #fff; }
.glance .card .label { color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .05em; }
.glance .card .value { font-size: 1.15rem; font-weight: 600; margin-top: 2px; }
.glance .card .sub { color: var(--muted); font-size: .85rem; }
.verdict { border-radius: 8px; padding: 10px 14px; margin: 12px 0; border: 1px solid; }
.verdict.ok { background: var(--okbg); border-color: #a8d5b5; color: #0f4d24; }
.verdict.bad { background: var(--badbg); border-color: #f0b3ae; color: #7a1a14; }
.verdict.warn { background: var(--warnbg); border-color: #f0d58a; color: #5c3d00; }
.verdict.none { background: var(--soft); border-color: var(--line); color: var(--muted); }
.verdict strong { color: inherit; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: .9rem; }
caption { caption-side: top; text-align: left; color: var(--muted); font-size: .85rem; padding-bottom: 4px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 9px; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #b9c0cc; background: var(--soft); font-weight: 600; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafbfc; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.flag { background: #dbe9f8 !important; font-weight: 700; }
td.flag::after { content: " \\2713"; color: var(--accent); font-weight: 700; }
td.neg { color: var(--bad); }
td.hl { background: #dbe9f8 !important; font-weight: 600; }
td.text { min-width: 22ch; max-width: 60ch; }
td.okc { color: var(--ok); font-weight: 600; }
td.badc { color: var(--bad); font-weight: 600; }
td.dimc { color: var(--muted); }
.wide { overflow-x: auto; }
.note { color: var(--muted); font-size: .88rem; }
.warnlist li { color: var(--warn); }
figure { margin: 12px 0 18px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
figcaption { color: var(--muted); font-size: .88rem; margin-top: 4px; max-width: 90ch; }
details { margin: 8px 0 14px; }
details > summary { cursor: pointer; color: var(--accent); font-weight: 600; }
.qgrid { margin: 10px 0 26px; }
.qgrid h3 { margin-bottom: 2px; }
.qgrid .sub { color: var(--muted); font-size: .88rem; margin-bottom: 6px; }
.qgrid .cols { display: flex; gap: 4px; align-items: flex-start; justify-content: center; }
.qgrid .col { flex: 1 1 0; min-width: 0; display: flex; flex-direction: column; gap: 4px; }
.qgrid .head { text-align: center; font-weight: 700; border-bottom: 2px solid #9aa3b2; padding: 2px 0;
               font-variant-numeric: tabular-nums; }
.qgrid .cell { border: 1px solid #b9c0cc; border-radius: 4px; padding: 3px 4px 4px; background: #fff;
               height: 86px; overflow: hidden; font-size: .72rem; line-height: 1.25; }
.qgrid .cell .id { font-weight: 700; font-size: .85rem; display: block; color: var(--ink); }
.qgrid .cell .tx { display: -webkit-box; -webkit-line-clamp: 4; -webkit-box-orient: vertical; overflow: hidden;
                   color: #374151; }
.qgrid.noText .cell { height: auto; text-align: center; }
.qgrid .cell.dist { background: var(--dist); border-color: #e0a050; }
.qgrid .cell.cons { background: var(--cons); border-style: dashed; }
.qgrid .cell .mark { float: right; font-size: .75rem; color: #8a4b00; font-weight: 700; }
.legend { display: flex; flex-wrap: wrap; gap: 16px; font-size: .85rem; color: var(--muted); margin: 4px 0 8px; }
.legend span.sw { display: inline-block; width: 14px; height: 14px; border: 1px solid #b9c0cc; border-radius: 3px;
                  vertical-align: -2px; margin-right: 5px; }
.pill { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: .82rem; font-weight: 600; }
.pill.ok { background: var(--okbg); color: var(--ok); }
.pill.bad { background: var(--badbg); color: var(--bad); }
.pill.warn { background: var(--warnbg); color: var(--warn); }
.pill.none { background: var(--soft); color: var(--muted); }
footer { margin-top: 40px; color: var(--muted); font-size: .82rem; border-top: 1px solid var(--line); padding-top: 8px; }
@media print { .page { max-width: none; padding: 0; } h2 { break-before: auto; } .qgrid { break-inside: avoid; } }
"""
