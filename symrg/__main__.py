from symrg.cli import main

raise SystemExit(main())
