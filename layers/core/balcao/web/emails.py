"""Email rendering: ``templates/email/<name>.html`` (HTML, with the subject in its ``subject`` block) and
``templates/email/<name>.txt`` (the text part), in the recipient's language, branded from the company settings.

Every link is absolute, built from the public base URL. Templates see ``data`` (the event's data), ``site``,
``recipient``, ``account_name`` and ``link(path)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import unescape
from typing import Any

from balcao.services.notifications import RenderedEmail
from balcao.web.rendering import environment


def _absolute(base_url: str) -> Any:
    def link(path: str) -> str:
        return f"{base_url.rstrip('/')}/{path.lstrip('/')}"

    return link


class JinjaEmailRenderer:
    def render(self, template: str, language: str, context: Mapping[str, Any]) -> RenderedEmail:
        env = environment(language)
        variables = {**context, "link": _absolute(context["site"].public_base_url)}
        html_template = env.get_template(f"email/{template}.html")
        subject = "".join(html_template.blocks["subject"](html_template.new_context(variables))).strip()
        html = html_template.render(variables)
        text = env.get_template(f"email/{template}.txt").render(variables)
        # The subject block is rendered escaped (it is also the HTML title); the header is plain text.
        return RenderedEmail(subject=" ".join(unescape(subject).split()), text=text.strip() + "\n", html=html)
