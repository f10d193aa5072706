"""`python -m dsrkit ...` is the `dsr` command."""

from .cli import main

if __name__ == "__main__":
    main()
