"""specflow's own git trusts nothing the agent wrote, and nothing secret merges.

- a worktree `.git` file pointed at a gitdir the agent made (with fsmonitor and hooks) or at
  the user's own gitdir: the task fails with the cause `tampered`, nothing of specflow's runs
  there, the user's branch and index stay, and the slot is rebuilt for the next task;
- filter and textconv drivers the repository defines with a script in the tree, switched on by
  an agent-written `.gitattributes`: never run by specflow's `git add`;
- a change adding the current key's value or a well-known key format fails with `secret`."""

from __future__ import annotations

from pathlib import Path

import pytest

from specflow.sandbox.core import bwrap_works, landlock_abi
from tests.security.harness import KEY, call, git, make_attack, record, remove, sh

pytestmark = pytest.mark.skipif(
    bwrap_works() is not None and landlock_abi() < 2, reason="no confinement on this machine"
)


def test_a_rewritten_dot_git_fails_the_task_as_tampered(tmp_path: Path) -> None:
    attack = make_attack(tmp_path, {"T001": [], "T002": [], "T003": []})
    try:
        repo, out, m = attack.repo, attack.outside, f"PWNED-{attack.tag}"
        fake = f"{out}/../fakegit"  # not writable from inside: the agent makes its own in tmp
        steps = {
            # its own gitdir, with a command as fsmonitor and a hook
            "T001": [
                sh(
                    "git init -q --bare /tmp/evil && "
                    f"git --git-dir=/tmp/evil config core.fsmonitor 'touch {out}/{m}-fsm' && "
                    "mkdir -p /tmp/evil/hooks && "
                    f"printf '#!/bin/sh\\ntouch {out}/{m}-hook\\n' > /tmp/evil/hooks/post-checkout"
                    " && chmod +x /tmp/evil/hooks/post-checkout && "
                    'cp -r /tmp/evil ./evilgit && echo "gitdir: $PWD/evilgit" > .git'
                ),
                call("write_file", path="T001.txt", content="1"),
            ],
            # the user's own gitdir: specflow's commit would move `main` and the user's index
            "T002": [
                sh(f"echo 'gitdir: {repo}/.git' > .git"),
                call("write_file", path="T002.txt", content="2"),
            ],
            "T003": [call("write_file", path="T003.txt", content="3")],
        }
        record(attack, steps)
        (repo / "staged.txt").write_text("mine\n")
        git(repo, "add", "staged.txt")
        main_before = git(repo, "rev-parse", "main")
        p = attack.implement("-j", "1", "--agent", "builtin")
        assert p.returncode == 1
        failed = attack.failed()
        assert {t: e["cause"] for t, e in failed.items()} == {
            "T001": "tampered",
            "T002": "tampered",
        }, failed
        assert "tampered" in failed["T001"]["reason"]
        assert attack.merged() == ["T003"]  # the rebuilt slot works
        assert attack.marker_hits() == []
        assert git(repo, "rev-parse", "main") == main_before
        assert git(repo, "diff", "--cached", "--name-only") == "staged.txt"
        assert not Path(fake).exists()
    finally:
        remove(attack)


def test_drivers_named_by_agent_written_attributes_never_run(tmp_path: Path) -> None:
    attack = make_attack(
        tmp_path,
        {"T001": []},
        files={"tools/clean.sh": "#!/bin/sh\ncat\n", "tools/conv.sh": '#!/bin/sh\ncat "$1"\n'},
    )
    try:
        repo, out, m = attack.repo, attack.outside, f"PWNED-{attack.tag}"
        # The user's repository config names scripts in the tree (trusted config, agent code).
        git(repo, "config", "filter.tidy.clean", "sh tools/clean.sh")
        git(repo, "config", "filter.tidy.smudge", "sh tools/clean.sh")
        git(repo, "config", "diff.conv.textconv", "sh tools/conv.sh")
        git(repo, "config", "merge.mine.driver", "sh tools/clean.sh %A")
        payload = f"#!/bin/sh\\ntouch {out}/{m}-driver\\ncat\\n"
        steps = {
            "T001": [
                call("write_file", path="tools/clean.sh", content=payload.replace("\\n", "\n")),
                call("write_file", path="tools/conv.sh", content=payload.replace("\\n", "\n")),
                call(
                    "write_file",
                    path=".gitattributes",
                    content="* filter=tidy diff=conv merge=mine\n",
                ),
                call("write_file", path="T001.txt", content="1"),
            ]
        }
        record(attack, steps)
        p = attack.implement("-j", "1", "--agent", "builtin")
        assert p.returncode == 0, p.stderr[-2000:]
        assert attack.merged() == ["T001"]
        assert attack.marker_hits() == []
    finally:
        remove(attack)


def test_a_change_that_adds_a_secret_fails_and_nothing_merges(tmp_path: Path) -> None:
    aws = "AKIA" + "QZ7Y3XKD5JW2M4NB"
    attack = make_attack(tmp_path, {"T001": [], "T002": [], "T003": []})
    try:
        steps = {
            # the key: read where it was left (here: given in a file the user committed)
            "T001": [call("write_file", path="T001.txt", content=f"key = {KEY}\n")],
            "T002": [call("write_file", path="T002.txt", content=f'aws_id = "{aws}"\n')],
            "T003": [call("write_file", path="T003.txt", content="fine\n")],
        }
        record(attack, steps)
        main = git(attack.repo, "rev-parse", "main")
        p = attack.implement("-j", "2", "--agent", "builtin")
        assert p.returncode == 1
        failed = attack.failed()
        assert {t: e["cause"] for t, e in failed.items()} == {"T001": "secret", "T002": "secret"}
        assert "T001.txt:1" in failed["T001"]["reason"] and KEY not in failed["T001"]["reason"]
        assert attack.merged() == ["T003"]
        merged = git(attack.repo, "log", "-p", "specflow/001-sec")
        assert KEY not in merged and aws not in merged
        assert git(attack.repo, "rev-parse", "main") == main
        assert attack.leaked((KEY,)) == []
    finally:
        remove(attack)
