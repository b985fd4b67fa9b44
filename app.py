"""Browser chat about the article, or a text of your own: ``python app.py [--host H] [--port P] [--corpus PATH ...]``.

A thin entry point; the app's code is :mod:`qa.frontends.app` (in the package, installed with the ``[app]`` extra).
"""

from qa.frontends.app.server import main

if __name__ == "__main__":
    main()
