"""Opening a store: ``lite.open()`` and the ``LiteStore`` it returns.

``opening.py`` checks the arguments and opens one back end of each kind;
``lite_store.py`` is the ``LiteStore``; ``location.py`` its directory,
found, created or laid out; ``template.py`` the template new stores are
copied from; ``token_keys.py`` the token key recorded when a store opens.

It may import every package below it: ``database``, ``accounts``,
``sessions``, ``cache``, ``housekeeping``, ``backends`` and the foundations.
"""
