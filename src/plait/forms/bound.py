"""A form bound to one request: its data or its errors, its values for the page, and the redirect after it.

A handler asks for one with ``form: Submitted[ArticleForm]``. On GET (and HEAD) the form is blank
(its defaults, or an object's values after ``form.fill(article)``); on other methods it holds what
was posted, converted and checked. Invalid input never raises: the handler looks at
``form.is_valid`` and either saves ``form.data`` and redirects (``form.redirect("/articles",
flash="Saved")``, a 303 with a flash message) or draws the page again with
``status_code=form.status_code`` (422 after a failed submission), the values kept and each error
next to its field.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import msgspec

from plait.di.markers import Depends
from plait.exceptions import ConfigurationError, PlaitError
from plait.forms.binding import Converted, convert_form
from plait.forms.fields import FormSpec, choice_value, form_spec
from plait.forms.html import Markup, attributes, join, tag
from plait.forms.widgets import BoundField
from plait.redirects import redirect, safe_next
from plait.requests import Request
from plait.responses import RedirectResponse

F = TypeVar("F", bound=msgspec.Struct)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"


class InvalidFormError(PlaitError):
    """``form.data`` was read on a form that is not valid; check ``form.is_valid`` first."""


class BoundForm(Generic[F]):
    """One form class with what one request made of it (see the module docstring).

    Built blank without a request, it draws the form with its defaults:

    >>> class Note(msgspec.Struct, kw_only=True):
    ...     text: str
    >>> form = BoundForm(Note)
    >>> form.is_valid, form.status_code
    (False, 200)
    >>> str(form["text"].control())
    '<input type="text" name="text" id="id_text" required value="">'
    """

    def __init__(
        self,
        form: type[F],
        request: Request | None = None,
        *,
        converted: Converted | None = None,
        choices: Mapping[str, list[tuple[str, str]]] | None = None,
        prefix: str = "",
    ) -> None:
        self.form = form
        self.spec: FormSpec = form_spec(form)
        self.request = request
        self.prefix = prefix
        self.submitted = converted is not None
        """True when the request posted this form (its values were converted and checked)."""
        self._converted = converted or Converted(None, {}, self._initial(None))
        self._choices = {f.key: list(f.choices) for f in self.spec.fields} | dict(choices or {})
        self._csrf: tuple[str, str] | None = None

    # -- outcome ---------------------------------------------------------------------------------

    @property
    def is_valid(self) -> bool:
        """True when the form was submitted and every field (and the form's own checks) passed."""
        done = self._converted
        return self.submitted and done.data is not None and not done.errors and not done.non_field_errors

    @property
    def data(self) -> F:
        """The form's Struct, built from the submitted values; only when :attr:`is_valid`."""
        if not self.is_valid:
            state = "was not submitted" if not self.submitted else "has errors"
            raise InvalidFormError(
                f"{self.form.__name__} {state}, so it has no data; read form.data only after "
                "`if form.is_valid:` and draw the page again (status_code=form.status_code) otherwise."
            )
        return self._converted.data  # type: ignore[return-value]

    @property
    def errors(self) -> dict[str, list[str]]:
        """Messages per field key (``{"title": ["This field is required."]}``); empty when none."""
        return self._converted.errors

    @property
    def non_field_errors(self) -> list[str]:
        """Messages about the form as a whole (from the Struct's ``__post_init__`` or :meth:`add_error`)."""
        return self._converted.non_field_errors

    @property
    def values(self) -> dict[str, Any]:
        """What the page shows in each field: the text as submitted (files and passwords left out), else initial."""
        return self._converted.values

    @property
    def status_code(self) -> int:
        """422 for a submission that failed, else 200: ``render(..., status_code=form.status_code)``."""
        return 422 if self.submitted and not self.is_valid else 200

    def add_error(self, field: str | None, message: str) -> None:
        """Report a problem found after binding (``"That title is taken."``); the form is then invalid.

        ``field`` is a field key, or None for a message about the whole form.
        """
        if field is None:
            self._converted.non_field_errors.append(message)
            return
        if field not in self.values:
            known = ", ".join(self.values) or "(none)"
            raise ConfigurationError(f"{self.form.__name__} has no field {field!r}; its fields are {known}.")
        self._converted.errors.setdefault(field, []).append(message)

    def fill(self, source: Any) -> BoundForm[F]:
        """Show ``source``'s values (a model row, a Struct or a mapping) in a blank form; returns the form.

        A submitted form keeps what was submitted: ``form.fill(article)`` serves GET and POST alike.
        """
        if not self.submitted:
            self._converted.values.update(self._initial(source))
        return self

    def _initial(self, source: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for field in self.spec.fields:
            value = _read(source, field.name)
            if value is _MISSING:
                value = _default(self.form, field.name)
            if value is _MISSING or (field.is_file or field.widget == "password"):
                value = [] if field.many else None
            if field.many:
                values[field.key] = [choice_value(item) for item in value or ()]
            else:
                values[field.key] = choice_value(value)
        return values

    # -- drawing ---------------------------------------------------------------------------------

    @property
    def fields(self) -> dict[str, BoundField]:
        """Every field ready to draw, by key, in declaration order."""
        return {f.key: self[f.key] for f in self.spec.fields}

    def __getitem__(self, key: str) -> BoundField:
        spec = next((f for f in self.spec.fields if f.key == key), None)
        if spec is None:
            known = ", ".join(f.key for f in self.spec.fields) or "(none)"
            raise KeyError(f"{self.form.__name__} has no field {key!r}; its fields are {known}.")
        return BoundField(spec, self.values[key], self.errors.get(key, []), self._choices[key], self.prefix)

    def __iter__(self) -> Iterator[BoundField]:
        return iter(self.fields.values())

    def __contains__(self, key: object) -> bool:
        return any(f.key == key for f in self.spec.fields)

    @property
    def enctype(self) -> str:
        """``multipart/form-data`` when the form has a file field, else the urlencoded default."""
        return "multipart/form-data" if self.spec.multipart else "application/x-www-form-urlencoded"

    @property
    def csrf_input(self) -> str:
        """The hidden CSRF field when ``plait.csrf`` is installed in the app, else an empty string."""
        found = self._csrf_token()
        if found is None:
            return Markup("")
        return tag("input", {"type": "hidden", "name": found[0], "value": found[1]})

    def _csrf_token(self) -> tuple[str, str] | None:
        if self._csrf is None and self.request is not None:
            csrf = _installed(self.request, "csrf")
            if csrf is not None:
                # One token per form drawn, made on first use: a page without a form creates no secret.
                token = importlib.import_module("plait.csrf").csrf_token(self.request)
                self._csrf = (getattr(csrf, "field_name", CSRF_FIELD), str(token))
        return self._csrf

    @property
    def errors_html(self) -> str:
        """The messages about the whole form, in an element screen readers announce."""
        if not self.non_field_errors:
            return Markup("")
        lines = [tag("p", {}, message) for message in self.non_field_errors]
        return join([Markup('<div class="errors form-errors" role="alert">'), *lines, Markup("</div>")])

    def render(self, action: str = "", *, submit: str = "Save", method: str = "post", **attrs: Any) -> str:
        """The whole ``<form>``: CSRF field, form errors, every field and a submit button.

        ``attrs`` are added to the ``<form>`` element (``class_="stacked"`` is ``class="stacked"``).
        """
        form_attrs = {"action": action, "method": method, "enctype": self.enctype if self.spec.multipart else None}
        form_attrs.update({key.replace("_", "-").removesuffix("-"): value for key, value in attrs.items()})
        parts = [Markup(f"<form{attributes(form_attrs)}>"), self.csrf_input, self.errors_html]
        parts += [field.row() for field in self]
        parts += [tag("button", {"type": "submit"}, submit), Markup("</form>")]
        return join(parts)

    def __html__(self) -> str:
        return str(self.render())

    # -- after a valid submission -------------------------------------------------------------------

    def redirect(
        self,
        url: str,
        *,
        flash: str | None = None,
        category: str = "success",
        next_url: str | None = None,
        status_code: int = 303,
    ) -> RedirectResponse:
        """Post/Redirect/Get: a 303 to ``url`` (a path your app chose), with ``flash`` kept for the next page.

        ``next_url`` (a ``?next=`` value from the request) wins when it stays on this site, checked by
        :func:`plait.redirects.safe_next`; ``url`` is the fallback. The flash message goes through
        ``plait.sessions.flash``, so the app needs ``Sessions()`` installed.
        """
        if next_url is not None and self.request is not None:
            url = safe_next(self.request, next_url, url)
        if flash is not None:
            self._flash(flash, category)
        return redirect(url, status_code=status_code)

    def _flash(self, message: str, category: str) -> None:
        session = self.request.scope.get("session") if self.request is not None else None
        if session is None:
            raise ConfigurationError(
                "form.redirect(flash=...) keeps the message in the session, and this request has none; "
                "install sessions (from plait.sessions import Sessions; app.install(Sessions())), "
                "or leave flash= out."
            )
        importlib.import_module("plait.sessions").flash(session, message, category)

    def __repr__(self) -> str:
        state = "valid" if self.is_valid else ("invalid" if self.submitted else "blank")
        return f"<BoundForm {self.form.__name__} {state}>"


_MISSING: Any = object()


def _read(source: Any, name: str) -> Any:
    if source is None:
        return _MISSING
    if isinstance(source, Mapping):
        return source.get(name, _MISSING)
    return getattr(source, name, _MISSING)


def _default(form: type[msgspec.Struct], name: str) -> Any:
    info = next(f for f in msgspec.structs.fields(form) if f.name == name)
    if info.default is not msgspec.NODEFAULT:
        return info.default
    if info.default_factory is not msgspec.NODEFAULT:
        return info.default_factory()
    return _MISSING


def _installed(request: Request, name: str) -> Any:
    """The extension called ``name`` in the request's app, or None."""
    app = request.scope.get("app")
    return next((ext for ext in app.extensions if ext.name == name), None) if app is not None else None


async def bind(form: type[F], request: Request, *, db: Any = None, prefix: str = "") -> BoundForm[F]:
    """Bind ``form`` to ``request``: blank on GET/HEAD, else the posted values converted and checked.

    ``db`` (an ``AsyncSession``) loads the choices of :class:`~plait.forms.Relation` fields; ``prefix``
    is put before every field name (two forms on one page). Body problems (too large, not a form)
    are still 4xx errors; invalid values are not: they are in ``form.errors``.
    """
    spec = form_spec(form)
    session = request.scope.get("session")
    if session is not None:
        # A server-side session (database, Redis) is read here, asynchronously, so that the CSRF
        # token and flash messages can use it while the page is drawn and the redirect is made.
        await session.load()
    loaded: dict[str, Any] = {}
    if spec.relations:
        if db is None:
            raise ConfigurationError(
                f"{form.__name__} has relation fields, whose choices come from the database; install "
                "Database() and take the form as Submitted[...] (or pass db= to bind())."
            )
        from plait.forms.models import load_choices

        loaded = await load_choices(spec, db)
    choices = {key: found.choices for key, found in loaded.items()}
    if request.method in SAFE_METHODS:
        return BoundForm(form, request, choices=choices, prefix=prefix)
    posted = await request.form()
    converted = convert_form(spec, {f.key: posted.getlist(prefix + f.key) for f in spec.fields})
    if loaded:
        from plait.forms.models import check_relations

        await check_relations(spec, converted, loaded, db)
    return BoundForm(form, request, converted=converted, choices=choices, prefix=prefix)


@functools.cache
def binder(form: type[msgspec.Struct]) -> Callable[..., Any]:
    """The provider behind ``Submitted[form]`` (one per form class, so a request binds it once)."""
    spec = form_spec(form)
    if spec.relations:
        from plait.forms.models import session_binder

        return session_binder(form, bind)

    async def provide(request: Request) -> BoundForm[Any]:
        return await bind(form, request)

    provide.__qualname__ = f"Submitted[{form.__qualname__}]"
    return provide


if TYPE_CHECKING:
    Submitted = BoundForm
else:

    class Submitted:
        """``form: Submitted[ArticleForm]``: the handler gets a :class:`BoundForm`, valid or not (never a 422).

        Unlike Plait's ``Form()`` body marker, which answers 422 itself, the handler decides what to do
        with invalid input (usually: draw the page again with the errors).
        """

        def __class_getitem__(cls, form: Any) -> Any:
            return Annotated[BoundForm[form], Depends(binder(form))]
