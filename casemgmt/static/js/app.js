// casemgmt: the little behaviour the pages need, without Bootstrap's JavaScript bundle
// (it would add ~23 KB on a slow village connection for a menu toggle).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-collapse]");
    if (!toggle) { return; }
    var target = document.querySelector(toggle.getAttribute("data-collapse"));
    if (!target) { return; }
    var open = target.classList.toggle("show");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
