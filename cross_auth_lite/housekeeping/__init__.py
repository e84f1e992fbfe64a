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

from cross_auth_lite.moved import moved_names

# What the module this package replaced exported: still there, with a warning.
_SETTINGS = "cross_auth_lite.housekeeping.settings"
__getattr__ = moved_names(
    __name__,
    {
        "DEFAULT_FIRST_DELAY": (_SETTINGS, f"{_SETTINGS}.DEFAULT_FIRST_DELAY"),
        "DEFAULT_HOUSEKEEPING_INTERVAL": (
            _SETTINGS,
            "cross_auth_lite.admin.DEFAULT_HOUSEKEEPING_INTERVAL",
        ),
        "HousekeepingResult": (_SETTINGS, "cross_auth_lite.admin.HousekeepingResult"),
        "HousekeepingSettings": (_SETTINGS, "cross_auth_lite.HousekeepingSettings"),
        "Housekeeper": (
            "cross_auth_lite.housekeeping.housekeeper",
            "cross_auth_lite.admin.Housekeeper",
        ),
        "last_housekeeping": (
            "cross_auth_lite.housekeeping.lease",
            "cross_auth_lite.admin.last_housekeeping",
        ),
        "reclaimable_bytes": (
            "cross_auth_lite.housekeeping.steps",
            "cross_auth_lite.admin.reclaimable_bytes",
        ),
    },
)
