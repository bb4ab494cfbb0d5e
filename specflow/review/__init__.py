"""Review: a second model checks a task's diff before merge (`review_task`), and a finished
integration branch against the whole spec (`review_branch`, `specflow review`)."""
