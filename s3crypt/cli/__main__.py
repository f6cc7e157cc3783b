"""``python -m s3crypt.cli``."""

from s3crypt.cli.app import main

raise SystemExit(main())
