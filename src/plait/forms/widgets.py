"""Drawing one field as accessible HTML: ``<label>``, the control, help text and error messages.

A :class:`BoundField` is one field of one form as the page needs it: its spec, the value to
show, its errors and its choices. ``str(field)`` (or ``{{ field }}`` in a template) gives the
whole row; ``field.label``, ``field.control()``, ``field.help_html`` and ``field.errors_html``
give its parts, for pages that lay fields out themselves. Accessibility comes with it: every
control has a ``<label for>``, help and error texts are linked through ``aria-describedby``, an
invalid control says ``aria-invalid="true"``, and the constraints the server checks (``required``,
``min``, ``max``, ``minlength``, ``maxlength``, ``pattern``) are given to the browser as well.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from plait.forms.fields import FieldSpec
from plait.forms.html import Markup, escape, join, tag
from plait.forms.html import attributes as _attrs

_INPUT_TYPES = {"text", "email", "password", "url", "tel", "search", "color", "hidden", "number", "date"}
_INPUT_TYPES |= {"datetime-local", "time", "file"}
_CHECKED_WORDS = frozenset({"on", "true", "1", "yes", "y", "t"})


class BoundField:
    """One field of a :class:`~plait.forms.BoundForm`, ready to draw (see the module docstring)."""

    __slots__ = ("_prefix", "choices", "errors", "spec", "value")

    def __init__(
        self,
        spec: FieldSpec,
        value: Any,
        errors: list[str],
        choices: list[tuple[str, str]],
        prefix: str = "",
    ) -> None:
        self.spec = spec
        self.value = value  # a str (or a list of str for a multiple field) as the page shows it
        self.errors = errors
        self.choices = choices
        self._prefix = prefix

    @property
    def name(self) -> str:
        """The ``name`` the control submits under."""
        return self._prefix + self.spec.key

    @property
    def id(self) -> str:
        return "id_" + self.name

    @property
    def label_text(self) -> str:
        return self.spec.label

    @property
    def label(self) -> str:
        """The ``<label for=...>`` element (a ``<legend>`` is drawn instead for radio and checkbox groups)."""
        return tag("label", {"for": self.id}, self.label_text)

    @property
    def help_html(self) -> str:
        help_text = self.spec.options.help
        return tag("p", {"id": f"{self.id}-help", "class": "help"}, help_text) if help_text else Markup("")

    @property
    def errors_html(self) -> str:
        if not self.errors:
            return Markup("")
        lines = [tag("p", {}, message) for message in self.errors]
        return join([Markup(f'<div id="{escape(self.id)}-error" class="errors">'), *lines, Markup("</div>")])

    @property
    def described_by(self) -> str | None:
        ids = [f"{self.id}-help"] if self.spec.options.help else []
        if self.errors:
            ids.append(f"{self.id}-error")
        return " ".join(ids) or None

    def attrs(self, **extra: Any) -> dict[str, Any]:
        """The control's attributes: name, id, constraints, ARIA links, then ``Field(attrs=)``, then ``extra``."""
        spec = self.spec
        attrs: dict[str, Any] = {"name": self.name, "id": self.id}
        required = spec.required and spec.widget not in ("checkbox", "hidden")
        attrs["required"] = required and not (spec.many and spec.widget == "checkboxes")
        attrs.update(_constraint_attrs(spec))
        attrs["aria-describedby"] = self.described_by
        attrs["aria-invalid"] = "true" if self.errors else None
        attrs.update(spec.options.attrs)
        attrs.update({key.replace("_", "-").removesuffix("-"): value for key, value in extra.items()})
        return attrs

    def control(self, **extra: Any) -> str:
        """The control alone; keyword arguments become attributes (``class_="wide"`` is ``class="wide"``)."""
        widget = self.spec.widget
        if callable(widget):
            return Markup(str(escape(widget(self))))
        if widget == "textarea":
            text = "\n".join(self.value) if isinstance(self.value, list) else self.value
            # A leading newline inside <textarea> is dropped by HTML parsers: add one so text keeps its own.
            return Markup(f"<textarea{_attrs(self.attrs(**extra))}>\n{escape(text)}</textarea>")
        if widget == "select":
            return self._select(extra)
        if widget in ("radios", "checkboxes"):
            return self._group(extra)
        if widget == "checkbox":
            checked = isinstance(self.value, str) and self.value.strip().lower() in _CHECKED_WORDS
            return tag("input", {"type": "checkbox", **self.attrs(**extra), "value": "on", "checked": checked})
        return self._input(widget, extra)

    def _input(self, widget: str, extra: dict[str, Any]) -> str:
        attrs: dict[str, Any] = {"type": widget if widget in _INPUT_TYPES else "text", **self.attrs(**extra)}
        if widget == "file":
            attrs["multiple"] = self.spec.many
        elif widget != "password":  # a password is never written back into a page
            attrs = {**attrs, "value": self.value if isinstance(self.value, str) else ""}
        return tag("input", attrs)

    def _select(self, extra: dict[str, Any]) -> str:
        chosen = set(self.value) if isinstance(self.value, list) else {self.value}
        # An empty choice only where "none" means something: an optional field, or a required one not yet chosen.
        blank = not self.spec.many and (self.spec.nullable or self.spec.required)
        options = [tag("option", {"value": ""}, "---------")] if blank else []
        options += [tag("option", {"value": value, "selected": value in chosen}, text) for value, text in self.choices]
        attrs = {**self.attrs(**extra), "multiple": self.spec.many}
        return join([Markup(f"<select{_attrs(attrs)}>"), *options, Markup("</select>")])

    def _group(self, extra: dict[str, Any]) -> str:
        kind = "checkbox" if self.spec.widget == "checkboxes" else "radio"
        chosen = set(self.value) if isinstance(self.value, list) else {self.value}
        base = self.attrs(**extra)
        items = []
        for index, (value, text) in enumerate(self.choices):
            attrs = {"type": kind, **base, "id": f"{self.id}_{index}", "value": value, "checked": value in chosen}
            attrs["aria-describedby"] = None  # the fieldset carries the links, once
            items.append(join([tag("input", attrs), Markup(" "), tag("label", {"for": attrs["id"]}, text)]))
        return join([Markup('<span class="choice">'), *_between(items), Markup("</span>")])

    def __html__(self) -> str:
        return str(self.row())

    def __str__(self) -> str:
        return self.__html__()

    def row(self, **extra: Any) -> str:
        """The whole row: label, control, help and errors in a ``<div class="field">``."""
        widget = self.spec.widget
        classes = ["field", f"field-{widget if isinstance(widget, str) else 'custom'}"]
        classes += ["required"] if self.spec.required else []
        classes += ["invalid"] if self.errors else []
        if widget == "hidden":
            return self.control(**extra)
        if widget in ("radios", "checkboxes"):
            legend = tag("legend", {}, self.label_text)
            links = {"aria-describedby": self.described_by, "aria-invalid": "true" if self.errors else None}
            opening = Markup(f"<fieldset{_attrs({'id': self.id, 'class': ' '.join(classes), **links})}>")
            parts = [opening, legend, self.control(**extra), self.help_html, self.errors_html, Markup("</fieldset>")]
            return join(parts)
        if widget == "checkbox":  # the box first, then its label, as people expect to read it
            inner = [self.control(**extra), Markup(" "), self.label]
        else:
            inner = [self.label, self.control(**extra)]
        opening = Markup(f'<div class="{escape(" ".join(classes))}">')
        return join([opening, *inner, self.help_html, self.errors_html, Markup("</div>")])

    def __repr__(self) -> str:
        return f"<BoundField {self.name} {self.spec.widget!r}>"


