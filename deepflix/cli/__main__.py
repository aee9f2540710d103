from . import main

main()  # python -m deepflix.cli, as before it was a package
