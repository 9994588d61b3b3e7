"""`copier update` after the template gains a commit and a tag: applies cleanly
and keeps the user's own edits."""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers import ROOT, git, load

from nox_tasks.render import render


def snapshot_template(dst: Path) -> Path:
    """The template as it is in this checkout (tracked and untracked files) in a new repo."""
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for rel in filter(None, listed.split("\0")):
        if (ROOT / rel).is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dst / rel)
    git(dst, "init", "-q")
    git(dst, "add", "-A")
    git(dst, "commit", "-qm", "template v1")
    git(dst, "tag", "v1.0.0")
    return dst


def test_update_applies_template_change_and_keeps_user_edits(tmp_path: Path) -> None:
    from copier import run_update

    template = snapshot_template(tmp_path / "template")
    project = render(tmp_path / "project", src=template, vcs_ref=None)
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "rendered from v1")

    # The user's own work, in a shared file and a file of their own.
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\n## Our notes\n\nKeep this.\n")
    lib = project / "src" / "lib.rs"
    lib.write_text(lib.read_text() + "\n/// Added by the team.\npub fn team_helper() {}\n")
    (project / "NOTES.md").write_text("team notes\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "our edits")

    # The template gains a commit and a tag.
    tpl_readme = template / "template" / "README.md.jinja"
    text = tpl_readme.read_text()
    title_end = text.index("\n") + 1
    tpl_readme.write_text(text[:title_end] + "\n> Template v2 line.\n" + text[title_end:])
    (template / "template" / "CHANGELOG.md").write_text("# Changelog\n")
    git(template, "add", "-A")
    git(template, "commit", "-qm", "template v2")
    git(template, "tag", "v2.0.0")

    run_update(str(project), defaults=True, overwrite=True, unsafe=False, quiet=True)

    assert load(project / ".copier-answers.yml")["_commit"] == "v2.0.0"
    assert (project / "CHANGELOG.md").read_text() == "# Changelog\n"
    updated = readme.read_text()
    assert "> Template v2 line." in updated
    assert "## Our notes\n\nKeep this." in updated
    assert "pub fn team_helper() {}" in lib.read_text()
    assert (project / "NOTES.md").read_text() == "team notes\n"
    leftovers = [p for p in project.rglob("*.rej")]
    assert not leftovers
    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert "<<<<<<<" not in path.read_text(errors="replace"), path
