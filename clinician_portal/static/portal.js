// Small progressive enhancements for the clinician portal. Every page works without them.
// Served from /portal/static so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";

  // Push notifications: the account page's form subscribes this browser (VAPID key from the page),
  // fills in the subscription and posts it with the form's CSRF token.
  function b64urlToBytes(value) {
    var padded = (value + "===".slice((value.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }
  function bytesToB64url(buffer) {
    var text = String.fromCharCode.apply(null, new Uint8Array(buffer));
    return window.btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-push-subscribe")) { return; }
    event.preventDefault();
    var status = form.querySelector("[data-push-status]");
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
      status.textContent = "This browser cannot receive push notifications.";
      return;
    }
    navigator.serviceWorker.register(form.getAttribute("data-worker"), { scope: form.getAttribute("data-worker").replace(/sw\.js$/, "") })
      .then(function (registration) { return navigator.serviceWorker.ready.then(function () { return registration; }); })
      .then(function (registration) {
        return registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: b64urlToBytes(form.getAttribute("data-vapid-key")),
        });
      })
      .then(function (subscription) {
        form.elements.endpoint.value = subscription.endpoint;
        form.elements.p256dh.value = bytesToB64url(subscription.getKey("p256dh"));
        form.elements.auth.value = bytesToB64url(subscription.getKey("auth"));
        form.submit();
      })
      .catch(function (error) { status.textContent = String(error && error.message || error); });
  });

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

  // --- Idle warning: two minutes before the session's idle timeout, offer to stay signed in. -----
  // A page that only listens to the live feed does not keep the session alive by itself.
  (function () {
    var body = document.body;
    var idleSeconds = Number(body.getAttribute("data-idle-seconds") || 0);
    var warning = document.getElementById("idle-warning");
    if (!idleSeconds || !warning || !window.fetch) {
      return;
    }
    var timer = null;
    function arm() {
      if (timer) { window.clearTimeout(timer); }
      warning.hidden = true;
      timer = window.setTimeout(function () { warning.hidden = false; }, Math.max(idleSeconds - 120, 5) * 1000);
    }
    warning.querySelector("[data-stay-signed-in]").addEventListener("click", function () {
      var form = new window.FormData();
      form.append("csrf_token", body.getAttribute("data-csrf"));
      window.fetch(body.getAttribute("data-keepalive"), { method: "POST", body: form, credentials: "same-origin" })
        .then(function (answer) { if (answer.ok) { arm(); } });
    });
    arm();
  })();

  // --- Urgent alerts nobody acknowledged: the tab's title and icon say so; an optional sound. ----
  var originalTitle = document.title;
  var iconLink = document.querySelector("link[rel='icon']");
  var originalIcon = iconLink ? iconLink.getAttribute("href") : null;
  function showUrgent(count) {
    var body = document.body;
    if (count > 0) {
      document.title = "(" + count + ") " + body.getAttribute("data-urgent-title") + " · " + originalTitle;
      if (iconLink) { iconLink.setAttribute("href", body.getAttribute("data-urgent-icon")); }
    } else {
      document.title = originalTitle;
      if (iconLink && originalIcon) { iconLink.setAttribute("href", originalIcon); }
    }
  }
  showUrgent(Number(document.body.getAttribute("data-urgent-open") || 0));
  var soundBox = document.querySelector("[data-alert-sound]");
  if (soundBox && window.localStorage) {
    soundBox.checked = window.localStorage.getItem("tandem-alert-sound") === "on";
    soundBox.addEventListener("change", function () {
      window.localStorage.setItem("tandem-alert-sound", soundBox.checked ? "on" : "off");
    });
  }
  function chime() {
    if (!window.localStorage || window.localStorage.getItem("tandem-alert-sound") !== "on") { return; }
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    var audio = new Context();
    var tone = audio.createOscillator();
    var gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
    tone.connect(gain);
    gain.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.6);
  }

  // --- The live alert feed ---------------------------------------------------------------------
  // Every signed-in page listens to /portal/alerts/stream (server-sent events). The server tells
  // this page only about alerts its viewer may see, with the menu badge's count and a notice
  // already in the viewer's language; the alert queue then fetches its rows again.
  var streamUrl = document.body.getAttribute("data-alert-stream");
  if (!streamUrl || !window.EventSource || !window.fetch) {
    return;
  }
  var rows = document.getElementById("alert-rows");
  var rowsUrl = rows ? rows.getAttribute("data-rows") : null;
  var count = document.getElementById("alert-count");
  var notice = document.getElementById("live-notice");
  var patientUrl = document.body.getAttribute("data-alert-patient");

  function updateBadge(data) {
    var badges = document.querySelectorAll("[data-alert-badge]");
    for (var i = 0; i < badges.length; i++) {
      var badge = badges[i];
      badge.hidden = data.open_total === 0;
      badge.className = "nav-badge" + (data.open_top ? " severity-" + data.open_top : "");
      badge.querySelector("[data-badge-count]").textContent = String(data.open_total);
      badge.querySelector("[data-badge-label]").textContent = data.badge_label;
    }
    if (count) {
      count.textContent = data.badge_label;
    }
  }

  function showNotice(data) {
    if (!notice) {
      return;
    }
    var urgent = data.kind === "alert.created" && data.severity === "urgent";
    // A new urgent alert interrupts a screen reader; anything else waits for a pause.
    notice.setAttribute("aria-live", urgent ? "assertive" : "polite");
    notice.className = "live-notice no-print" + (urgent ? " urgent" : "");
    var text = notice.querySelector("[data-notice-text]");
    text.textContent = data.notice;
    notice.hidden = false;
    // The feed carries ids only; who the alert is about is an audited read of its own.
    if (data.kind === "alert.created" && patientUrl) {
      window.fetch(patientUrl.replace("ALERT_ID", encodeURIComponent(data.alert_id)), {
        credentials: "same-origin", headers: { Accept: "application/json" },
      })
        .then(function (answer) { return answer.ok && !answer.redirected ? answer.json() : null; })
        .then(function (found) {
          if (found && found.patient && text.textContent === data.notice) {
            text.textContent = data.notice + ": " + found.patient;
          }
        })
        .catch(function () { /* the notice without the name is still true */ });
    }
  }

  function refreshRows(arrivedId) {
    if (!rowsUrl) {
      return;
    }
    window.fetch(rowsUrl, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (answer) {
        // A redirect means the session ended: leave the page as it is; the next click signs in again.
        if (!answer.ok || answer.redirected) {
          return null;
        }
        return answer.text();
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        rows.innerHTML = html;
        if (arrivedId) {
          var arrived = rows.querySelector("tr[data-alert-id='" + arrivedId + "']");
          if (arrived) {
            arrived.classList.add("arrived");
          }
        }
      })
      .catch(function () { /* offline for a moment: the next event or reconnection refreshes */ });
  }

  if (notice && rowsUrl) {
    notice.querySelector(".live-notice-link").hidden = true; // already on the queue
  }
  if (notice) {
    notice.querySelector("[data-notice-close]").addEventListener("click", function () {
      notice.hidden = true;
    });
  }

  var source = new window.EventSource(streamUrl);
  var connectedBefore = false;
  source.addEventListener("open", function () {
    if (connectedBefore) {
      refreshRows(null); // events may have been missed while disconnected
    }
    connectedBefore = true;
  });
  source.addEventListener("alert", function (event) {
    var data = JSON.parse(event.data);
    updateBadge(data);
    showUrgent(Number(data.urgent_unacknowledged || 0));
    if (data.kind === "alert.created" && data.severity === "urgent") {
      chime();
    }
    if (rowsUrl) {
      refreshRows(data.alert_id);
    }
    if (rowsUrl || data.kind === "alert.created") {
      showNotice(data);
    }
  });
  source.addEventListener("ended", function (event) {
    source.close(); // the session ended; reconnecting would only be refused
    // Say so: a queue that silently stopped updating would look calmer than it is.
    var data = JSON.parse(event.data);
    if (notice && data.notice) {
      notice.setAttribute("aria-live", "assertive");
      notice.className = "live-notice no-print urgent";
      notice.querySelector("[data-notice-text]").textContent = data.notice;
      notice.querySelector(".live-notice-link").hidden = true;
      notice.hidden = false;
    }
  });
  window.addEventListener("pagehide", function () {
    source.close();
  });
})();

// A table that scrolls inside its box (on a phone) can be reached and scrolled with the keyboard.
(function () {
  "use strict";
  function reachable() {
    var boxes = document.querySelectorAll(".table-scroll, .table-wrap");
    for (var i = 0; i < boxes.length; i += 1) {
      var box = boxes[i];
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        var caption = box.querySelector("caption");
        var heading = box.closest("section") && box.closest("section").querySelector("h2");
        box.setAttribute("aria-label", (caption || heading || document.querySelector("h1")).textContent.trim());
      } else if (box.getAttribute("tabindex") === "0") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    }
  }
  reachable();
  var pending = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(reachable, 150);
  });
  document.addEventListener("toggle", reachable, true); // a table shown by opening its <details>
})();
