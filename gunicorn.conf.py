"""gunicorn's settings for vendorrisk, read when gunicorn runs in the project folder.

The access and error logs leave out the tokens of the portal's emailed links (see
vendorrisk/gunicorn_logging.py); everything else is given on the command line (README).
"""

logger_class = "vendorrisk.gunicorn_logging.Logger"
