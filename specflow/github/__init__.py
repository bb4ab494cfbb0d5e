"""GitHub out: tasks as issues (`specflow export github`) and the integration branch as a pull
request (`implement --pr`), both through the `gh` CLI. Nothing here imports at CLI start-up."""
