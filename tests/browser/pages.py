"""What people do on every page in the browser tests: sign in and out, choose the language, and two checks run
on a page as it is shown: axe-core's accessibility rules, and English UI strings left on a Chinese page."""

import io
import re
from functools import cache
from pathlib import Path
from urllib.parse import urljoin

from django.utils import translation
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
PASSWORD = "demo1234"


def text(message: str, language: str, context: str = "") -> str:
    """A UI string as the pages show it in `language`, from the same catalogue the pages use."""
    with translation.override(language):
        return translation.pgettext(context, message) if context else translation.gettext(message)


def log_in(page, live_server, username: str, language: str | None = None) -> None:
    """Sign in through the login form (labels in whatever language the page is in), then choose `language`."""
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")
    if language:
        use_language(page, language)


def log_out(page) -> None:
    page.locator(".site-tools form[action$='/logout/'] button").click()
    page.wait_for_load_state()


def use_language(page, language: str) -> None:
    """The header's language form: kept on the account of a signed-in person."""
    if page.locator("html").get_attribute("lang") == language:
        return
    page.locator("#language-select").select_option(language)
    page.locator(".lang-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == language


# --- Papers ----------------------------------------------------------------------------------------------


def printed(page, link) -> str:
    """The document behind a link on the page, fetched in the person's session (its cookies, its language): its
    text, a PDF's as pypdf reads it."""
    response = page.context.request.get(urljoin(page.url, link.get_attribute("href")))
    assert response.ok, (link.get_attribute("href"), response.status)
    if response.headers["content-type"] != "application/pdf":
        return response.text()
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(response.body())).pages)


# --- axe-core --------------------------------------------------------------------------------------------


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core (installed from npm by `make test`) on the page as shown; the violations of these impacts,
    each with the rule, its help and the first offending elements."""
    assert AXE.exists(), "axe-core is missing: run `npm ci` (make test does it when node_modules is missing)"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                               nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
        }"""
    )
    return [violation for violation in result if violation["impact"] in impacts]


# --- English left on a Chinese page ----------------------------------------------------------------------


@cache
def catalogue_phrases() -> tuple[str, ...]:
    """English UI phrases of the catalogue that must not be seen on a page shown in Chinese: whole messages of
    two words or more, without placeholders (the rest is too short to be told apart from data)."""
    phrases = set()
    for block in re.split(r"\n\s*\n", CATALOGUE.read_text(encoding="utf-8")):
        if "#~" in block or "msgid_plural" in block:
            continue
        match = re.search(r'^msgid "(.*)"\n((?:".*"\n)*)msgstr "(.*)"', block + "\n", re.M)
        if not match:
            continue
        msgid = match.group(1) + "".join(re.findall(r'^"(.*)"$', match.group(2), re.M))
        msgid = msgid.replace('\\"', '"').replace("\\n", " ")
        if (re.search(r"%|\{|<|\\", msgid) or len(re.findall(r"[A-Za-z]+", msgid)) < 2 or len(msgid) < 8
                or not re.search(r"[a-z]", msgid)):  # codes such as UN/LOCODE are the same in Chinese
            continue
        phrases.add(msgid.strip())
    return tuple(sorted(phrases))


# Identifiers shown as they are in any language: references, codes, CSV column names.
CODE = ".code, code, kbd"
# Runs of two or more lowercase English words: a sentence or label that was never marked for translation
# (marked ones are caught as catalogue phrases). Names, codes and units are single words or capitalised.
ENGLISH_WORDS = re.compile(r"\b[a-z]{2,}(?:[ ,'-]+[a-z]{2,})+\b")


def english_in(text: str, data: tuple[str, ...] = ()) -> list[str]:
    """English UI text in what a page shown in Chinese displays; `data` is what people typed in English."""
    for value in data:
        text = text.replace(value, " ")
    return [phrase for phrase in catalogue_phrases() if phrase in text] + ENGLISH_WORDS.findall(text)


def english_on_page(page, data: tuple[str, ...] = ()) -> list[str]:
    """English UI text that a page shown in Chinese still displays: visible text, labels of controls, and the
    accessible names people hear."""
    shown = page.evaluate(
        """() => [[...document.querySelectorAll(CODE)].reduce((text, e) => text.replace(e.innerText, " "),
                                                              document.body.innerText),
                  ...[...document.querySelectorAll("[aria-label],[title],[placeholder],[alt]")]
                     .map(e => ["aria-label", "title", "placeholder", "alt"].map(a => e.getAttribute(a))
                                .filter(Boolean).join("\\n"))].join("\\n")""".replace("CODE", repr(CODE))
    )
    return english_in(shown, data)
