"""The stepping machinery shared by the rewrite stepper and the scan stepper.

A :class:`FrameStepper` is a Play button and a slider over pre-rendered
frames.  Everything a step needs is in the browser before the first click:

- ``base`` (optional) is HTML shown above every frame, sent once: the rewrite
  stepper puts there ONE drawing of every node any step ever had, so node
  positions never move;
- each frame is HTML in an ipywidgets ``Stack``, which shows only its
  selected child.  A frame may carry a ``<style>`` that, while the frame is
  shown, hides and highlights parts of ``base``: the frame itself is a few
  hundred bytes;
- Play, the slider and the Stack's ``selected_index`` are tied together with
  ``jslink``, which runs in the browser: stepping needs no kernel (it works
  even with the kernel busy or gone, in JupyterLab 4 and Notebook 7, with core
  ipywidgets only).

Identical frames are sent once (one HTML widget shown at several positions),
so the widget state is the size of the distinct frames.
"""

from __future__ import annotations

import uuid

import ipywidgets as widgets

__all__ = ["FrameStepper", "scoped_id", "compiled_function"]


def compiled_function(value, who):
    """``value`` if it is a compiled function, else a TypeError saying what ``who`` expected."""
    from theanolab.compile.function import Function

    if not isinstance(value, Function):
        raise TypeError(f"{who}: function must be a compiled function (theanolab.function(inputs, outputs)), "
                        f"got {value!r} of type {type(value).__name__}")
    return value


def scoped_id(prefix="tl"):
    """A page-unique element id, so several steppers' styles never touch each other."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class FrameStepper:
    """Play + slider + one visible frame (see the module docstring).

    ``frames`` are HTML strings; ``base`` HTML shown above them; ``interval``
    the Play speed in milliseconds.  ``widget`` is the box to display;
    ``slider``, ``play`` and ``stack`` are its parts (tests drive them).
    """

    def __init__(self, frames, base="", interval=800, description="step", header=None):
        if not frames:
            raise ValueError("a stepper needs at least one frame")
        self.frames = list(frames)
        self.play = widgets.Play(value=0, min=0, max=len(self.frames) - 1, step=1, interval=interval,
                                 description="Play", tooltip="Play through the steps")
        self.slider = widgets.IntSlider(value=0, min=0, max=len(self.frames) - 1, description=description,
                                        continuous_update=True, layout=widgets.Layout(width="420px"))
        self.stack = widgets.Stack(children=self._frame_widgets(self.frames), selected_index=0)
        self._links = [widgets.jslink((self.play, "value"), (self.slider, "value")),
                       widgets.jslink((self.slider, "value"), (self.stack, "selected_index"))]
        self.base = widgets.HTML(value=base)
        controls = widgets.HBox([self.play, self.slider] + ([header] if header is not None else []))
        self.widget = widgets.VBox([controls, self.stack, self.base])
        self.widget.add_class("tl-stepper")

    @staticmethod
    def _frame_widgets(frames):
        """One HTML widget per distinct frame, repeated where a frame repeats."""
        made = {}
        return [made.setdefault(frame, widgets.HTML(value=frame)) for frame in frames]

    def replace_frames(self, frames, base=None):
        """Show other frames (e.g. with noisy passes folded); back at the first one."""
        if not frames:
            raise ValueError("a stepper needs at least one frame")
        self.frames = list(frames)
        self.play.value = self.slider.value = 0
        self.stack.selected_index = 0
        self.stack.children = self._frame_widgets(self.frames)
        self.play.max = self.slider.max = len(self.frames) - 1
        if base is not None:
            self.base.value = base

    @property
    def shown(self):
        """The HTML of the frame the slider is on (in the kernel's copy of the state)."""
        return self.stack.children[self.stack.selected_index].value

    def go(self, index):
        """Move to frame ``index`` from Python (the browser does this itself when a student steps)."""
        if not 0 <= index < len(self.frames):
            raise IndexError(f"frame {index} out of range 0..{len(self.frames) - 1}")
        self.slider.value = index
        self.stack.selected_index = index  # jslink works in the browser; keep the kernel's copy in step

    def state_size(self):
        """Bytes of HTML this stepper sends (its distinct frames and the base), to keep it small."""
        return len(self.base.value) + sum(len(w.value) for w in {id(w): w for w in self.stack.children}.values())

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
