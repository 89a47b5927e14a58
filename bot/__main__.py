from beacon.bot.cli import main

raise SystemExit(main())
