from specflow.cli.main import run

run()
