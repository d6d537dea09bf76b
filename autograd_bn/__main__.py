"""``python -m autograd_bn`` runs the command line."""

from autograd_bn.cli import main

raise SystemExit(main())
