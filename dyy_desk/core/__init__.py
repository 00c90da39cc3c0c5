"""Pure domain: rules, timers, search and sync logic. Never imports Qt, the database or the OS."""
