"""``casetracker`` / ``python -m casetracker``: Litestar's CLI with our commands."""

from casetracker.cli import main

if __name__ == "__main__":
    main()
