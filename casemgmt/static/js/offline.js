// casemgmt offline: what a phone keeps without a signal (complaints recorded offline, their outbox)
// and how it is sent once the signal returns. Everything kept is encrypted (AES-GCM) with a key
// that only the user's password opens (PBKDF2); the key itself lives in this tab's
// sessionStorage while the user is unlocked, never in IndexedDB in clear.
(function () {
  "use strict";
  var DB_NAME = "casemgmt", ITERATIONS = 600000, MAX_TRIES = 6;
  var KEY_SLOT = "casemgmt-key", PENDING_SLOT = "casemgmt-pending";
  var enc = new TextEncoder(), dec = new TextDecoder(), subtle = window.crypto && crypto.subtle;
  var meta = document.querySelector('meta[name="app-user"]');
  var controlled = !!(navigator.serviceWorker && navigator.serviceWorker.controller);
  var user = meta ? meta.content : null;
  var text = meta ? JSON.parse(meta.getAttribute("data-text")) : {};
  if (!subtle || !window.indexedDB) { return; }

  // ---- storage ---------------------------------------------------------------------------------
  var opened = null;
  function db() {
    if (!opened) {
      opened = new Promise(function (resolve, reject) {
        var r = indexedDB.open(DB_NAME, 1);
        r.onupgradeneeded = function () {
          r.result.createObjectStore("vault", {keyPath: "user"});
          r.result.createObjectStore("outbox", {keyPath: "id"}).createIndex("user", "user");
        };
        r.onsuccess = function () { resolve(r.result); };
        r.onerror = function () { reject(r.error); };
      });
    }
    return opened;
  }
  function run(store, mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var tx = d.transaction(store, mode), out;
        var r = work(tx.objectStore(store));
        if (r) { r.onsuccess = function () { out = r.result; }; }
        tx.oncomplete = function () { resolve(out); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  function get(store, key) { return run(store, "readonly", function (s) { return s.get(key); }); }
  function put(store, value) { return run(store, "readwrite", function (s) { return s.put(value); }); }
  function del(store, key) { return run(store, "readwrite", function (s) { return s.delete(key); }); }
  function mine() {
    return run("outbox", "readonly", function (s) { return s.index("user").getAll(user); })
      .then(function (items) { return (items || []).sort(function (a, b) { return a.seq - b.seq; }); });
  }

  // ---- keys --------------------------------------------------------------------------------------
  function b64(bytes) { return btoa(String.fromCharCode.apply(null, new Uint8Array(bytes))); }
  function unb64(s) { return Uint8Array.from(atob(s), function (c) { return c.charCodeAt(0); }); }
  function random(n) { return crypto.getRandomValues(new Uint8Array(n)); }
  function aes(raw) { return subtle.importKey("raw", raw, "AES-GCM", true, ["encrypt", "decrypt"]); }
  function kekBits(password, salt) {
    return subtle.importKey("raw", enc.encode(password), "PBKDF2", false, ["deriveBits"]).then(function (k) {
      return subtle.deriveBits({name: "PBKDF2", hash: "SHA-256", salt: salt, iterations: ITERATIONS}, k, 256);
    });
  }
  function seal(key, value) {
    var iv = random(12);
    return subtle.encrypt({name: "AES-GCM", iv: iv}, key, enc.encode(JSON.stringify(value)))
      .then(function (c) { return {iv: b64(iv), data: b64(c)}; });
  }
  function open(key, box) {
    return subtle.decrypt({name: "AES-GCM", iv: unb64(box.iv)}, key, unb64(box.data))
      .then(function (p) { return JSON.parse(dec.decode(p)); });
  }
  function key() {
    var raw = sessionStorage.getItem(KEY_SLOT);
    return raw ? aes(unb64(raw)) : Promise.resolve(null);
  }
  // Opens the user's vault with the password's key (bits), making one on first use.
  function unlock(name, bits) {
    return Promise.all([get("vault", name), aes(bits)]).then(function (found) {
      var vault = found[0], kek = found[1];
      if (!vault) {
        var dek = random(32);
        return seal(kek, b64(dek)).then(function (wrapped) {
          return put("vault", {user: name, salt: sessionStorage.getItem(PENDING_SLOT + "-salt"), tries: 0,
                               key: wrapped});
        }).then(function () { return dek; });
      }
      return open(kek, vault.key).then(function (raw) {
        vault.tries = 0;
        return put("vault", vault).then(function () { return unb64(raw); });
      });
    }).then(function (dek) { sessionStorage.setItem(KEY_SLOT, b64(dek)); });
  }
  function saltFor(name) {
    return get("vault", name).then(function (v) { return v ? unb64(v.salt) : random(16); });
  }

  // Log-in: the password's key is derived before the form leaves, kept for the next page only.
  var login = document.querySelector("form input#password");
  if (login && !user) {
    var form = login.form, derived = false;
    form.addEventListener("submit", function (event) {
      if (derived) { return; }
      event.preventDefault();
      var name = form.querySelector("#username").value.trim();
      saltFor(name).then(function (salt) {
        sessionStorage.setItem(PENDING_SLOT + "-salt", b64(salt));
        return kekBits(login.value, salt);
      }).then(function (bits) {
        sessionStorage.setItem(PENDING_SLOT, JSON.stringify({user: name, bits: b64(bits)}));
      }).catch(function () {}).then(function () { derived = true; form.submit(); });
    });
    return;
  }
  if (!user) { return; }

  function settle() {
    var pending = JSON.parse(sessionStorage.getItem(PENDING_SLOT) || "null");
    if (!pending || pending.user !== user) {
      sessionStorage.removeItem(PENDING_SLOT);
      return Promise.resolve();
    }
    // Kept until the vault is open: a page left at once leaves the next one to finish.
    return unlock(user, unb64(pending.bits)).catch(function () {
      // The vault was made with a password since changed: kept for the old one if anything waits.
      return mine().then(function (items) {
        if (!items.length) { return del("vault", user).then(function () { return unlock(user, unb64(pending.bits)); }); }
      });
    }).then(function () {
      sessionStorage.removeItem(PENDING_SLOT);
      sessionStorage.removeItem(PENDING_SLOT + "-salt");
    });
  }

  // ---- the outbox ------------------------------------------------------------------------------
  function uuid() {
    if (crypto.randomUUID) { return crypto.randomUUID(); }
    var h = Array.prototype.map.call(random(16), function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-4" + h.slice(13, 16) + "-a" + h.slice(17, 20) + "-" + h.slice(20, 32);
  }
  // An item: id (its Idempotency-Key, made when it was recorded), user, state; the rest sealed.
  // extra: {method: "PATCH", label: "what the outbox page calls it"}; a PATCH carries the version
  // its change was made on, the others recorded_at.
  function record(kind, url, body, id, extra) {
    extra = extra || {};
    return key().then(function (k) {
      if (!k) { throw new Error("locked"); }
      var item = {id: id || uuid(), user: user, state: "pending", seq: Date.now()};
      if (!extra.method) { body.recorded_at = body.recorded_at || new Date().toISOString(); }
      return seal(k, {kind: kind, url: url, body: body, error: null, method: extra.method || "POST",
                      label: extra.label || null}).then(function (box) {
        item.box = box;
        return put("outbox", item);
      }).then(function () { return item.id; });
    }).then(function (id) {
      badge();
      if (navigator.serviceWorker && window.SyncManager) {
        navigator.serviceWorker.ready.then(function (r) { return r.sync.register("outbox"); }).catch(function () {});
      }
      return id;
    });
  }

  var syncing = null, retry = null, loginNeeded = false;
  function csrf() {
    return fetch("/app/session", {credentials: "same-origin", redirect: "manual", cache: "no-store"})
      .then(function (r) {
        if (r.status !== 200) { var e = new Error("login"); e.login = true; throw e; }
        return r.json();
      }).then(function (j) { return j.csrf_token; });
  }
  function messageOf(answer) {
    var error = (answer && answer.error) || {}, fields = (error.details || {}).fields || {};
    var parts = Object.keys(fields).map(function (f) { return [].concat(fields[f]).join(" "); });
    return parts.length ? parts.join(" ") : (error.message || "");
  }
  // A field of a case body by its PATCH name: "child.address", "urgent".
  function valueAt(body, field) {
    return field.split(".").reduce(function (v, part) { return v === null || v === undefined ? v : v[part]; }, body);
  }
  function fieldsOf(body) {
    var out = [];
    Object.keys(body).forEach(function (k) {
      if (k === "version") { return; }
      if (body[k] && typeof body[k] === "object" && !Array.isArray(body[k])) {
        Object.keys(body[k]).forEach(function (f) { out.push(k + "." + f); });
      } else { out.push(k); }
    });
    return out;
  }
  function same(a, b) { return JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b); }
  function drop(body, field) {
    var parts = field.split(".");
    if (parts.length === 2) { delete body[parts[0]][parts[1]]; } else { delete body[field]; }
  }
  // An edit made on an older version: fields nobody else changed are sent again on the current
  // version without asking; a field changed on both sides waits for the worker's choice.
  function reconcile(k, item, content, details) {
    var current = details.current || {}, changed = details.changed_fields || [];
    var mine = fieldsOf(content.body);
    mine.forEach(function (f) { if (changed.indexOf(f) >= 0 && same(valueAt(current, f), valueAt(content.body, f))) { drop(content.body, f); } });
    mine = fieldsOf(content.body);
    if (!mine.length) { return del("outbox", item.id).then(function () { return "sent"; }); }
    content.body.version = current.version;
    var both = mine.filter(function (f) { return changed.indexOf(f) >= 0; });
    if (!both.length) { return Promise.resolve("again"); }
    content.conflict = both.map(function (f) { return {field: f, server: valueAt(current, f), phone: valueAt(content.body, f)}; });
    return seal(k, content).then(function (box) {
      item.box = box;
      item.state = "conflict";
      return put("outbox", item);
    }).then(function () { return "conflict"; });
  }
  function sendOne(k, token, item, again) {
    return open(k, item.box).then(function (content) {
      return fetch(content.url, {method: content.method || "POST", credentials: "same-origin", cache: "no-store",
                                 headers: {"Content-Type": "application/json", "X-CSRFToken": token,
                                           "Idempotency-Key": item.id,
                                           // the server's words in the page's language, not the browser's
                                           "Accept-Language": document.documentElement.lang || "id"},
                                 body: JSON.stringify(content.body)}).then(function (r) {
        if (r.status === 201 || r.status === 200) { return del("outbox", item.id).then(function () { return "sent"; }); }
        if (r.status === 401) { var e = new Error("login"); e.login = true; throw e; }
        if (r.status === 409 && content.method === "PATCH" && !again) {
          return r.json().then(function (answer) {
            if ((answer.error || {}).code !== "stale_version") { throw new Error("later"); }
            return reconcile(k, item, content, answer.error.details || {}).then(function (outcome) {
              if (outcome !== "again") { return outcome; }
              return seal(k, content).then(function (box) {
                item.box = box;
                return put("outbox", item);
              }).then(function () { return sendOne(k, token, item, true); });
            });
          });
        }
        if (r.status === 422 || r.status === 400 || r.status === 403 || r.status === 404) {
          return r.json().catch(function () { return {}; }).then(function (answer) {
            var details = (answer.error || {}).details || {};
            content.error = messageOf(answer);
            content.fields = details.fields || {};
            content.duplicates = (answer.error || {}).code === "possible_duplicate" ? details.children : null;
            return seal(k, content).then(function (box) {
              item.box = box;
              item.state = "fix";
              return put("outbox", item);
            }).then(function () { return "fix"; });
          });
        }
        throw new Error("later");  // 409 in progress, 429, 5xx: the same key is sent again later
      });
    });
  }
  function sync() {
    if (syncing) { return syncing; }
    syncing = key().then(function (k) {
      if (!k) { return; }
      return mine().then(function (items) {
        items = items.filter(function (i) { return i.state === "pending"; });
        if (!items.length) { return; }
        return csrf().then(function (token) {
          loginNeeded = false;
          return items.reduce(function (chain, item) {
            return chain.then(function () { return sendOne(k, token, item); });
          }, Promise.resolve());
        });
      });
    }).catch(function (e) {
      loginNeeded = !!e.login;
      if (!e.login) { clearTimeout(retry); retry = setTimeout(sync, 5000); }
    }).then(function () {
      syncing = null;
      badge();
      document.dispatchEvent(new CustomEvent("outbox-changed"));
    });
    return syncing;
  }

  // ---- on every page: the outbox count and, when locked, the password -------------------------------
  function badge() {
    var el = document.getElementById("outbox-badge");
    return mine().then(function (items) {
      document.querySelectorAll("main [data-count]").forEach(function (c) {
        c.textContent = items.length;
        c.hidden = !items.length;
      });
      if (!el) { return items; }
      var fix = items.filter(function (i) { return i.state !== "pending"; }).length;
      el.hidden = !items.length;
      el.querySelector("[data-count]").textContent = items.length;
      el.classList.toggle("text-bg-danger", fix > 0 || loginNeeded);
      el.title = loginNeeded ? text.login_again : (fix ? text.needs_fixing : text.waiting);
      return items;
    });
  }

  function unlockBar() {
    var bar = document.getElementById("unlock-bar");
    if (!bar) { return; }
    Promise.all([key(), get("vault", user)]).then(function (found) {
      bar.hidden = !!found[0] || !found[1];
    });
    var f = bar.querySelector("form"), input = f.querySelector("input[type=password]"), out = bar.querySelector("[data-message]");
    f.addEventListener("submit", function (event) {
      event.preventDefault();
      get("vault", user).then(function (vault) {
        return kekBits(input.value, unb64(vault.salt)).then(function (bits) {
          return unlock(user, bits);
        }).then(function () {
          input.value = "";
          bar.hidden = true;
          document.dispatchEvent(new CustomEvent("outbox-changed"));
          sync();
        }, function () {
          vault.tries = (vault.tries || 0) + 1;
          if (vault.tries >= MAX_TRIES) {
            return wipe().then(function () {
              out.textContent = text.wiped;
              input.disabled = true;
              f.querySelector("button").disabled = true;
              badge();
              document.dispatchEvent(new CustomEvent("outbox-changed"));
            });
          }
          return put("vault", vault).then(function () {
            return mine();
          }).then(function (items) {
            out.textContent = text.wrong_password + (vault.tries === MAX_TRIES - 1 && items.length
              ? " " + text.last_try.replace("%(n)s", items.length) : "");
          });
        });
      });
    });
  }

  // Logging out wipes this user's copy from the phone, after saying what was not sent.
  function wipe() {
    sessionStorage.removeItem(KEY_SLOT);
    return mine().then(function (items) {
      return Promise.all(items.map(function (i) { return del("outbox", i.id); }));
    }).then(function () { return del("vault", user); }).then(function () {
      // The kept pages carry the user's name and session token; the app's files stay.
      return window.caches ? caches.keys().then(function (names) {
        return Promise.all(names.map(function (n) {
          return caches.open(n).then(function (c) {
            return c.keys().then(function (requests) {
              return Promise.all(requests.filter(function (r) { return new URL(r.url).pathname.indexOf("/static/") !== 0; })
                .map(function (r) { return c.delete(r); }));
            });
          });
        }));
      }) : null;
    });
  }
  document.addEventListener("submit", function (event) {
    var f = event.target;
    if (!f.matches('form[action$="/logout"]') || f.dataset.wiped) { return; }
    event.preventDefault();
    mine().then(function (items) {
      if (items.length && !window.confirm(text.logout_unsent.replace("%(n)s", items.length))) { return; }
      return wipe().then(function () { f.dataset.wiped = "1"; f.submit(); });
    });
  });

  // The cases taken offline: sealed in the user's vault record, so they go with it.
  function saveBundle(data) {
    return Promise.all([key(), get("vault", user)]).then(function (found) {
      if (!found[0] || !found[1]) { throw new Error("locked"); }
      return seal(found[0], data).then(function (sealed) {
        found[1].bundle = sealed;
        return put("vault", found[1]);
      });
    });
  }
  function bundle() {
    return Promise.all([key(), get("vault", user)]).then(function (found) {
      return found[0] && found[1] && found[1].bundle ? open(found[0], found[1].bundle) : null;
    });
  }
  // The worker's choices on a conflict: the item is queued again with them, on the current version.
  function resolve(id, choices) {
    return Promise.all([key(), get("outbox", id)]).then(function (found) {
      var k = found[0], item = found[1];
      return open(k, item.box).then(function (content) {
        content.conflict.forEach(function (c) { if (choices[c.field] === "server") { drop(content.body, c.field); } });
        content.conflict = null;
        item.state = fieldsOf(content.body).length ? "pending" : "done";
        if (item.state === "done") { return del("outbox", id); }
        return seal(k, content).then(function (box) { item.box = box; return put("outbox", item); });
      });
    }).then(sync);
  }

  window.casemgmtOutbox = {record: record, sync: sync, list: mine, key: key, open: open, remove: function (id) {
    return del("outbox", id).then(badge);
  }, text: text, csrf: csrf, saveBundle: saveBundle, bundle: bundle, resolve: resolve};

  if (navigator.serviceWorker) {
    navigator.serviceWorker.register("/sw.js").catch(function () {});
    navigator.serviceWorker.addEventListener("message", function (e) { if (e.data === "sync") { sync(); } });
  }
  // The pages that work offline are kept as soon as the worker runs, not only once visited; a kept
  // page opened before the worker controlled it puts its own copy instead of a second download.
  function keepPages() {
    if (!navigator.serviceWorker) { return; }
    var kept = JSON.parse(meta.getAttribute("data-kept") || "[]"), path = location.pathname;
    // Only a page as GET answers it: a form sent back with its errors holds what was typed.
    var own = !controlled && kept.indexOf(path) >= 0 && meta.hasAttribute("data-copyable")
      ? "<!doctype html>\n" + document.documentElement.outerHTML : null;
    navigator.serviceWorker.ready.then(function (r) {
      if (!navigator.serviceWorker.controller && r.active) { r.active.postMessage("claim"); }
      return caches.keys().then(function (names) {
        var name = names.filter(function (n) { return n.indexOf("casemgmt-") === 0; })[0];
        if (own && name) {
          return caches.open(name).then(function (c) {
            return c.put(path, new Response(own, {headers: {"Content-Type": "text/html; charset=utf-8"}}));
          });
        }
      }).then(function () { ask(r, 3); });
    }).catch(function () {});
    // Asked again while something is missing: a message to a worker that is starting can be lost.
    function ask(r, times) {
      if (!times || !navigator.onLine || !r.active) { return; }
      r.active.postMessage({keep: kept});
      setTimeout(function () {
        Promise.all(kept.map(function (u) { return caches.match(u); })).then(function (hits) {
          if (!hits.every(Boolean)) { ask(r, times - 1); }
        });
      }, 3000);
    }
  }
  window.addEventListener("online", sync);
  // Started once every deferred script of the page has run, so that each hears "outbox-ready".
  function start() {
    keepPages();
    settle().catch(function () {}).then(function () {
      unlockBar();
      badge();
      document.dispatchEvent(new CustomEvent("outbox-ready"));
      if (navigator.onLine) { sync(); }
    });
  }
  if (document.readyState === "loading" || document.readyState === "interactive") {
    document.addEventListener("DOMContentLoaded", start);
  } else { start(); }
})();
