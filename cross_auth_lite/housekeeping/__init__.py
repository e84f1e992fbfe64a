"""Housekeeping: a long-lived store cleans up after itself, with no cron job.

``housekeeper.py`` is the ``Housekeeper``: its thread, one pass, its
logging; ``settings.py`` ``HousekeepingSettings`` and what a pass did;
``steps.py`` the steps of one pass (ended sessions, expired cache rows, free
pages); ``lease.py`` the lease in ``lite_meta`` that lets one process at a
time make a pass, and the record of the last one; ``timer.py`` when a
store's thread starts.

It may import ``cross_auth_lite.database``, ``cross_auth_lite.sessions``,
``cross_auth_lite.cache`` and the foundations.
"""
