"""`python -m connector`: the operator's command line (check, try, redrive); see connector/cli.py."""

from connector.cli import main

raise SystemExit(main())
