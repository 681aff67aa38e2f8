from cxport.cli import main

main()
