// The outbox page: what waits on this phone, opened with the user's key in this tab only.
(function () {
  "use strict";
  var box = window.casemgmtOutbox, list = document.getElementById("outbox-list");
  if (!box || !list) { return; }
  var T = box.text, empty = document.getElementById("outbox-empty"), send = document.getElementById("outbox-send");

  function line(item, content) {
    var li = document.createElement("li"), body = content ? content.body : null;
    li.className = "list-group-item";
    li.setAttribute("data-outbox-item", item.id);
    var title = document.createElement("div");
    title.className = "fw-semibold";
    title.textContent = content && content.label ? content.label
      : T.complaint + (body && body.children ? ": " + body.children.map(function (c) { return c.name || "?"; }).join(", ") : "");
    var state = document.createElement("div");
    state.className = "small";
    state.textContent = (item.state === "pending" ? T.waiting : T.needs_fixing) +
      (body && body.recorded_at ? " · " + T.recorded + " " + new Date(body.recorded_at).toLocaleString() : "");
    li.appendChild(title);
    li.appendChild(state);
    if (item.state !== "pending" && content) {
      var why = document.createElement("div");
      why.className = "text-danger small";
      why.textContent = content.error || "";
      var fix = document.createElement("a");
      fix.className = "btn btn-sm btn-primary mt-2 me-2";
      fix.href = content.kind === "case" ? "/cases/new#fix=" + item.id : "/app/cases";
      fix.textContent = T.fix;
      var drop = document.createElement("button");
      drop.type = "button";
      drop.className = "btn btn-sm btn-outline-danger mt-2";
      drop.textContent = T.delete;
      drop.addEventListener("click", function () {
        if (window.confirm(T.delete_confirm)) { box.remove(item.id).then(draw); }
      });
      li.appendChild(why);
      li.appendChild(fix);
      li.appendChild(drop);
    }
    return li;
  }
  function draw() {
    Promise.all([box.list(), box.key()]).then(function (found) {
      var items = found[0], key = found[1];
      return Promise.all(items.map(function (item) {
        return key ? box.open(key, item.box).catch(function () { return null; }) : null;
      })).then(function (contents) {
        list.textContent = "";
        items.forEach(function (item, i) { list.appendChild(line(item, contents[i])); });
        empty.hidden = items.length > 0;
        send.hidden = !items.some(function (i) { return i.state === "pending"; });
      });
    });
  }
  send.addEventListener("click", function () { box.sync(); });
  document.addEventListener("outbox-ready", draw);
  document.addEventListener("outbox-changed", draw);
})();
