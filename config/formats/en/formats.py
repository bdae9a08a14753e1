"""English date formats with the time zone shown (settings.FORMAT_MODULE_PATH).

Django's own en formats leave the zone out; every time in this product is shown in the
agency's zone (settings.TIME_ZONE) and says which zone that is.
"""

DATETIME_FORMAT = "Y-m-d H:i:s T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i:s"
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%dT%H:%M:%S",  # datetime-local inputs
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
]
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]
FIRST_DAY_OF_WEEK = 0
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
