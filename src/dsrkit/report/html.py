"""A self-contained HTML report: sections of text, tables and figures embedded as base64 PNG."""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

from .._files import close_figure

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { border-bottom: 2px solid #444; } h2 { margin-top: 1.6em; border-bottom: 1px solid #bbb; }
table { border-collapse: collapse; margin: 0.6em 0; } td, th { border: 1px solid #ccc; padding: 3px 9px; text-align: right; }
th { background: #f0f0f0; } td:first-child, th:first-child { text-align: left; }
figure { margin: 0.8em 0; } figcaption { color: #555; font-size: 0.9em; } img { max-width: 100%; }
.note { color: #555; font-size: 0.92em; } code { background: #f4f4f4; padding: 0 3px; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; font-size: 0.88em; }
"""


def figure_png(fig, dpi: int = 110) -> bytes:
    """The PNG of a matplotlib figure (tight bounding box); the figure is closed (see `dsrkit._files.close_figure`).
    Drawing is the expensive part of a report, so a figure that goes both into the HTML and into a file is drawn
    once and its bytes used twice."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        close_figure(fig)
    return buf.getvalue()


def _png_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _cell(v) -> str:
    if v is None:
        return "—"  # not applicable / not computed
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape(str(v))


@dataclass
class HtmlReport:
    """Collects sections and writes one HTML file with everything inline (no external files or scripts)."""

    title: str
    parts: list[str] = field(default_factory=list)

    def heading(self, text: str, anchor: str | None = None) -> None:
        """A section heading; `anchor` becomes its id (report.html#anchor links to it)."""
        ident = f' id="{html.escape(anchor)}"' if anchor else ""
        self.parts.append(f"<h2{ident}>{html.escape(text)}</h2>")

    def subheading(self, text: str, anchor: str | None = None) -> None:
        """A heading within a section; `anchor` becomes its id."""
        ident = f' id="{html.escape(anchor)}"' if anchor else ""
        self.parts.append(f"<h3{ident}>{html.escape(text)}</h3>")

    def preformatted(self, text: str) -> None:
        """Text shown as is, in a monospaced block (a model summary, an equation)."""
        self.parts.append(f"<pre>{html.escape(text)}</pre>")

    def items(self, entries: list[str], ordered: bool = False) -> None:
        """A list of entries (citations, notes)."""
        tag = "ol" if ordered else "ul"
        self.parts.append(f"<{tag}>" + "".join(f"<li>{html.escape(e)}</li>" for e in entries) + f"</{tag}>")

    def paragraph(self, text: str, css: str = "") -> None:
        cls = f' class="{css}"' if css else ""
        self.parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def table(self, rows: list[dict], columns: list[str] | None = None) -> None:
        if not rows:
            return
        columns = columns or list(rows[0])
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c, ''))}</td>" for c in columns) + "</tr>" for r in rows)
        self.parts.append(f"<table><tr>{head}</tr>{body}</table>")

    def figure(self, fig, caption: str = "") -> None:
        """A matplotlib figure, drawn now and closed."""
        self.image(figure_png(fig), caption)

    def image(self, png: bytes, caption: str = "") -> None:
        """A PNG image given as bytes (`figure_png`)."""
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self.parts.append(f'<figure><img src="{_png_uri(png)}" alt="{html.escape(caption)}">{cap}</figure>')

    def render(self) -> str:
        return (
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(self.title)}</h1>{''.join(self.parts)}</body></html>"
        )

    def write(self, path, *, overwrite: bool = False) -> Path:
        from .._files import write_text

        return write_text(path, self.render(), overwrite=overwrite)
