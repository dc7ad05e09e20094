// Small progressive enhancements for the clinician portal. Every page works without them.
// Served from /portal/static so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";

  // Forms that need a second thought (revoke, deactivate) ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button") : null;
    if (!button) {
      return;
    }
    if (button.hasAttribute("data-print")) {
      window.print();
      return;
    }
    var copyTarget = button.getAttribute("data-copy");
    if (copyTarget && navigator.clipboard) {
      var source = document.getElementById(copyTarget);
      if (source) {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          button.classList.add("copied");
          window.setTimeout(function () { button.classList.remove("copied"); }, 1500);
        });
      }
    }
  });
})();
