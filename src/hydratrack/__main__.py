from hydratrack.cli import main

main()
