"""`specflow lint`: deterministic rules over spec.md, with line-precise findings.

No model is involved: the same spec gives the same findings everywhere, so the linter can be a
CI gate. `rules` is the catalogue, `document` finds requirements, criteria and scenarios in any
Markdown layout, `checks` applies the rules, `words` loads the word lists, `output` renders
text, JSON, GitHub annotations and SARIF, and `run` ties them to a project's configuration.
"""
