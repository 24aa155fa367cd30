{# casemgmt service worker, written by hand rather than with Workbox: it does three things (keep
   the app's files, keep two pages that hold no child's data, wake the outbox), which take some
   sixty lines here against Workbox's runtime and build step, and each line can be read against
   the rule "no child's data in the phone's caches". Served at /sw.js so that it controls every page. #}
"use strict";
var CACHE = "casemgmt-{{ version }}";
var ASSETS = {{ assets|tojson }};
{# Pages kept for use without a signal: the complaint form and the outbox, which carry no child's
   data (the outbox's content is the phone's, encrypted). Every other page is never kept. #}
var PAGES = {{ pages|tojson }};
{# What a page may ask to keep for its user ("keep"): those pages and their scripts. #}
var KEEPABLE = {{ keepable|tojson }};
var FALLBACK = {{ fallback|tojson }};

{# What is missing of the files and pages (a page that put its own copy is not fetched again). #}
function keepMissing(cache, wanted) {
  return Promise.all(ASSETS.concat(wanted.filter(function (u) { return KEEPABLE.indexOf(u) >= 0; })).map(function (url) {
    return cache.match(url).then(function (hit) {
      if (hit) { return; }
      return fetch(url, {credentials: "same-origin", redirect: "manual"}).then(function (r) {
        if (r.status !== 200) { return; }
        var headers = {"Content-Type": r.headers.get("Content-Type")};
        return r.blob().then(function (body) { return cache.put(url, new Response(body, {headers: headers})); });
      });
    }).catch(function () {});
  }));
}

{# The pages need the session and differ by role: the pages ask for theirs ("keep"). #}
self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(ASSETS);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n !== CACHE; }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request).then(function (hit) { return hit || fetch(request); }));
    return;
  }
  if (request.mode !== "navigate") { return; }
  var kept = PAGES.indexOf(url.pathname) >= 0;
  event.respondWith(fetch(request).then(function (response) {
    {# A fresh copy of a kept page replaces the old one (a log-in page in its place is not kept).
       Put once read whole: a put still streaming when the signal goes would leave no copy at all. #}
    if (kept && response.status === 200 && !response.redirected) {
      var headers = {"Content-Type": response.headers.get("Content-Type")};
      response.clone().blob().then(function (body) {
        return caches.open(CACHE).then(function (cache) { return cache.put(url.pathname, new Response(body, {headers: headers})); });
      }).catch(function () {});
    }
    return response;
  }, function () {
    return caches.match(kept ? url.pathname : FALLBACK).then(function (hit) {
      return hit || caches.match(FALLBACK) || Response.error();
    });
  }));
});

{# Background Sync: the pages hold the key to the outbox, so the worker asks an open one to send it. #}
self.addEventListener("sync", function (event) {
  if (event.tag !== "outbox") { return; }
  event.waitUntil(self.clients.matchAll({type: "window"}).then(function (clients) {
    clients.forEach(function (client) { client.postMessage("sync"); });
  }));
});

self.addEventListener("message", function (event) {
  {# A page opened while the worker was installing stays uncontrolled (its reload without a signal
     would fail) unless claimed after it appeared. #}
  if (event.data === "claim") { event.waitUntil(self.clients.claim()); }
  if (event.data && event.data.keep) {
    event.waitUntil(caches.open(CACHE).then(function (cache) { return keepMissing(cache, event.data.keep); }));
  }
});

{# Web Push (notify/push.py): a title, a text and a link; a tap opens the link's path on this
   origin, in an open window of the app when there is one. Template comments are not sent. #}
self.addEventListener("push", function (event) {
  var d = {};
  try { d = event.data.json(); } catch (e) {}
  event.waitUntil(self.registration.showNotification(d.title || "casemgmt", {body: d.body || "", data: d.link || "/", icon: {{ icon|tojson }}}));
});

{# The window is focused at once, while the tap lets the worker do so (the allowance is short and
   a page's load on a weak signal can outlast it), and navigated whether or not the focus was
   allowed: the navigation needs no tap. A window without this worker (navigate refuses it) or
   none at all: a new one. #}
self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var u = new URL(event.notification.data || "/", self.location.origin), o = self.location.origin;
  u = o + u.pathname + u.search + u.hash;
  function focus(c) { return c.focus().catch(function () {}); }
  event.waitUntil(self.clients.matchAll({type: "window", includeUncontrolled: true}).then(function (cs) {
    cs = cs.filter(function (c) { return c.url.indexOf(o + "/") === 0; });
    var same = cs.filter(function (c) { return c.url === u; })[0];
    if (same) { return focus(same); }
    if (!cs.length) { return self.clients.openWindow(u); }
    var focused = focus(cs[0]);
    return cs[0].navigate(u).then(function (c) { return c ? focused : self.clients.openWindow(u); },
                                  function () { return self.clients.openWindow(u); });
  }));
});
