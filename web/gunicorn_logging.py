"""Gunicorn's logger class (web/gunicorn_conf.py's `logger_class`): an access line carries the
request's id and user, which web/request_log.py left in the WSGI environ, since gunicorn writes
it once the request is over. The lines' format is gunicorn's `logconfig_dict`, built by
shared/core/logs.py."""

import logging
from typing import Any

from gunicorn.glogging import Logger

from shared.core.logs import bound
from web.request_log import ENVIRON_REQUEST_ID, ENVIRON_USER


class RequestLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        logging.captureWarnings(True)  # a warning is a line like the rest, not printed text

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        # With a `logconfig_dict` gunicorn would always log access; only CPB_ACCESS_LOG asks to.
        if not self.cfg.accesslog:
            return
        with bound(requestId=environ.get(ENVIRON_REQUEST_ID), user=environ.get(ENVIRON_USER)):
            super().access(resp, req, environ, request_time)
