"""The frozen executable's entry point: the same `crosswalk` command line and TUI."""

from app.cli import main

if __name__ == "__main__":
    main()
