"""Webhooks (admin): subscribe URLs to events, see each one's delivery log, test, rotate the
signing secret (shown once), retry a failed message. Admins change; audit readers read."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from vendorrisk import clock, idempotency
from vendorrisk.access import ADMINS, AUDIT_READERS, access
from vendorrisk.blueprints.admin import bp
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.extensions import db
from vendorrisk.i18n import options
from vendorrisk.i18n.labels import LABELS
from vendorrisk.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEvent,
    WebhookFormat,
    WebhookSubscription,
)
from vendorrisk.services.webhooks import guard, subscriptions
from vendorrisk.vocab import Locale

EVENT_LABELS = {
    WebhookEvent.assessment_submitted.value: _l("A supplier submitted a questionnaire"),
    WebhookEvent.assessment_completed.value: _l("A review was completed"),
    WebhookEvent.supplier_tier_changed.value: _l("A supplier's risk tier changed"),
    WebhookEvent.finding_raised.value: _l("A finding was raised"),
    WebhookEvent.finding_overdue.value: _l("A finding passed its remediation due date"),
    WebhookEvent.attestation_expiring.value: _l("A certification or declaration is expiring"),
}
FORMAT_LABELS = {
    WebhookFormat.standard.value: _l("Standard (signed JSON, Standard Webhooks)"),
    WebhookFormat.slack.value: _l("Slack (incoming webhook)"),
    WebhookFormat.teams.value: _l("Microsoft Teams (incoming webhook)"),
}
DELIVERY_STATUS_LABELS = {
    DeliveryStatus.pending.value: _l("Waiting"),
    DeliveryStatus.delivered.value: _l("Delivered"),
    DeliveryStatus.failed.value: _l("Failed"),
}


class WebhookForm(FlaskForm):
    url = StringField(
        _l("URL"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("https:// and a public address; the receiver answers with a 2xx."),
        filters=[lambda v: v.strip() if v else v],
    )
    description = StringField(_l("Description"), validators=[Length(max=200)])
    events = SelectMultipleField(
        _l("Events"),
        choices=options(list(EVENT_LABELS.items())),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired(message=_l("Choose at least one event."))],
    )
    format = SelectField(_l("Format"), choices=options(list(FORMAT_LABELS.items())))
    locale = SelectField(
        _l("Language of Slack and Teams messages"),
        choices=options([(lc.value, name) for lc, name in LABELS[Locale].items()]),
    )
    active = BooleanField(_l("Active (new events are sent)"), default=True)
    submit = SubmitField(_l("Save"))

    def validate_url(self, field):
        try:
            guard.check(field.data)
        except guard.UnsafeURL as exc:
            raise ValidationError(str(exc)) from None

    def values(self) -> dict:
        """The form's data as the service takes it."""
        return {
            "url": self.url.data,
            "events": self.events.data,
            "fmt": self.format.data,
            "locale": self.locale.data,
            "description": self.description.data or "",
        }


class ActionForm(FlaskForm):
    """A button (CSRF only): test, rotate, pause, delete, retry."""


@bp.route("/webhooks")
@access(read=AUDIT_READERS)
def webhooks_list():
    rows = db.session.scalars(sa.select(WebhookSubscription).order_by(WebhookSubscription.id))
    return render_template(
        "admin/webhooks.html", subscriptions=rows.all(), event_labels=EVENT_LABELS,
        format_labels=FORMAT_LABELS,
    )  # fmt: skip


@bp.route("/webhooks/new", methods=["GET", "POST"])
@access(write=ADMINS)
@fails_to(".webhook_new")  # the URL's addresses changed since the form checked them
def webhook_new():
    form = WebhookForm()
    del form.active
    if form.validate_on_submit():
        made, secret = subscriptions.create(**form.values(), user=current_user)
        return render_template("admin/webhook_secret.html", subscription=made, secret=secret)
    return render_template("admin/webhook_form.html", form=form, subscription=None)


@bp.route("/webhooks/<int:subscription_id>")
@access(read=AUDIT_READERS)
def webhook_detail(subscription_id: int):
    subscription = db.get_or_404(WebhookSubscription, subscription_id)
    stmt = (
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription.id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    )
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template(
        "admin/webhook.html",
        subscription=subscription,
        page=page,
        action_form=ActionForm(),
        event_labels=EVENT_LABELS,
        format_labels=FORMAT_LABELS,
        status_labels=DELIVERY_STATUS_LABELS,
    )


@bp.route("/webhooks/<int:subscription_id>/edit", methods=["GET", "POST"])
@access(write=ADMINS)
@fails_to(".webhook_edit")
def webhook_edit(subscription_id: int):
    subscription = db.get_or_404(WebhookSubscription, subscription_id)
    form = WebhookForm(obj=subscription)
    if request.method == "GET":
        form.format.data = subscription.format.value
    if form.validate_on_submit():
        subscriptions.update(subscription, **form.values(), active=form.active.data)
        flash(_("The changes have been saved."), "success")
        return redirect(url_for(".webhook_detail", subscription_id=subscription.id))
    return render_template("admin/webhook_form.html", form=form, subscription=subscription)


@bp.route("/webhooks/<int:subscription_id>/rotate", methods=["POST"])
@access(write=ADMINS)
@idempotency.exempt  # each copy shows the secret it set: the last one shown is the valid one
def webhook_rotate(subscription_id: int):
    subscription = db.get_or_404(WebhookSubscription, subscription_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for(".webhook_detail", subscription_id=subscription_id))
    secret = subscriptions.rotate_secret(subscription)
    return render_template("admin/webhook_secret.html", subscription=subscription, secret=secret)


@bp.route("/webhooks/<int:subscription_id>/active", methods=["POST"])
@access(write=ADMINS)
def webhook_toggle(subscription_id: int):
    subscription = db.get_or_404(WebhookSubscription, subscription_id)
    if ActionForm().validate_on_submit():
        subscriptions.set_active(subscription, not subscription.active)
        flash(
            _("The webhook is active again.")
            if subscription.active
            else _("The webhook is paused: no new events are sent to it."),
            "success",
        )
    return redirect(url_for(".webhook_detail", subscription_id=subscription_id))


@bp.route("/webhooks/<int:subscription_id>/test", methods=["POST"])
@access(write=ADMINS)
def webhook_test(subscription_id: int):
    subscription = db.get_or_404(WebhookSubscription, subscription_id)
    if ActionForm().validate_on_submit():
        subscriptions.send_test(subscription, current_user, clock.now())
        flash(_("A test message is being sent; its result appears below."), "success")
    return redirect(url_for(".webhook_detail", subscription_id=subscription_id))


@bp.route("/webhooks/<int:subscription_id>/delete", methods=["POST"])
@access(write=ADMINS)
def webhook_delete(subscription_id: int):
    subscription = db.get_or_404(WebhookSubscription, subscription_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for(".webhook_detail", subscription_id=subscription_id))
    subscriptions.delete(subscription)
    flash(_("The webhook and its delivery log have been deleted."), "success")
    return redirect(url_for(".webhooks_list"))


@bp.route("/webhooks/deliveries/<int:delivery_id>/retry", methods=["POST"])
@access(write=ADMINS)
def webhook_retry(delivery_id: int):
    message = db.get_or_404(WebhookDelivery, delivery_id)
    if ActionForm().validate_on_submit():
        if subscriptions.retry(message, clock.now()):
            flash(_("The message is being sent again; its result appears below."), "success")
        else:
            flash(_("Only a message that failed can be sent again."), "error")
    return redirect(url_for(".webhook_detail", subscription_id=message.subscription_id))
