"""Piccolo's configuration module (found through PICCOLO_CONF, set in casetracker/__init__)."""

from piccolo.conf.apps import AppRegistry

from casetracker.db import APP_MODULES, make_engine
from casetracker.settings import get_settings

DB = make_engine(get_settings())

APP_REGISTRY = AppRegistry(apps=list(APP_MODULES))
