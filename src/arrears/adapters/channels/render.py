"""Jinja2 rendering of notification templates (zh-CN and en).

Templates live in `templates/<language>/<name>.txt.j2` (body) and `<name>.subject.j2`
(optional subject). The identification and opt-out lines are macros in the language's
`_lines.j2`, switched on by the context the application passes (`opt_out`, `debt_collector`),
which follows the pack's requirements. The macros take those values as arguments, so their
module is built once per language and given to that language's templates as `l` (`LINES`): an
`{% import %}` in a template would look the module up again on every message (a third of a
short message's render). Undefined variables are errors, never blanks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from arrears.application.ports import Rendered

TEMPLATES = Path(__file__).with_name("templates")
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LINES = "l"  # the name a template calls the line macros of its language by
_SPACES = re.compile(r"[ \t]{2,}")


class JinjaRenderer:
    def __init__(self, directory: Path = TEMPLATES) -> None:
        self.directory = directory
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(directory)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # plain text: SMS, email text parts, letters, call scripts
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
            # The templates ship with the package: nothing edits them under a running
            # process, so a render need not stat each file it uses to see whether it changed.
            auto_reload=False,
        )
        self._cache: dict[str, jinja2.Template | None] = {}

    def __reduce__(self) -> tuple[Any, tuple[Path]]:
        # Sent to another process (planning read ahead), a renderer becomes that process's
        # one renderer of the directory, so its templates are compiled once there too.
        return shared_renderer, (self.directory,)

    def _template(self, name: str) -> jinja2.Template | None:
        if name not in self._cache:
            try:
                self._cache[name] = self.environment.get_template(
                    name, globals=self._lines(name.partition("/")[0]))
            except jinja2.TemplateNotFound as missing:
                if missing.name != name:  # one it includes or extends: the template's error
                    raise
                self._cache[name] = None
        return self._cache[name]

    def _lines(self, language: str) -> dict[str, Any]:
        """The language's `_lines.j2` macros as the global `LINES`, if it has them."""
        lines = f"{language}/_lines.j2"
        try:
            return {LINES: self.environment.get_template(lines).module}
        except jinja2.TemplateNotFound as missing:
            if missing.name != lines:  # `_lines.j2` is there but imports what is not
                raise
            return {}

    def render(self, template: str, language: str, context: Mapping[str, Any]) -> Rendered:
        if LINES in context:  # a variable would hide the macros from the template
            raise ValueError(f"context.{LINES}: the name of the templates' line macros")
        lang = language if language in LANGUAGES else DEFAULT_LANGUAGE
        body_template = self._template(f"{lang}/{template}.txt.j2")
        if body_template is None:
            raise LookupError(f"no template {template!r} in {lang}")
        body = body_template.render(**context)
        subject_template = self._template(f"{lang}/{template}.subject.j2")
        subject = subject_template.render(**context).strip() if subject_template else ""
        return Rendered(subject=subject, body=_tidy(body))


@cache
def shared_renderer(directory: Path) -> JinjaRenderer:
    return JinjaRenderer(directory)


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.strip().splitlines()]
    return "\n".join(lines)
