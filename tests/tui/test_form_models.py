"""The form models behind the screens (core.forms, core.wizard): no Textual needed."""

from __future__ import annotations

import tomllib
from pathlib import Path

from fedi_tui.core.apps.registry import installed_apps
from fedi_tui.core.state.file import load_state
from fedi_tui.core.state.spec import GarageStorageSpec, ProxmoxRuntimeSpec
from fedi_tui.core.state.tomledit import COMMENT_OUT, DELETE, Edit
from fedi_tui.core.views.forms import (
    apply_form,
    assign_problems,
    form_fields,
    form_values,
    pin_edits,
    preview_text,
    section_edits,
)
from fedi_tui.core.views.wizard import OperatorDraft, draft_problems, slug
from tests.paths import DEMO
from tests.textdiff import changed_lines

MASTODON = form_fields(installed_apps()["mastodon"].options)


def test_fields_follow_the_options_model() -> None:
    by_key = {f.key: f for f in MASTODON}
    assert by_key["registration_mode"].kind == "choice"
    assert by_key["registration_mode"].choices == ("open", "approval", "closed")
    assert by_key["admin.username"].help.startswith("Login name")
    assert by_key["domain"].optional and by_key["media_retention_days"].kind == "int"


def test_labels_are_words_with_their_acronyms_and_units() -> None:
    proxmox = {f.key: f.label for f in form_fields(ProxmoxRuntimeSpec)}
    assert proxmox["api"] == "API"
    assert proxmox["ca_file"] == "CA file"
    assert proxmox["ssh.user"] == "SSH user"
    assert proxmox["token_id"] == "Token ID"
    assert proxmox["vmids"] == "VM IDs"
    assert {f.key: f.label for f in form_fields(GarageStorageSpec)}["s3_endpoint"] == "S3 endpoint"
    pixelfed = {f.key: f.label for f in form_fields(installed_apps()["pixelfed"].options)}
    assert pixelfed["max_photo_kb"] == "Max photo (KB)"
    assert pixelfed["admin.email"] == "Admin e-mail"


def test_unchanged_values_write_nothing_and_a_change_writes_one_key() -> None:
    old = load_state(DEMO).data["operators"]["coop"]["apps"]["mastodon"]
    values = form_values(MASTODON, old)
    same, errors = apply_form(old, MASTODON, values)
    assert same == old and not errors
    values["site_title"] = ""
    new, _ = apply_form(old, MASTODON, values)
    root = ("operators", "coop", "apps", "mastodon")
    assert section_edits(root, old, new) == [Edit((*root, "site_title"), DELETE)]


def test_unreadable_input_is_reported_per_field() -> None:
    values = form_values(MASTODON, {})
    values["media_retention_days"] = "two weeks"
    _, errors = apply_form({}, MASTODON, values)
    assert errors == {"media_retention_days": "expected a whole number, e.g. 30"}


def test_a_missing_table_is_reported_at_its_first_required_field() -> None:
    by_field, general = assign_problems(MASTODON, [(("admin",), "required key admin is missing")])
    assert by_field == {"admin.username": "required: please fill this in"} and not general


def test_pinning_a_fingerprint_replaces_the_ca_file_and_keeps_it_as_a_comment() -> None:
    fp = ":".join(["AB"] * 32)
    loaded = load_state(DEMO)
    edits = pin_edits("runtimes", "pve-a", loaded.data, fingerprint=fp)
    assert edits == [
        Edit(("runtimes", "pve-a", "fingerprint"), fp),
        Edit(("runtimes", "pve-a", "ca_file"), COMMENT_OUT),
    ]
    after = preview_text(loaded.text, loaded.data, edits)
    assert changed_lines(loaded.text, after) == [
        '-ca_file = "pve-ca.pem"               # relative to this file',
        '+# ca_file = "pve-ca.pem"               # relative to this file',
        f'+fingerprint = "{fp}"',
    ]
    assert "ca_file" not in tomllib.loads(after)["runtimes"]["pve-a"]


def test_pinning_without_a_ca_file_only_sets_the_pin() -> None:
    data = load_state(DEMO).data
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB090aQKWbebDKqfGSVLSKpPbvpc/aTNIiEopglL7Hcf"
    assert pin_edits("runtimes", "bare-1", data, host_key=key) == [
        Edit(("runtimes", "bare-1", "host_key"), key)
    ]


def test_commenting_out_a_key_of_an_inline_table_removes_it() -> None:
    text = "schema = 1\nt = { a = 1, b = 2 }  # note\n"
    edits = [Edit(("t", "a"), COMMENT_OUT)]
    after = preview_text(text, tomllib.loads(text), edits)
    assert tomllib.loads(after) == {"schema": 1, "t": {"b": 2}}
    assert "# note" in after


def test_wizard_draft_problems_name_the_field() -> None:
    data = load_state(DEMO).data
    draft = OperatorDraft(
        apps=("mastodon",),
        operator_id="coop",
        name="X",
        email="bad",
        domain="x.test",
        runtime="pve-a",
        storage="garage-a",
        admin_username="Bad Name",
        admin_email="a@x.test",
    )
    problems = draft_problems(draft, data)
    assert problems["operator_id"].startswith("an operator 'coop' exists already")
    assert "e-mail" in problems["email"]
    assert problems["admin_username"].startswith("expected a user name of up to 30")
    assert slug("Lens & Light Club") == "lens-light-club"


def test_overview_places_machines_per_node(demo_copy: Path) -> None:
    from fedi_tui.core.state.file import load_state
    from fedi_tui.core.views.overview import overview

    view = overview(load_state(demo_copy).spec)
    pve = next(r for r in view.runtimes if r.name == "pve-a")
    assert [(n.name, n.machines) for n in pve.node_usage] == [("pve1", 1), ("pve2", 2)]
    assert sum(n.placed.memory_gib for n in pve.node_usage) == pve.placed.memory_gib
    assert all(n.total.cores == 32 for n in pve.node_usage)
