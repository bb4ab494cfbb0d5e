"""A thin typed wrapper over the `git` command line.

Every call is an argument list (never a shell string). Failures raise GitError carrying the
first line of git's stderr, so the CLI can print one useful line.

No call runs a program that repository content chose: hooks and fsmonitor are off everywhere,
and so are the filter, diff and merge drivers the config names (git-lfs aside), read anew
before each call (an agent may add some while it runs).
A `Git` bound to a pool slot (`gitdir` set) trusts nothing the agent could have written: it
names the gitdir and work tree the pool made (the worktree's `.git` file is never read), reads
no global or system config, turns off every setting that runs a program (editor, credential
helpers, external diff, textconv, filter and merge drivers but git-lfs), and runs its `guard`
first (the pool's tamper check).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from specflow.errors import WorkFailed

# Settings for every call: no background gc racing our worktrees, no pager, no signing prompts.
_BASE_CONFIG = (
    *("-c", "gc.auto=0", "-c", "commit.gpgsign=false", "-c", "core.pager=cat"),
    *("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"),
)
# On a slot, on top: nothing that starts a program or reaches out.
_SLOT_CONFIG = tuple(
    arg
    for setting in (
        "diff.external=",
        "credential.helper=",
        "core.askPass=",
        "core.sshCommand=",
        "core.editor=true",
        "sequence.editor=true",
        "core.alternateRefsCommand=",
        "submodule.recurse=false",
        "protocol.allow=never",
        "core.untrackedCache=false",
        "tag.gpgSign=false",
    )
    for arg in ("-c", setting)
)
_SLOT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_EDITOR": "true",
    "GIT_SEQUENCE_EDITOR": "true",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "",
    "SSH_ASKPASS": "",
    "GIT_OPTIONAL_LOCKS": "0",
}
_IDENTITY_ENV = ("GIT_AUTHOR_", "GIT_COMMITTER_")
# Drivers that run a program, by config key: neutralized unless they are git-lfs; and the
# config includes, which make the driver list unknowable from the config files' stat alone.
_DRIVER_KEYS = (
    r"^((filter|diff|merge)\..+\.(clean|smudge|process|textconv|command|driver)"
    r"|include(if\..+)?\.path)$"
)
# driver_overrides() by what `git config` read (Git._config_reads)
_DRIVERS: dict[tuple[object, ...], tuple[str, ...]] = {}
IDENTITY = ("-c", "user.name=specflow", "-c", "user.email=specflow@localhost")
TRAILER_TASK = "Specflow-Task"
TRAILER_RUN = "Specflow-Run"
TRAILER_FEATURE = "Specflow-Feature"


def run_captured(
    argv: list[str],
    cwd: Path,
    *,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """A tool run for its output (git, gh): text captured, stdin only `input` (never the
    terminal), in its own session — Ctrl-C goes to specflow, which stops cleanly; a git cut in
    half leaves locks behind. The exit code is the caller's to judge."""
    return subprocess.run(
        argv,
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="replace",  # a patch of a binary or non-UTF-8 file must not crash us
        input=input,
        env=env,
        timeout=timeout,
        check=False,
        stdin=None if input is not None else subprocess.DEVNULL,
        start_new_session=True,
    )