def _between(items: list[str]) -> Iterator[str]:
    for index, item in enumerate(items):
        if index:
            yield Markup("<br>")
        yield item


def _constraint_attrs(spec: FieldSpec) -> dict[str, Any]:
    found = spec.constraints
    attrs: dict[str, Any] = {}
    if spec.widget == "number":
        is_int = spec.base is int
        attrs["step"] = found.get("multiple_of") or (1 if is_int else "any")
        attrs["min"] = _bound(found.get("ge"), found.get("gt"), 1 if is_int else None)
        attrs["max"] = _bound(found.get("le"), found.get("lt"), -1 if is_int else None)
    elif not spec.many and spec.widget in ("text", "textarea", "email", "url", "tel", "search", "password"):
        attrs["minlength"] = found.get("min_length")
        attrs["maxlength"] = found.get("max_length")
        # msgspec searches for the pattern anywhere (re.search); the browser matches the whole value,
        # so the pattern is only given to the browser when it is anchored at both ends.
        pattern = found.get("pattern")
        if spec.widget != "textarea" and isinstance(pattern, str) and pattern.startswith("^") and pattern.endswith("$"):
            attrs["pattern"] = pattern[1:-1]
    return attrs


def _bound(inclusive: Any, exclusive: Any, step: int | None) -> Any:
    """The HTML ``min``/``max`` for a ``ge``/``gt`` (``le``/``lt``) bound; an exclusive one only for whole numbers."""
    if inclusive is not None:
        return inclusive
    if exclusive is not None and step is not None:
        return math.floor(exclusive) + step if step > 0 else math.ceil(exclusive) + step
    return None
