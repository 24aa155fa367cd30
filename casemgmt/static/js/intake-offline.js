// The complaint form without a signal: the checks the phone can make, then the complaint goes to
// the phone's outbox (offline.js) instead of being lost; with a signal the form is sent as always.
// A complaint the server refused comes back here (#fix=<id>) to be corrected and queued again.
(function () {
  "use strict";
  var form = document.querySelector("form.intake"), box = window.casemgmtOutbox;
  if (!form || !box) { return; }
  var T = box.text, fixing = null, warned = null;
  var status = document.getElementById("intake-status");

  function el(name) { return form.elements[name]; }
  function val(name) {
    var e = el(name);
    if (!e) { return null; }
    if (e.type === "checkbox") { return e.checked; }
    var v = (e.value || "").trim();
    return v === "" ? null : v;
  }
  function all(name) {
    return Array.prototype.filter.call(form.querySelectorAll('[name="' + name + '"]'), function (e) { return e.checked; })
      .map(function (e) { return e.value; });
  }
  function childCount() { return form.querySelectorAll(".child-entry").length; }
  var CHILD = ["name", "sex", "birth_date", "age_years", "nik", "area_code", "address", "caregiver_name",
               "caregiver_relationship", "caregiver_phone", "kk_number", "relationship_to_head"];

  function serialize() {
    var received = val("received_at"), children = [];
    for (var i = 0; i < childCount(); i++) {
      var c = {};
      CHILD.forEach(function (f) {
        var name = "children-" + i + "-" + f;
        c[f] = f === "sex" ? (all(name)[0] || null) : val(name);
      });
      c.age_years = c.age_years === null ? null : parseInt(c.age_years, 10);
      children.push(c);
    }
    return {
      channel: all("channel")[0] || null,
      received_at: received ? new Date(received).toISOString() : null,
      urgent: !!val("urgent"),
      reporter: {anonymous: !!val("reporter_anonymous"), name: val("reporter_name"), phone: val("reporter_phone"),
                 relationship: val("reporter_relationship")},
      children: children,
      concerns: all("concerns_special").concat(all("concerns_welfare")),
      description: val("description") || ""
    };
  }

  // ---- the checks the phone can make (the server makes them again) ---------------------------
  function nikProblem(nik, sex) {
    var digits = nik.replace(/[\s.\-]/g, "");
    if (!/^[0-9]{16}$/.test(digits)) { return [T.nik_length, true]; }
    var day = +digits.slice(6, 8), month = +digits.slice(8, 10), yy = +digits.slice(10, 12), nikSex = "M";
    if (day > 40) { day -= 40; nikSex = "F"; }
    var now = new Date(), year = 2000 + yy;
    if (new Date(year, month - 1, day) > now) { year -= 100; }
    var d = new Date(year, month - 1, day);
    if (!(day >= 1 && day <= 31) || d.getMonth() !== month - 1 || d.getDate() !== day) { return [T.nik_date, true]; }
    if (sex && sex !== nikSex) { return [T.nik_sex, false]; }  // a warning: sex or NIK may be wrong
    return null;
  }
  function checks(body) {
    var problems = [], today = new Date().toISOString().slice(0, 10);
    function add(field, message, blocking) { problems.push({field: field, message: message, blocking: blocking !== false}); }
    if (!body.channel) { add("channel-0", T.channel); }
    if (!body.reporter.anonymous && !body.reporter.name) { add("reporter_name", T.reporter); }
    body.children.forEach(function (c, i) {
      var p = "children-" + i + "-";
      if (!c.name) { add(p + "name", T.child_name); }
      if (!c.sex) { add(p + "sex-0", T.sex); }
      if (c.birth_date && c.birth_date > today) { add(p + "birth_date", T.birth_future); }
      else if (!c.birth_date && (c.age_years === null || isNaN(c.age_years))) { add(p + "birth_date", T.birth); }
      else if (!c.birth_date && (c.age_years < 0 || c.age_years > 17)) { add(p + "age_years", T.age); }
      if (c.nik) {
        var n = nikProblem(c.nik, c.sex);
        if (n) { add(p + "nik", n[0], n[1]); }
      }
      if (!c.area_code) { add(p + "area_code", T.village); }
    });
    if (!body.concerns.length) { add("concerns_special-0", T.concerns); }
    if (!body.description) { add("description", T.description); }
    return problems;
  }
  function clearProblems() {
    form.querySelectorAll("[data-offline-error]").forEach(function (e) { e.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (e) { e.removeAttribute("aria-invalid"); e.classList.remove("is-invalid"); });
  }
  function showProblems(problems) {
    clearProblems();
    problems.forEach(function (p) {
      var input = document.getElementById(p.field);
      if (!input) { return; }
      var note = document.createElement("div");
      note.className = "invalid-feedback d-block";
      note.setAttribute("data-offline-error", "");
      note.id = p.field + "-offline-error";
      note.textContent = p.message;
      var holder = input.closest("fieldset.mb-3, .mb-3, fieldset") || input.parentNode;
      holder.appendChild(note);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", note.id);
      if (p.blocking) { input.classList.add("is-invalid"); }
    });
    var blocking = problems.filter(function (p) { return p.blocking; }).length;
    say(blocking ? T.n_errors.replace("%(n)s", blocking) : T.check_warnings, "danger");
    var first = document.getElementById(problems[0].field);
    if (first) { first.scrollIntoView({block: "center"}); first.focus({preventScroll: true}); }
  }
  function say(message, kind) {
    status.hidden = false;
    status.className = "alert alert-" + kind;
    status.textContent = message;
  }

  // ---- with a signal or without ---------------------------------------------------------------------
  function signal() {
    var ctl = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (ctl) { ctl.abort(); } }, 5000);
    return fetch("/app/session", {credentials: "same-origin", redirect: "manual", cache: "no-store",
                                  signal: ctl ? ctl.signal : undefined})
      .then(function (r) {
        if (r.status !== 200) { return "login"; }
        // A form opened from the phone's copy may carry the token of an earlier session.
        return r.json().then(function (j) {
          if (el("csrf_token")) { el("csrf_token").value = j.csrf_token; }
          return "online";
        });
      }, function () { return "offline"; })
      .then(function (state) { clearTimeout(timer); return state; });
  }
  // A child the server found like an existing case: the worker says which, nothing is chosen for them.
  var asked = null;
  function askDuplicates(duplicates) {
    asked = duplicates;
    Object.keys(duplicates).forEach(function (i) {
      var entry = form.querySelectorAll(".child-entry")[+i];
      if (!entry) { return; }
      var group = document.createElement("fieldset"), name = "offline-duplicate-" + i;
      group.className = "alert alert-warning py-2";
      group.setAttribute("data-offline-duplicate", i);
      var legend = document.createElement("legend");
      legend.className = "form-label fs-6 mb-1";
      legend.textContent = T.same_child;
      group.appendChild(legend);
      duplicates[i].map(function (c) { return [String(c.id), c.description]; }).concat([["new", T.different_child]])
        .forEach(function (option, n) {
          var row = document.createElement("div"), input = document.createElement("input"), label = document.createElement("label");
          row.className = "form-check";
          input.className = "form-check-input";
          input.type = "radio";
          input.name = name;
          input.id = name + "-" + n;
          input.value = option[0];
          label.className = "form-check-label";
          label.htmlFor = input.id;
          label.textContent = option[1];
          row.appendChild(input);
          row.appendChild(label);
          group.appendChild(row);
        });
      entry.insertBefore(group, entry.children[1]);
    });
  }
  function decisions(body, problems) {
    if (!asked) { return; }
    body.decisions = {};
    Object.keys(asked).forEach(function (i) {
      var checked = form.querySelector('input[name="offline-duplicate-' + i + '"]:checked');
      if (checked) { body.decisions[i] = checked.value; }
      else { problems.push({field: "offline-duplicate-" + i + "-0", message: T.say_same, blocking: true}); }
    });
  }

  function queue(body) {
    body.duplicates = "ask";  // the server asks before opening a case that looks like an existing one
    return box.record("case", "/api/v1/cases", body, fixing).then(function () {
      asked = null;
      form.querySelectorAll("[data-offline-duplicate]").forEach(function (e) { e.remove(); });
      fixing = null;
      warned = null;
      clearProblems();
      form.reset();
      history.replaceState(null, "", location.pathname);
      while (childCount() > 1) { form.querySelector(".child-entry:last-of-type").remove(); }
      nowReceived(true);
      say(T.saved_offline, "success");
      status.focus();
      window.scrollTo(0, 0);
      box.sync();
    }, function () {
      say(T.locked, "warning");
      var bar = document.getElementById("unlock-bar");
      if (bar) { bar.hidden = false; bar.querySelector("input[type=password]").focus(); }
    });
  }

  form.addEventListener("submit", function (event) {
    var action = (event.submitter && event.submitter.value) || "save";
    if (form.dataset.native) { return; }
    if (action === "add_child") {
      event.preventDefault();
      signal().then(function (state) { state === "online" ? nativeSubmit(action) : addChild(); });
      return;
    }
    if (action !== "save") { return; }
    event.preventDefault();
    var body = serialize(), problems = checks(body);
    decisions(body, problems);
    var key = JSON.stringify(body);
    var blocking = problems.filter(function (p) { return p.blocking; });
    if (blocking.length || (problems.length && warned !== key)) {
      warned = blocking.length ? null : key;
      showProblems(problems);
      return;
    }
    if (fixing) { queue(body); return; }
    signal().then(function (state) { state === "online" ? nativeSubmit(action) : queue(body); });
  });
  function nativeSubmit(action) {
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "action";
    hidden.value = action;
    form.appendChild(hidden);
    form.dataset.native = "1";
    form.submit();
  }

  // Another child without the server: the last child's fields again, renumbered and empty.
  function addChild() {
    var entries = form.querySelectorAll(".child-entry"), last = entries[entries.length - 1], i = entries.length;
    var copy = last.cloneNode(true);
    copy.querySelectorAll(".alert, [data-offline-error], .invalid-feedback, button").forEach(function (e) { e.remove(); });
    copy.querySelectorAll("*").forEach(function (e) {
      ["id", "name", "for", "aria-controls", "aria-describedby", "hx-target"].forEach(function (a) {
        var v = e.getAttribute(a);
        if (v) { e.setAttribute(a, v.replace(/children-\d+-/g, "children-" + i + "-")); }
      });
      e.removeAttribute("aria-invalid");
      e.classList.remove("is-invalid");
      if (e.matches("input[type=radio], input[type=checkbox]")) { e.checked = false; }
      else if (e.matches("input, textarea")) { e.value = ""; }
    });
    var village = copy.querySelector("select");
    if (village) { village.value = last.querySelector("select").value; }  // siblings usually live together
    var legend = copy.querySelector("legend");
    legend.textContent = legend.textContent.replace(/\d+/, String(i + 1));
    last.after(copy);
    if (window.htmx) { htmx.process(copy); }
    copy.querySelector("input").focus();
    return copy;
  }

  // A form opened from the phone's copy says when it was really received: now, not when it was kept.
  function nowReceived(force) {
    var input = el("received_at");
    if (!input) { return; }
    var now = new Date(), shown = input.value ? new Date(input.value) : null;
    if (force || !shown || Math.abs(now - shown) > 15 * 60000) {
      var local = new Date(now.getTime() - now.getTimezoneOffset() * 60000);
      input.value = local.toISOString().slice(0, 16);
    }
  }

  // Correcting a complaint the server refused: its fields back in the form, the server's words above.
  function fill(body) {
    while (childCount() < body.children.length) { addChild(); }
    function set(name, value) {
      var inputs = form.querySelectorAll('[name="' + name + '"]');
      inputs.forEach(function (e) {
        if (e.type === "radio" || e.type === "checkbox") {
          e.checked = Array.isArray(value) ? value.indexOf(e.value) >= 0 : (e.type === "radio" ? e.value === value : !!value);
        } else { e.value = value === null || value === undefined ? "" : value; }
      });
    }
    set("channel", body.channel);
    if (body.received_at) {
      var r = new Date(body.received_at);
      set("received_at", new Date(r.getTime() - r.getTimezoneOffset() * 60000).toISOString().slice(0, 16));
    }
    set("urgent", body.urgent);
    set("reporter_anonymous", body.reporter.anonymous);
    ["name", "phone", "relationship"].forEach(function (f) { set("reporter_" + f, body.reporter[f]); });
    body.children.forEach(function (c, i) {
      CHILD.forEach(function (f) { set("children-" + i + "-" + f, c[f]); });
    });
    set("concerns_special", body.concerns);
    set("concerns_welfare", body.concerns);
    set("description", body.description);
  }
  function openFix() {
    var m = /^#fix=([\w-]+)$/.exec(location.hash);
    if (!m) { return; }
    Promise.all([box.list(), box.key()]).then(function (found) {
      var item = found[0].filter(function (i) { return i.id === m[1]; })[0];
      if (!item || !found[1]) { return; }
      return box.open(found[1], item.box).then(function (content) {
        fixing = item.id;
        fill(content.body);
        if (content.duplicates && !form.querySelector("[data-offline-duplicate]")) { askDuplicates(content.duplicates); }
        say(T.fix_intro + " " + (content.error || ""), "warning");
        var fields = Object.keys(content.fields || {}).map(function (f) {
          return {field: f.replace(/\./g, "-").replace(/^reporter-name$/, "reporter_name").replace(/^concerns$/, "concerns_special-0"),
                  message: [].concat(content.fields[f]).join(" "), blocking: true};
        }).filter(function (p) { return document.getElementById(p.field); });
        if (fields.length) { showProblems(fields); say(T.fix_intro + " " + content.error, "warning"); }
      });
    });
  }

  nowReceived(false);
  document.addEventListener("outbox-ready", openFix);
  document.addEventListener("outbox-changed", function () { if (!fixing) { openFix(); } });
  window.addEventListener("hashchange", openFix);
})();
