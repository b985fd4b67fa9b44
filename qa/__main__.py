import sys

from qa.frontends.cli import main

sys.exit(main())
