"""Entry point of ``python -m localcloud.demo`` (see `localcloud.demo`)."""

from localcloud.demo import main

raise SystemExit(main())
