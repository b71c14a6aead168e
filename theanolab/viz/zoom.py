"""Zoom, pan and drawing toggles for an SVG, in plain HTML + CSS: no kernel, no JavaScript, no extension.

:func:`zoomable` wraps one or more pre-rendered drawings of a graph in a box
that scrolls (pan) with a row of buttons above it:

- zoom levels ``fit`` (the whole drawing in the box, never above its natural
  size), 50%, 100% and 200%;
- toggles (e.g. "expand composites / loops", "collapse chains"), each
  switching between drawings laid out in advance, so nothing is laid out
  while a student clicks.

The buttons are ``<label>`` elements of hidden radio buttons and checkboxes;
CSS sibling selectors (``input:checked ~ .pane ...``) pick the drawing shown
and its size.  The browser does it all, so it works inside ipywidgets' HTML
(which JupyterLab 4 and Notebook 7 insert as is), with the kernel busy or
gone, and it needs no labextension.  Every id is scoped to one box, so many
boxes on a page never touch each other.
"""

from __future__ import annotations

import html
import itertools
import re

from theanolab.viz.stepper import scoped_id

__all__ = ["ZOOM_LEVELS", "Toggle", "zoomable", "svg_size"]

#: (name, label, scale): scale None is "fit"
ZOOM_LEVELS = (("fit", "fit", None), ("50", "50%", 0.5), ("100", "100%", 1.0), ("200", "200%", 2.0))

_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="([\d.]+)(pt|px)?"[^>]*?\bheight="([\d.]+)(pt|px)?"', re.S)
_PX_PER = {"pt": 4 / 3, "px": 1.0, None: 1.0}


class Toggle:
    """A drawing switch: ``label`` on its button; ``checked`` whether it starts on."""

    def __init__(self, label, checked=False, tooltip=""):
        self.label, self.checked, self.tooltip = label, checked, tooltip


def svg_size(svg):
    """``(width, height)`` in CSS pixels of an SVG from Graphviz (its ``width``/``height`` attributes)."""
    found = _SIZE.search(svg)
    if found is None:
        raise ValueError("zoomable: the drawing is not an <svg> with a width and a height")
    return float(found.group(1)) * _PX_PER[found.group(2)], float(found.group(3)) * _PX_PER[found.group(4)]


_BUTTON_CSS = ("border:1px solid #bbb; border-radius:3px; padding:0 6px; margin:0 3px 3px 0; cursor:pointer; "
               "font:12px sans-serif; user-select:none; display:inline-block; background:#f7f7f7; color:#333")
_ON_CSS = "background:#1976d2; color:white; border-color:#1976d2"


def zoomable(drawings, toggles=(), max_height=600, max_width=None, zoom="fit", pane_id=None, pane_class=""):
    """HTML showing ``drawings`` with zoom buttons, a scrolling pane, and a button per toggle.

    ``drawings`` maps a tuple of booleans (the state of each of ``toggles``,
    in order) to an SVG; every combination must be there.  ``zoom`` is the
    name of the level shown first (see :data:`ZOOM_LEVELS`).  ``pane_id`` and
    ``pane_class`` go on the scrolling pane (styles that step through a
    drawing select by them).
    """
    toggles = list(toggles)
    drawings = dict(drawings)
    states = list(itertools.product((False, True), repeat=len(toggles)))
    missing = [state for state in states if state not in drawings]
    if missing:
        raise ValueError(f"zoomable: no drawing for the toggle states {missing}")
    if zoom not in {name for name, _, _ in ZOOM_LEVELS}:
        raise ValueError(f"zoomable: unknown zoom level {zoom!r}; the levels are {[n for n, _, _ in ZOOM_LEVELS]}")
    box = scoped_id("tlzoom")
    scope = f"#{box}"
    inputs, buttons = [], []
    rules = [f"{scope} > input {{ display: none; }}",
             f"{scope} > .tl-zoom-controls label {{ {_BUTTON_CSS} }}",
             f"{scope} > .tl-zoom-pane > .tl-drawing {{ display: none; }}",
             f"{scope} > .tl-zoom-pane > .tl-drawing > svg {{ max-width: none; max-height: none; }}"]

    def lit(input_id):
        rules.append(f"{scope} > #{input_id}:checked ~ .tl-zoom-controls label[for='{input_id}'] {{ {_ON_CSS} }}")

    for i, toggle in enumerate(toggles):
        input_id = f"{box}-t{i}"
        checked = " checked" if toggle.checked else ""
        inputs.append(f"<input type='checkbox' id='{input_id}' class='tl-toggle'{checked}>")
        buttons.append(f"<label for='{input_id}' class='tl-toggle-button' title='{html.escape(toggle.tooltip)}'>"
                       f"{html.escape(toggle.label)}</label>")
        lit(input_id)
    zoom_buttons = []
    for name, label, _ in ZOOM_LEVELS:
        input_id = f"{box}-z{name}"
        inputs.append(f"<input type='radio' name='{box}-zoom' id='{input_id}' class='tl-zoom-{name}'"
                      f"{' checked' if name == zoom else ''}>")
        zoom_buttons.append(f"<label for='{input_id}' class='tl-zoom-button' data-zoom='{name}'>{label}</label>")
        lit(input_id)
    panes = []
    for index, state in enumerate(states):
        svg = drawings[state]
        width, height = svg_size(svg)
        # the toggles' states, as the pane's preceding siblings: "#b-t0:checked ~ #b-t1:not(:checked) ~ "
        which = "".join(f"#{box}-t{i}{':checked' if on else ':not(:checked)'} ~ " for i, on in enumerate(state))
        rules.append(f"{scope} > {which}.tl-zoom-pane > .d{index} {{ display: block; }}")
        for name, _, scale in ZOOM_LEVELS:
            if scale is None:
                fit = f"min(100%, {width:.1f}px, calc({max_height - 6}px * {width / height:.5f}))"
                size = f"width: {fit}; height: auto; aspect-ratio: {width:.1f} / {height:.1f};"
            else:
                size = f"width: {width * scale:.1f}px; height: {height * scale:.1f}px;"
            rules.append(f"{scope} > #{box}-z{name}:checked ~ .tl-zoom-pane > .d{index} > svg {{ {size} }}")
        panes.append(f"<div class='tl-drawing d{index}' data-state='{''.join('1' if s else '0' for s in state)}'>"
                     f"{svg}</div>")
    limits = f"max-height:{max_height}px;" + (f" max-width:{max_width}px;" if max_width else "")
    pane_classes = f"tl-zoom-pane {pane_class}".strip()
    pane_attributes = (f" id='{pane_id}'" if pane_id else "") + f" class='{pane_classes}'"
    controls = ("<span style='font:12px sans-serif; color:#666; margin-right:4px'>zoom</span>" + "".join(zoom_buttons)
                + ("<span style='margin-left:10px'></span>" + "".join(buttons) if buttons else ""))
    return (f"<div id='{box}' class='tl-zoom'><style>{chr(10).join(rules)}</style>{''.join(inputs)}"
            f"<div class='tl-zoom-controls'>{controls}</div>"
            f"<div{pane_attributes} style='overflow:auto; {limits} border:1px solid #ddd'>{''.join(panes)}</div>"
            "</div>")
