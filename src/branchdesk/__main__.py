from branchdesk.cli import main

main()
