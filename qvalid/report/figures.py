"""The report's figures: matplotlib (Agg, no pyplot state) rendered to PNG ``data:`` URIs.

PNG bytes are deterministic for the same figure (no time stamp, no software tag), so the same inputs give the same
report, byte for byte.
"""

from __future__ import annotations

import base64
import contextlib
import io
import warnings

import numpy as np

from ._html import PALETTE, esc

__all__ = ["data_uri", "img", "zscore_figure", "quiet_rendering", "LABEL_WIDTH"]

#: Longest id shown on a figure's axis (longer ones are cut with an ellipsis: a 3000-character id would leave no
#: room for the plot).
LABEL_WIDTH = 24


@contextlib.contextmanager
def quiet_rendering():
    """Draw figures without matplotlib's UserWarnings about texts: a character the font lacks (Chinese or Japanese
    ids: "Glyph ... missing from current font") is drawn as a box, a layout that cannot be tightened stays loose.
    Both are about looks, not numbers, and qvalid promises its users no Python warnings."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        warnings.filterwarnings("ignore", message="Tight layout not applied", category=UserWarning)
        yield

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def data_uri(fig, *, dpi: int = 110) -> str:
    """``data:image/png;base64,...`` of a matplotlib figure (closed afterwards if pyplot manages it)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight", pad_inches=0.08)
    _close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _close(fig) -> None:
    import sys

    plt = sys.modules.get("matplotlib.pyplot")  # only figures made through pyplot are registered there
    if plt is not None:
        plt.close(fig)


def img(fig, alt: str, caption: str = "") -> str:
    """A ``<figure>`` with the PNG embedded and an optional caption (HTML)."""
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f'<figure><img src="{data_uri(fig)}" alt="{esc(alt)}">{cap}</figure>'


def short_text(text: str | None, width: int) -> str:
    """The start of a statement's wording, cut at a word boundary with an ellipsis."""
    if not text:
        return ""
    t = " ".join(text.split())
    if len(t) <= width:
        return t
    cut = t[: width - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.") + "\u2026"


def zscore_figure(result, distinguishing_mask):
    """Z-scores of every statement on every factor, as R qmethod's ``plot.QmethodRes`` draws them.

    One row per statement, ordered by the standard deviation of its z-scores across factors (most contested at
    the top, as ``plot(results, sort.items = TRUE)``), one marker per factor; filled markers are statements that
    distinguish that factor from all others (p < .05), hollow ones do not.

    Parameters
    ----------
    result : QResult
    distinguishing_mask : ndarray of bool, shape (n_statements, nfactors)
    """
    from matplotlib.figure import Figure

    z = np.asarray(result.zscores, dtype=float)
    n, k = z.shape
    ok = ~np.isnan(z).all(axis=0)
    with np.errstate(invalid="ignore"):
        spread = np.nanstd(z[:, ok], axis=1) if ok.any() else np.zeros(n)
    order = np.argsort(-spread, kind="stable")  # most contested first (drawn at the top)
    texts = result.study.statement_texts
    ids = [short_text(s, LABEL_WIDTH) for s in result.statement_ids]
    labels = [f"{ids[i]}  {short_text(texts[i], 48)}" if texts else ids[i] for i in order]
    fig = Figure(figsize=(10.2, 0.9 + 0.24 * n))
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    ax.set_yticks(y, labels, fontsize=8)
    for row in y[::2]:
        ax.axhspan(row - 0.5, row + 0.5, color="#f3f5f8", zorder=0, lw=0)
    ax.axvline(0, color="#9aa3b2", lw=0.8, zorder=1)
    for j in range(k):
        if not ok[j]:
            continue
        col = PALETTE[j % len(PALETTE)]
        m = _MARKERS[j % len(_MARKERS)]
        filled = distinguishing_mask[order, j]
        zz = z[order, j]
        ax.scatter(zz[~filled], y[~filled], marker=m, facecolors="white", edgecolors=col, s=34, lw=1.3, zorder=3)
        ax.scatter(zz[filled], y[filled], marker=m, color=col, s=38, zorder=4, label=result.factors[j])
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel("z-score")
    ax.grid(axis="x", color="#e3e6eb", lw=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], ls="", marker=_MARKERS[j % len(_MARKERS)], color=PALETTE[j % len(PALETTE)],
                      markersize=7, label=result.factors[j]) for j in range(k) if ok[j]]
    handles.append(Line2D([], [], ls="", marker="o", markerfacecolor="white", markeredgecolor="#555",
                          markersize=7, label="hollow: not distinguishing"))
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(handles), frameon=False,
              fontsize=9)
    fig.tight_layout()
    return fig
