// A social worker's cases on the phone (/app/cases): taken from the offline bundle, sealed in the
// user's vault; notes and corrections of the child's details recorded there wait in the outbox.
// An edit carries the version it was made on; when someone changed the same field meanwhile, the
// two values are shown side by side and the worker chooses (offline.js reconcile).
(function () {
  "use strict";
  var box = window.casemgmtOutbox, list = document.getElementById("field-cases");
  if (!box || !list) { return; }
  var T = box.text, status = document.getElementById("field-status"), conflicts = document.getElementById("field-conflicts");
  var FIELDS = ["name", "birth_date", "nik", "address", "caregiver_name", "caregiver_relationship", "caregiver_phone"];

  function clone(id) { return document.getElementById(id).content.firstElementChild.cloneNode(true); }
  function ids(node, prefix) {
    node.querySelectorAll("[data-id]").forEach(function (e) { e.id = prefix + e.getAttribute("data-id"); });
    node.querySelectorAll("[data-for]").forEach(function (e) { e.htmlFor = prefix + e.getAttribute("data-for"); });
  }

  function caseBlock(data, c) {
    var node = clone("case-template"), prefix = "case-" + c.id + "-";
    node.querySelector("[data-title]").textContent = c.number + " · " + (c.child ? c.child.name : "");
    ids(node, prefix);
    var saved = node.querySelector("[data-saved]");
    node.querySelector("[data-note]").addEventListener("submit", function (event) {
      event.preventDefault();
      var text = event.target.querySelector("textarea");
      box.record("note", "/api/v1/cases/" + c.id + "/notes", {text: text.value},
                 null, {label: T.note + " · " + c.number}).then(function () {
        text.value = "";
        saved.textContent = T.saved_offline;
        box.sync();
      }, function () { saved.textContent = T.locked; });
    });
    var visit = node.querySelector("[data-visit]");
    visit.hidden = c.stage !== "monitoring";
    visit.querySelectorAll("input[type=radio]").forEach(function (r) { r.name = prefix + "progress"; });
    visit.querySelector("input[type=date]").value = new Date().toISOString().slice(0, 10);
    visit.addEventListener("submit", function (event) {
      event.preventDefault();
      var checked = visit.querySelector("input[type=radio]:checked");
      box.record("visit", "/api/v1/cases/" + c.id + "/monitoring",
                 {visited_on: visit.querySelector("input[type=date]").value, progress: checked.value,
                  notes: visit.querySelector("textarea").value}, null, {label: T.visit + " · " + c.number})
        .then(function () {
          visit.reset();
          visit.querySelector("input[type=date]").value = new Date().toISOString().slice(0, 10);
          saved.textContent = T.saved_offline;
          box.sync();
        }, function () { saved.textContent = T.locked; });
    });
    var form = node.querySelector("[data-child]");
    FIELDS.forEach(function (f) { form.querySelector('[data-field="' + f + '"]').value = (c.child || {})[f] || ""; });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var child = {};
      FIELDS.forEach(function (f) {
        var v = form.querySelector('[data-field="' + f + '"]').value.trim() || null;
        if (v !== ((c.child || {})[f] || null)) { child[f] = v; }
      });
      if (!Object.keys(child).length) { return; }
      box.record("edit", "/api/v1/cases/" + c.id, {version: c.version, child: child}, null,
                 {method: "PATCH", label: T.details + " · " + c.number}).then(function () {
        Object.keys(child).forEach(function (f) { c.child[f] = child[f]; });  // the phone shows what it will send
        return box.saveBundle(data);
      }).then(function () {
        saved.textContent = T.saved_offline;
        box.sync();
      }, function () { saved.textContent = T.locked; });
    });
    return node;
  }

  function drawConflicts() {
    return Promise.all([box.list(), box.key()]).then(function (found) {
      conflicts.textContent = "";
      if (!found[1]) { return; }
      return Promise.all(found[0].filter(function (i) { return i.state === "conflict"; }).map(function (item) {
        return box.open(found[1], item.box).then(function (content) {
          var form = clone("conflict-template");
          form.querySelector("[data-title]").textContent = content.label;
          content.conflict.forEach(function (c, n) {
            var row = clone("conflict-field-template"), name = "choice-" + item.id + "-" + n;
            row.querySelector("[data-label]").textContent = T["field_" + c.field.split(".").pop()] || c.field;
            row.querySelector("[data-server]").textContent = c.server === null || c.server === undefined ? "—" : c.server;
            row.querySelector("[data-phone]").textContent = c.phone === null || c.phone === undefined ? "—" : c.phone;
            row.querySelectorAll("input").forEach(function (input, j) {
              input.name = name;
              input.id = name + "-" + j;
              input.setAttribute("data-field", c.field);
              input.nextElementSibling.htmlFor = input.id;
            });
            form.querySelector("[data-fields]").appendChild(row);
          });
          form.addEventListener("submit", function (event) {
            event.preventDefault();
            var choices = {};
            form.querySelectorAll("input:checked").forEach(function (i) { choices[i.getAttribute("data-field")] = i.value; });
            box.resolve(item.id, choices);
          });
          conflicts.appendChild(form);
        });
      }));
    });
  }

  function draw() {
    return box.bundle().then(function (data) {
      list.textContent = "";
      if (!data) { return; }
      status.textContent = T.taken_at.replace("%(time)s", new Date(data.generated_at).toLocaleString());
      if (!data.cases.length) { status.textContent += " " + T.no_cases; }
      data.cases.forEach(function (c) { list.appendChild(caseBlock(data, c)); });
    }).then(drawConflicts);
  }

  document.getElementById("take-cases").addEventListener("click", function () {
    box.csrf().then(function (token) {
      return fetch("/api/v1/me/offline-bundle", {credentials: "same-origin", cache: "no-store",
                                                 headers: {"X-CSRFToken": token,
                                                           "Accept-Language": document.documentElement.lang || "id"}});
    }).then(function (r) {
      if (r.status !== 200) { throw new Error("bundle"); }
      return r.json();
    }).then(box.saveBundle).then(draw, function (e) {
      status.textContent = e.message === "locked" ? T.locked : T.no_signal;
    });
  });
  document.addEventListener("outbox-ready", draw);
  document.addEventListener("outbox-changed", drawConflicts);
})();
