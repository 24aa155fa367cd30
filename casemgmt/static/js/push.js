// casemgmt: notifications on this phone (Web Push), turned on only when the user presses the
// button. The subscription goes to /api/v1/me/push-subscriptions with the session's CSRF token;
// the service worker (sw.js) shows what arrives and opens its link on a tap.
(function () {
  "use strict";
  var box = document.getElementById("push");
  if (!box || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) { return; }
  var on = box.querySelector("[data-push-on]"), off = box.querySelector("[data-push-off]");
  var state = box.querySelector("[data-state]");
  var token = (document.querySelector('input[name="csrf_token"]') || {}).value || "";
  var key = null;

  function say(name) { state.textContent = box.getAttribute("data-" + name) || ""; }
  function show(subscribed) {
    on.hidden = subscribed;
    off.hidden = !subscribed;
    say(subscribed ? "on" : (Notification.permission === "denied" ? "denied" : "off"));
  }
  function api(method, path, body) {
    return fetch(path, {method: method, credentials: "same-origin", cache: "no-store",
                        headers: {"Content-Type": "application/json", "X-CSRFToken": token,
                                  "Accept-Language": document.documentElement.lang || "id"},
                        body: body === undefined ? undefined : JSON.stringify(body)}).then(function (r) {
      if (r.status >= 400) { throw new Error(String(r.status)); }
      return r.status === 204 ? null : r.json();
    });
  }
  // The VAPID key as pushManager.subscribe wants it: bytes, from base64url.
  function bytes(b64url) {
    var text = atob(b64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((b64url.length + 3) % 4));
    var out = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) { out[i] = text.charCodeAt(i); }
    return out;
  }
  // The worker shows the pushes; pages that work offline register it too, others not (offline.js).
  function ready() {
    return navigator.serviceWorker.register("/sw.js").then(function () { return navigator.serviceWorker.ready; });
  }
  function current() {
    return ready().then(function (r) { return r.pushManager.getSubscription(); });
  }

  on.addEventListener("click", function () {
    on.disabled = true;
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { throw new Error("denied"); }
      return ready();
    }).then(function (r) {
      return r.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: bytes(key)});
    }).then(function (subscription) {
      return api("POST", "/api/v1/me/push-subscriptions", subscription.toJSON());
    }).then(function () { show(true); }, function () { say(Notification.permission === "denied" ? "denied" : "failed"); })
      .then(function () { on.disabled = false; });
  });

  off.addEventListener("click", function () {
    off.disabled = true;
    current().then(function (subscription) {
      if (!subscription) { return; }
      return api("DELETE", "/api/v1/me/push-subscriptions", {endpoint: subscription.endpoint}).then(function () {
        return subscription.unsubscribe();
      });
    }).then(function () { show(false); }, function () { say("failed"); }).then(function () { off.disabled = false; });
  });

  api("GET", "/api/v1/me/push-key").then(function (answer) {
    key = answer && answer.public_key;
    if (!key) { return; }  // this server sends no pushes
    return current().then(function (subscription) {
      box.hidden = false;
      show(Boolean(subscription));
    });
  }).catch(function () {});
})();
