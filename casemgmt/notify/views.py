"""Notification pages: the bell's list, a person's preferences, the admin's delivery log."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casemgmt import paging
from casemgmt.access import requires
from casemgmt.errors import ServiceError
from casemgmt.forms import refused
from casemgmt.notify import services
from casemgmt.notify.messages import in_app_text, language_of
from casemgmt.notify.models import CHANNEL_MODES, DELIVERY_STATUSES

bp = Blueprint("notify", __name__)


@bp.app_template_global()
def unread_notification_count() -> int:
    """The bell's number: one COUNT over the (user_id, read_at) index."""
    if not current_user.is_authenticated:
        return 0
    return services.unread_count(current_user)


@bp.app_template_global()
def notification_text(notification) -> str:
    from flask_babel import get_locale

    return in_app_text(notification, str(get_locale() or language_of(current_user)))


@bp.get("/notifications")
@login_required
def index():
    unread = request.args.get("unread") == "1"
    (items, next_cursor), cursor = paging.or_first_page(
        lambda cursor: services.notifications_of(current_user, unread=unread, cursor=cursor),
        request.args.get("cursor"))
    return render_template("notify/index.html", items=items, next_cursor=next_cursor, cursor=cursor, unread=unread)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    notification = services.notification_or_404(current_user, notification_id)
    services.mark_read(notification, current_user)
    return redirect(notification.link or url_for("notify.index"))


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def preferences():
    if request.method == "POST":
        changes = {channel: request.form.get(channel) for channel in CHANNEL_MODES if channel in request.form}
        try:
            services.set_preferences(current_user, changes)
        except ServiceError as exc:
            flash(refused(exc), "danger")
            return render_template("notify/preferences.html", prefs={**services.preferences(current_user),
                                                                     **changes}, modes=CHANNEL_MODES), 422
        flash(_("Your notification preferences are saved."), "success")
        return redirect(url_for("notify.preferences"))
    return render_template("notify/preferences.html", prefs=services.preferences(current_user),
                           modes=CHANNEL_MODES)


@bp.get("/admin/notifications")
@requires("notifications.log")
def delivery_log():
    status = request.args.get("status")
    (rows, next_cursor), cursor = paging.or_first_page(
        lambda cursor: services.delivery_log(status=status, cursor=cursor), request.args.get("cursor"))
    return render_template("notify/log.html", rows=rows, next_cursor=next_cursor, cursor=cursor, status=status,
                           statuses=DELIVERY_STATUSES)