class GitError(WorkFailed):
    """A git command failed; carries its stderr."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str, stdout: str = "") -> None:
        first = next((ln.strip() for ln in stderr.splitlines() if ln.strip()), "")
        if not first:
            first = next((ln.strip() for ln in stdout.splitlines() if ln.strip()), "")
        super().__init__(f"git {args[0] if args else ''}: {first or f'exit code {returncode}'}")
        self.args_list = list(args)
        self.returncode = returncode
        self.stderr = stderr
        self.stdout = stdout


@dataclass
class Git:
    """git bound to one working directory (the main checkout or a worktree)."""

    cwd: Path
    extra_config: tuple[str, ...] = ()
    env: Mapping[str, str] | None = field(default=None, repr=False)
    gitdir: Path | None = None  # set for pool slots: never discovered from the work tree
    guard: Callable[[], None] | None = field(default=None, repr=False, compare=False)
    _identity: tuple[str, ...] | None = field(default=None, repr=False, compare=False)

    def at(self, cwd: Path) -> Git:
        return Git(cwd, self.extra_config, self.env)

    def for_slot(self, work_tree: Path, gitdir: Path, guard: Callable[[], None]) -> Git:
        """The hardened git for a pool slot (see the module docstring)."""
        config = (*self.extra_config, *self.identity())
        return Git(work_tree, config, None, gitdir, guard)

    def identity(self) -> tuple[str, ...]:
        """The user's name and email (global config included) as `-c` settings, for slots,
        which read no global config. Read once per Git (two processes saved per task start)."""
        if self._identity is None:
            out: list[str] = []
            for key in ("user.name", "user.email"):
                value = self.run("config", key, check=False).stdout.strip()
                if value:
                    out += ["-c", f"{key}={value}"]
            self._identity = tuple(out)
        return self._identity

    def driver_overrides(self) -> tuple[str, ...]:
        """`-c` settings that switch off the filter/diff/merge drivers git would read now (all
        but git-lfs): `.gitattributes` is agent-written, so it must not pick programs to run,
        and an unconfined `cmd:` agent can add drivers to the config while it runs. Read
        before every git call; kept while the config files are unchanged (and include none),
        and shared by every Git that reads the same files the same way: the key is each
        existing config file with its state (a file that does not exist is not read), so the
        slots, which all read the one common config, share one read (a process per task)."""
        reads = self._config_reads()
        known = _DRIVERS.get(reads) if reads is not None else None
        if known is not None:
            return known
        proc = self.run("config", "--get-regexp", _DRIVER_KEYS, check=False)
        out: list[str] = []
        includes = False
        for line in proc.stdout.splitlines():
            key, _, value = line.partition(" ")
            if key.startswith("include"):
                includes = True
                continue
            if key.startswith("filter.") and value.strip().startswith(("git-lfs", "git lfs")):
                continue
            out += ["-c", f"{key}="]
            if key.startswith("filter."):
                out += ["-c", f"{key.rsplit('.', 1)[0]}.required=false"]
        if reads is not None and not includes:
            if len(_DRIVERS) > 256:  # config files rewritten many times: old states go
                _DRIVERS.clear()
            _DRIVERS[reads] = tuple(out)
        return tuple(out)

    def _config_reads(self) -> tuple[object, ...] | None:
        """What `git config` reads here: the config files that exist, each with its state
        (inode, size, mtime: git rewrites a config file by rename, so any change shows), and
        the settings and environment it runs with. None: not known (read every time)."""
        dirs = self._gitdirs()
        if dirs is None:
            return None
        files = [dirs[1] / "config", dirs[0] / "config.worktree"]
        if self.gitdir is None:  # slots read no global or system config
            xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
            files += [
                Path(os.environ.get("GIT_CONFIG_GLOBAL") or os.path.expanduser("~/.gitconfig")),
                Path(xdg) / "git" / "config",
                Path(os.environ.get("GIT_CONFIG_SYSTEM") or "/etc/gitconfig"),
            ]
        state: list[object] = [self.gitdir is None, self.extra_config]
        state.append(tuple(sorted((self.env or {}).items())))
        for f in files:
            try:
                st = os.stat(f)
            except OSError:
                continue
            state.append((os.path.normpath(f), st.st_ino, st.st_size, st.st_mtime_ns))
        return tuple(state)

    def run(
        self,
        *args: str,
        check: bool = True,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> subprocess.CompletedProcess[str]:
        # `git config` runs no driver (and is how the overrides are read)
        drivers = self.driver_overrides() if args and args[0] != "config" else ()
        argv = ["git", *_BASE_CONFIG, *self.extra_config, *drivers, *args]
        full_env: dict[str, str] | None = None
        if self.gitdir is not None:
            if self.guard is not None:
                self.guard()
            argv[1:1] = ["--git-dir", str(self.gitdir), "--work-tree", str(self.cwd)]
            argv[len(argv) - len(args) : len(argv) - len(args)] = _SLOT_CONFIG
            full_env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith("GIT_") or k.startswith(_IDENTITY_ENV)
            }
            full_env.update(_SLOT_ENV)
            full_env.update(env or {})
        elif self.env or env:
            full_env = dict(os.environ)
            full_env.update(self.env or {})
            full_env.update(env or {})
        proc = run_captured(argv, self.cwd, input=input, env=full_env, timeout=timeout)
        if check and proc.returncode != 0:
            raise GitError(args, proc.returncode, proc.stderr, proc.stdout)
        return proc

    def out(
        self, *args: str, input: str | None = None, env: Mapping[str, str] | None = None
    ) -> str:
        return self.run(*args, input=input, env=env).stdout.strip()

    # -- refs ----------------------------------------------------------------------------

    def rev_parse(self, ref: str) -> str | None:
        proc = self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        return proc.stdout.strip() if proc.returncode == 0 else None

    def head(self) -> str:
        return self.read_head() or self.out("rev-parse", "HEAD")

    # Fast paths: the merge loop asks for HEAD and the integration tip several times per task;
    # reading loose refs costs microseconds where spawning git costs milliseconds. Anything
    # unusual (packed refs, reftable, symlinks) falls back to git itself.

    def _gitdirs(self) -> tuple[Path, Path] | None:
        if self.gitdir is not None:  # a slot: its `.git` file is the agent's to write
            try:
                common = Path((self.gitdir / "commondir").read_text().strip())
            except OSError:
                return self.gitdir, self.gitdir
            return self.gitdir, common if common.is_absolute() else (self.gitdir / common)
        dot = self.cwd / ".git"
        try:
            if dot.is_dir():
                return dot, dot
            text = dot.read_text().strip()
        except OSError:
            return None
        if not text.startswith("gitdir:"):
            return None
        gitdir = Path(text[7:].strip())
        gitdir = gitdir if gitdir.is_absolute() else (self.cwd / gitdir)
        try:
            common = Path((gitdir / "commondir").read_text().strip())
        except OSError:
            return gitdir, gitdir
        return gitdir, common if common.is_absolute() else (gitdir / common)

    def read_ref(self, ref: str) -> str | None:
        dirs = self._gitdirs()
        if dirs is None or not ref.startswith("refs/"):
            return None
        try:
            value = (dirs[1] / ref).read_text().strip()
        except OSError:
            return None
        return (
            value
            if len(value) in (40, 64) and all(c in "0123456789abcdef" for c in value)
            else None
        )

    def read_head(self) -> str | None:
        dirs = self._gitdirs()
        if dirs is None:
            return None
        try:
            text = (dirs[0] / "HEAD").read_text().strip()
        except OSError:
            return None
        if text.startswith("ref: "):
            return self.read_ref(text[5:])
        return text if len(text) in (40, 64) else None

    def current_branch(self) -> str | None:
        proc = self.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        return proc.stdout.strip() if proc.returncode == 0 else None

    def update_ref(self, ref: str, new: str, old: str | None = None, *, message: str = "") -> None:
        """Move `ref` to `new`; with `old`, only if it still points there ("" = must not exist)."""
        args = ["update-ref", "-m", message or "specflow", ref, new]
        if old is not None:
            args.append(old)
        self.run(*args)

    def delete_ref(self, ref: str) -> None:
        self.run("update-ref", "-d", ref, check=False)

    def is_ancestor(self, a: str, b: str) -> bool:
        return self.run("merge-base", "--is-ancestor", a, b, check=False).returncode == 0

    def task_trailers(self, ref: str, feature: str) -> list[str]:
        """Task ids of the commits reachable from `ref` that specflow made for `feature`
        (trailers `Specflow-Task:` and `Specflow-Feature:`): what is merged, by git's word."""
        fmt = (
            f"--format=%(trailers:key={TRAILER_FEATURE},valueonly,separator=%x2C)%x09"
            f"%(trailers:key={TRAILER_TASK},valueonly,separator=%x2C)"
        )
        text = self.out("log", "-F", f"--grep={TRAILER_FEATURE}: {feature}", fmt, ref)
        out: list[str] = []
        for line in text.splitlines():
            feat, _, tasks = line.partition("\t")
            if feature in (f.strip() for f in feat.split(",")):
                out.extend(v.strip() for v in tasks.split(",") if v.strip())
        return out

    def has_identity(self) -> bool:
        return bool(self.run("config", "user.email", check=False).stdout.strip())

    def git_path(self, name: str) -> Path:
        p = Path(self.out("rev-parse", "--git-path", name))
        return p if p.is_absolute() else self.cwd / p

    # -- objects (plumbing: no index refresh, no worktree scan) ----------------------------

    def write_tree(self) -> str:
        return self.out("write-tree")

    def tree_of(self, commit: str) -> str:
        return self.out("rev-parse", f"{commit}^{{tree}}")

    def commit_tree(self, tree: str, parent: str, message: str) -> str:
        return self.out("commit-tree", tree, "-p", parent, "-F", "-", input=message)

    def merge_tree(self, onto: str, commit: str) -> tuple[str | None, list[str]] | None:
        """Three-way merge of `commit` onto `onto` without touching any worktree (git >= 2.38).

        Returns (tree, []) when clean, (None, conflicted files) on conflict, None when this git
        has no `merge-tree --write-tree` (the caller falls back to a rebase).
        """
        proc = self.run("merge-tree", "--write-tree", "--name-only", onto, commit, check=False)
        lines = proc.stdout.splitlines()
        if proc.returncode == 0 and lines:
            return lines[0].strip(), []
        if proc.returncode == 1 and lines:
            files: list[str] = []
            for line in lines[1:]:
                if not line.strip():
                    break
                if line not in files:
                    files.append(line)
            return None, files
        return None

    # -- working tree ----------------------------------------------------------------------

    def changed_files(self, base: str) -> list[str]:
        """Files staged relative to `base` (after `add -A`)."""
        text = self.out("diff", "--cached", "--name-only", "--no-renames", base)
        return [ln for ln in text.splitlines() if ln]

    def conflicted_files(self) -> list[str]:
        text = self.out("diff", "--name-only", "--diff-filter=U")
        return [ln for ln in text.splitlines() if ln]

    def toplevel(self) -> Path:
        return Path(self.out("rev-parse", "--show-toplevel"))
