"""Log-in pages and the admin's user pages."""
from __future__ import annotations

import time

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from casemgmt.access import requires
from casemgmt.accounts import services
from casemgmt.accounts.forms import ActionForm, ChangePasswordForm, LoginForm, NewUserForm, ResetPasswordForm, UserForm
from casemgmt.accounts.models import User
from casemgmt.codes import ROLES
from casemgmt.directory.services import list_organisations
from casemgmt.errors import InvalidCredentials, LockedOut, StaleVersion, ValidationFailed
from casemgmt.extensions import db, limiter
from casemgmt.forms import refused, safe_next, show_current_version

bp = Blueprint("accounts", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.username.data, form.password.data)
        except LockedOut as exc:
            refused(exc)
            form.form_errors.append(exc.message)
        except InvalidCredentials as exc:
            refused(exc)
            form.form_errors.append(exc.message)
        else:
            target = safe_next(request.args.get("next"), url_for("home.index"))
            if user.totp_secret:
                # The password was right; the second factor decides.
                session["pending_2fa"] = {"uid": user.id, "epoch": user.session_epoch, "at": time.time(),
                                          "next": target}
                return redirect(url_for("accounts.login_code"))
            _start_session(user)
            return redirect(target)
    status = 200 if not form.errors and not form.form_errors else 422
    return render_template("accounts/login.html", form=form), status


def _start_session(user) -> None:
    lang = user.language or session.get("lang")  # the user's own language wins over the log-in page's
    session.clear()  # no session fixation: a fresh session for the logged-in user
    if lang:
        session["lang"] = lang
    session["sid"] = services.start_session(user)  # the server-side session (security.load_user)
    login_user(user)
    session.permanent = True
    session["seen"] = time.time()


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login_code():
    from casemgmt.accounts.forms import CodeForm

    pending = session.get("pending_2fa")
    user = db.session.get(User, pending["uid"]) if pending else None
    if (user is None or not user.active or user.session_epoch != pending["epoch"]
            or time.time() - pending["at"] > 300):
        session.pop("pending_2fa", None)
        flash(_("Log in again."), "warning")
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            services.verify_second_factor(user, form.code.data)
        except (LockedOut, InvalidCredentials) as exc:
            refused(exc)
            form.code.errors = [exc.message]
        else:
            target = pending["next"]
            _start_session(user)
            return redirect(target)
    return render_template("accounts/login_code.html", form=form), 422 if form.errors else 200


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor():
    from casemgmt.accounts import twofactor
    from casemgmt.accounts.forms import CodeForm

    secret = session.get("totp_pending") or twofactor.new_secret()
    session["totp_pending"] = secret
    form = CodeForm()
    if form.validate_on_submit():
        try:
            twofactor.enrol(current_user, secret, form.code.data)
        except ValidationFailed as exc:
            refused(exc)
            form.code.errors = exc.errors["code"]
        else:
            session.pop("totp_pending", None)
            flash(_("Two-factor log-in is on."), "success")
            return redirect(url_for("home.index"))
    return render_template("accounts/two_factor.html", form=form, secret=secret,
                           uri=twofactor.provisioning_uri(current_user, secret)), 422 if form.errors else 200


@bp.post("/admin/users/<int:user_id>/two-factor-reset")
@requires("users.manage")
def reset_two_factor(user_id: int):
    from casemgmt.accounts.twofactor import reset

    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    reset(user, current_user)
    flash(_("Two-factor log-in of %(name)s is off; they enrol again at the next log-in.", name=user.username),
          "success")
    return redirect(url_for("accounts.edit_user", user_id=user.id))


@bp.post("/logout")
@login_required
def logout():
    from flask import g

    lang = session.get("lang")
    if g.get("user_session") is not None:
        services.end_session(g.user_session, "logout")  # every copy of the cookie is out too
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            user = current_user._get_current_object()
            services.set_password(user, form.password.data, user, current_password=form.current_password.data)
        except ValidationFailed as exc:
            refused(exc, form)
        else:
            _start_session(user)  # every other session and token of the user ended with the old password
            flash(_("Your password is changed."), "success")
            return redirect(url_for("home.index"))
    return render_template("accounts/change_password.html", form=form), 422 if form.errors else 200


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """The user's own e-mail, phone and language."""
    from casemgmt.accounts.forms import ContactForm

    user = current_user._get_current_object()
    form = ContactForm(obj=user)
    if request.method == "GET":
        form.language.data = user.language or ""
    if form.validate_on_submit():
        try:
            services.update_contact(user, {"email": form.email.data, "phone": form.phone.data,
                                           "language": form.language.data or None}, user)
        except ValidationFailed as exc:
            refused(exc, form)
        else:
            if user.language:
                session["lang"] = user.language
            flash(_("Your account is saved."), "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", form=form, user=user), 422 if form.errors else 200


