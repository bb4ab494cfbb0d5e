"""The CLI agents users already run: Claude Code, Codex CLI, Gemini CLI and Aider, driven
headless in the task's worktree. One module per CLI; `base` holds what they share."""

CLI_AGENTS: dict[str, str] = {
    "claude": "specflow.agents.clis.claude:ClaudeAgent",
    "codex": "specflow.agents.clis.codex:CodexAgent",
    "gemini": "specflow.agents.clis.gemini:GeminiAgent",
    "aider": "specflow.agents.clis.aider:AiderAgent",
}
