#!/bin/sh
# A minimal `cmd:` agent (docs/agents.md): every variable specflow sets, used once.
#   specflow implement --agent 'cmd:sh examples/agents/note-agent.sh'
# It runs in the task's worktree; whatever it leaves changed there becomes the task's commit.
set -eu
echo "task $SPECFLOW_TASK_ID of $SPECFLOW_FEATURE, attempt $SPECFLOW_ATTEMPT, run $SPECFLOW_RUN_ID"
echo "worktree $SPECFLOW_WORKTREE (cwd $(pwd)), model ${SPECFLOW_MODEL:-none}"
if [ -n "${SPECFLOW_FEEDBACK_FILE:-}" ]; then
    echo "the previous attempt failed:"
    cat "$SPECFLOW_FEEDBACK_FILE"
fi
mkdir -p notes
head -n 1 "$SPECFLOW_TASK_FILE" > "notes/$SPECFLOW_TASK_ID.md"
