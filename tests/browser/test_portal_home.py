"""The portal home in chromium, in the three languages, switched with the language form."""

from __future__ import annotations

from support.browser import screenshot

HEADINGS = {
    "pt-BR": "Bem-vindo à Central do Cliente Balcão Hosting",
    "es": "Te damos la bienvenida al área de cliente de Balcão Hosting",
    "en": "Welcome to the Balcão Hosting client area",
}


def test_home_in_three_languages(page):
    # Given a Brazilian visitor
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "pt-BR"
    assert page.get_by_role("heading", level=1).inner_text() == HEADINGS["pt-BR"]
    screenshot(page, "home-pt-BR")
    # When they switch to Spanish, then English, with the language form
    for language, label, button in (("es", "Idioma", "Alterar"), ("en", "Idioma", "Cambiar")):
        page.get_by_label(label).select_option(language)
        page.get_by_role("button", name=button).click()
        # Then the page is in that language, and the choice is remembered
        assert page.locator("html").get_attribute("lang") == language
        assert page.get_by_role("heading", level=1).inner_text() == HEADINGS[language]
        screenshot(page, f"home-{language}")
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "en"


def test_the_skip_link_is_the_first_stop_and_lands_on_main(page):
    # Given a visitor on the home page
    page.goto("/")
    # When they press Tab, Then the skip link has the focus; and Enter takes them to the main content
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
