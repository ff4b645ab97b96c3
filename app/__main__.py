"""`python -m app` runs the Crosswalk command line."""

from app.cli import main

if __name__ == "__main__":
    main()
