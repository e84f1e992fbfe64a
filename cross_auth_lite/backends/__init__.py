"""The server back ends, for when one machine is no longer enough.

``postgres.py`` is PostgreSQL for accounts and sessions
(``LitePostgresqlDatabase``); ``redis_cache.py`` Redis for short-lived
state, through Cross-Auth's own ``RedisStorage``; ``url_checks.py`` a
URL's shape, checked before any driver reads it.

It may import ``cross_auth_lite.database`` and the foundations; psycopg
and redis only when a URL asks for them.
"""
