"""`specflow mcp`: an MCP server over stdio, so an MCP client (Claude Code, Cursor, VS Code)
can drive the pipeline while specflow keeps the graph, the checks and the record.

Nothing here imports the `mcp` SDK at package import time; `specflow.mcp.server` does, and only
the `mcp` command imports that. (Inside this package `import mcp` still means the SDK: imports
are absolute, and this package is `specflow.mcp`.)
"""
