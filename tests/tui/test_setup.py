"""Guided setup: invalid input blocks "next" with the message; the wizard adds an operator."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import ContentSwitcher, SelectionList, Static
from textual.widgets.selection_list import Selection

from fedi_tui.core.state.file import load_state
from fedi_tui.tui.commands import FediCommands
from fedi_tui.tui.screens.help import HelpScreen
from fedi_tui.tui.screens.modals import ConfirmModal
from fedi_tui.tui.screens.operators import OperatorsScreen
from fedi_tui.tui.screens.setup import SetupScreen
from fedi_tui.tui.widgets.plansummary import PlanSummary
from tests.tui.conftest import AppFactory
from tests.tui.helpers import open_area, screen_text, settle, text_of, type_into


def step(screen: SetupScreen) -> str:
    return str(screen.query_one(ContentSwitcher).current)


async def test_invalid_input_blocks_next_with_the_message(
    demo_copy: Path, make_app: AppFactory
) -> None:
    before = demo_copy.read_text()
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "4", SetupScreen)
        await pilot.press("ctrl+n")  # no application chosen
        await settle(pilot)
        assert step(screen) == "step-apps"
        assert "choose at least one application" in text_of(screen.query_one("#e-apps", Static))
        await pilot.press("space", "ctrl+n")
        await settle(pilot)
        assert step(screen) == "step-domain"
        await type_into(pilot, "#w-name", "Night Owls")
        await type_into(pilot, "#w-email", "owls@owls.test")
        await type_into(pilot, "#w-domain", "owls")  # one label only
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert step(screen) == "step-domain"
        assert "expected a domain name" in text_of(screen.query_one("#e-domain", Static))
        await type_into(pilot, "#w-operator_id", "coop")  # taken
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert step(screen) == "step-domain"
        assert "exists already" in text_of(screen.query_one("#e-operator_id", Static))
    assert demo_copy.read_text() == before


async def test_wizard_creates_an_operator_with_its_apps(
    demo_copy: Path, make_app: AppFactory
) -> None:
    before = demo_copy.read_text()
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "4", SetupScreen)
        await pilot.press("space", "down", "space", "ctrl+n")  # mastodon, peertube
        await settle(pilot)
        await type_into(pilot, "#w-name", "Night Owls")
        await type_into(pilot, "#w-email", "owls@owls.test")
        await type_into(pilot, "#w-domain", "owls.test")
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert step(screen) == "step-admin"
        await type_into(pilot, "#w-admin_username", "hoot")
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert step(screen) == "step-size"
        assert not screen.query_one("#w-size-pixelfed").display
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert step(screen) == "step-review"
        review = text_of(screen.query_one("#review-text", Static))
        assert "[operators.night-owls]" in review
        # what deploying it would do: two VMs, two buckets, two keys
        summary = text_of(screen.query_one(PlanSummary))
        assert summary == "plan with night-owls: 6 to create, 0 to change, 0 to destroy"
        assert 'username = "hoot", email = "owls@owls.test"' in review
        assert demo_copy.read_text() == before  # nothing written before the final confirm
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, OperatorsScreen)
        assert app.screen.current == "night-owls"
    after = demo_copy.read_text()
    assert after.startswith(before.rstrip("\n"))  # comments and layout above kept
    assert after[len(before.rstrip("\n")) :].strip() == review.strip()  # the review was the truth
    spec = load_state(demo_copy).spec
    owls = spec.operators["night-owls"]
    assert (owls.name, owls.domain, owls.runtime, owls.storage) == (
        "Night Owls",
        "owls.test",
        "pve-a",
        "garage-a",
    )
    enabled = {name: options for name, options in owls.apps.items() if options.enable}
    assert sorted(enabled) == ["mastodon", "peertube"]
    assert all(o.admin is not None and o.admin.username == "hoot" for o in enabled.values())


async def test_setup_only_exits_with_a_summary(demo_copy: Path, make_app: AppFactory) -> None:
    """`fedi-tui setup` starts in the wizard and exits once it saved."""
    app = make_app(demo_copy, mode="setup", setup_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SetupScreen)
        await pilot.press("space", "ctrl+n")
        await type_into(pilot, "#w-name", "Solo")
        await type_into(pilot, "#w-email", "me@solo.test")
        await type_into(pilot, "#w-domain", "solo.test")
        await pilot.press("ctrl+n")
        await type_into(pilot, "#w-admin_username", "me")
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+s")
        await settle(pilot)
    assert app.return_value == f"added operator solo to {demo_copy}"
    assert "solo" in load_state(demo_copy).spec.operators


async def test_slash_filters_the_application_list_and_keeps_choices(
    demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "4", SetupScreen)
        await pilot.press("space")  # tick mastodon (the first entry)
        await settle(pilot)
        assert screen.draft.apps == ("mastodon",)
        await pilot.press("slash")
        await pilot.press(*"pix")
        await settle(pilot)
        apps = screen.query_one("#w-apps", SelectionList)
        assert [str(o.value) for o in apps.options if isinstance(o, Selection)] == ["pixelfed"]
        await pilot.press("enter", "space")  # back in the list: tick pixelfed
        await settle(pilot)
        assert screen.draft.apps == ("mastodon", "pixelfed")  # mastodon stays chosen while hidden
        await pilot.press("slash", *(["backspace"] * 3))
        await settle(pilot)
        assert sorted(str(v) for v in apps.selected) == ["mastodon", "pixelfed"]


async def test_quitting_the_wizard_with_answers_asks_first(
    demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_area(pilot, "4", SetupScreen)
        await pilot.press("space", "ctrl+n")
        await type_into(pilot, "#w-name", "Night Owls")
        await settle(pilot)
        await pilot.press("ctrl+q")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmModal) and "Setup" in modal.body
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, SetupScreen)
        assert app.return_code is None  # still running


async def test_quitting_an_untouched_wizard_does_not_ask(
    demo_copy: Path, make_app: AppFactory
) -> None:
    app = make_app(demo_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_area(pilot, "4", SetupScreen)
        await pilot.press("ctrl+q")
        await settle(pilot)
    assert app.return_code == 0


async def test_setup_alone_has_no_other_areas(demo_copy: Path, make_app: AppFactory) -> None:
    """`fedi-tui setup` is the wizard alone: an operator sees no other customer."""
    app = make_app(demo_copy, mode="setup", setup_only=True, prober=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SetupScreen)
        shown = screen_text(app)
        assert "Guided setup of a new operator" in shown
        for other in ("Dashboard", "Operators", "Runtimes", "Nix", "coop", "photoclub"):
            assert other not in shown
        for key in "12345":
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, SetupScreen) and app.current_mode == "setup"
        provider = FediCommands(app.screen)
        await provider.startup()
        titles = [title for title, _, _ in provider._commands]
        assert not [t for t in titles if t.startswith(("Go to", "Plan")) or "Reload" in t]
        assert "Next" in titles
        await pilot.press("question_mark")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        keys = [row[0] for row in (*help_screen.rows, *help_screen.everywhere)]
        assert "1 … 5" not in keys and "escape" in keys


async def test_escape_in_setup_alone_asks_to_leave(demo_copy: Path, make_app: AppFactory) -> None:
    before = demo_copy.read_text()
    app = make_app(demo_copy, mode="setup", setup_only=True, prober=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "ctrl+n")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmModal) and modal.title_text == "Leave the guided setup?"
        assert "not saved" in modal.body
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, SetupScreen) and step(app.screen) == "step-domain"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
    assert app.return_code == 0 and app.return_value is None
    assert demo_copy.read_text() == before
