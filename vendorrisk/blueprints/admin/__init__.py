"""Administration: users and roles, the audit log, webhooks."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from vendorrisk.blueprints.admin import (  # noqa: E402,F401
    routes,
    security,
    service_accounts,
    webhooks,
)
from vendorrisk.blueprints.admin.forms import EditUserForm, NewUserForm  # noqa: E402
from vendorrisk.i18n.audit import field_labels_from  # noqa: E402

field_labels_from(NewUserForm, EditUserForm)
