"""``python -m bench`` (``make bench``): the search benchmark at 10,000 items."""

from bench.search import main

if __name__ == "__main__":
    main()
