"""The `cpb` command line: a user interface over `shared`, like the web app."""
