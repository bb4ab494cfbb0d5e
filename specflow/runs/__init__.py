"""What a run leaves on disk and everything that reads it: the event catalogue and log,
run folders and ids, the per-feature lock, task state rebuilt from events, content blobs.

Below the engine, the agents and the observers, which all write or read runs.
"""
