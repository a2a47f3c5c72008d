from hub.roles.cli import main

main()