# ---- admin: users ---------------------------------------------------------------------------

def _organisation_choices():
    return [SelectChoice("", _("(none)"))] + [SelectChoice(str(o.id), o.name)
                                             for o in list_organisations(active_only=False)]


def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.get("/admin/users")
@requires("users.manage")
def users():
    query = select(User).options(selectinload(User.organisation)).order_by(User.role, User.username)
    text = (request.args.get("q") or "").strip()
    if text:
        like = f"%{text.lower()}%"
        query = query.where(or_(User.username.like(like), User.full_name.ilike(like)))
    role = request.args.get("role")
    if role in ROLES:
        query = query.where(User.role == role)
    rows = list(db.session.scalars(query.limit(500)))
    return render_template("accounts/users.html", users=rows, q=text, role=role,
                           held_back=services.held_back_users(rows))


def _user_data(form: UserForm) -> dict:
    return {
        "username": form.username.data,
        "full_name": form.full_name.data,
        "sex": form.sex.data,
        "role": form.role.data,
        "organisation_id": form.organisation_id.data,
        "area_code": (form.area_code.data or "").strip() or None,
        "email": form.email.data,
        "phone": form.phone.data,
        "active": form.active.data,
    }


@bp.route("/admin/users/new", methods=["GET", "POST"])
@requires("users.manage")
def new_user():
    form = NewUserForm()
    form.organisation_id.choices = _organisation_choices()
    if form.validate_on_submit():
        try:
            user = services.create_user(_user_data(form), form.password.data, current_user, must_change=True)
        except ValidationFailed as exc:
            refused(exc, form)
        else:
            flash(_("User %(name)s created. They choose their own password at the first log-in.",
                    name=user.username), "success")
            return redirect(url_for("accounts.edit_user", user_id=user.id))
    return render_template("accounts/user_form.html", form=form, user=None), 422 if form.errors else 200


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@requires("users.manage")
def edit_user(user_id: int):
    user = _user_or_404(user_id)
    form = UserForm(obj=user if request.method == "GET" else None)
    form.organisation_id.choices = _organisation_choices()
    conflict = False
    if form.validate_on_submit():
        try:
            services.update_user(user, _user_data(form), form.version.data or 0, current_user)
        except StaleVersion as exc:
            refused(exc)
            conflict = True
            form.form_errors.append(exc.message)
            # The page now shows their values beside ours; saving again is a deliberate overwrite.
            show_current_version(form.version, user.version)
        except ValidationFailed as exc:
            refused(exc, form)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("accounts.edit_user", user_id=user.id))
    status = 409 if conflict else (422 if form.errors or form.form_errors else 200)
    return render_template("accounts/user_form.html", form=form, user=user, action_form=ActionForm(),
                           reset_form=ResetPasswordForm(), current=user if conflict else None,
                           held_back=services.held_back_until(user),
                           open_cases=services.open_cases_held(user) if user.active else 0), status


@bp.post("/admin/users/<int:user_id>/password")
@requires("users.manage")
def reset_password(user_id: int):
    user = _user_or_404(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password(user, form.password.data, current_user, temporary=True)
        except ValidationFailed as exc:
            refused(exc, form)
        else:
            flash(_("Password reset. %(name)s must choose a new one at the next log-in.", name=user.username),
                  "success")
            return redirect(url_for("accounts.edit_user", user_id=user.id))
    edit_form = UserForm(obj=user)
    edit_form.organisation_id.choices = _organisation_choices()
    return render_template("accounts/user_form.html", form=edit_form, user=user, action_form=ActionForm(),
                           reset_form=form, held_back=services.held_back_until(user),
                           open_cases=services.open_cases_held(user) if user.active else 0), 422


@bp.post("/admin/users/<int:user_id>/active")
@requires("users.manage")
def toggle_active(user_id: int):
    user = _user_or_404(user_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.set_active(user, not user.active, form.version.data or 0, current_user)
    except StaleVersion as exc:
        refused(exc)
        flash(exc.message, "danger")
    except ValidationFailed as exc:
        refused(exc)
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "danger")
    else:
        flash(_("%(name)s can log in again.", name=user.username) if user.active
              else _("%(name)s is disabled and logged out everywhere.", name=user.username), "success")
    return redirect(url_for("accounts.edit_user", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/unlock")
@requires("users.manage")
def unlock(user_id: int):
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.unlock(user, current_user)
    flash(_("%(name)s is unlocked.", name=user.username), "success")
    return redirect(url_for("accounts.edit_user", user_id=user.id))
