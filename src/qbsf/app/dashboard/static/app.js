// qbsf dashboard: confirm modal, in-place panel refresh, Live Log over Server-Sent Events. No dependencies.
(function () {
  "use strict";

  // Confirm modal: any form with data-confirm asks first (the manual's ↓ QB → SF confirm step).
  var dialog = document.getElementById("confirm-dialog");
  var pending = null;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.confirm || form.dataset.confirmed === "1") { return; }
    event.preventDefault();
    pending = form;
    if (dialog && typeof dialog.showModal === "function") {
      document.getElementById("confirm-text").textContent = form.dataset.confirm;
      dialog.showModal();
    } else if (window.confirm(form.dataset.confirm)) {
      form.dataset.confirmed = "1";
      form.submit();
    }
  }, true);
  if (dialog) {
    dialog.addEventListener("close", function () {
      if (dialog.returnValue === "confirm" && pending) {
        pending.dataset.confirmed = "1";
        if (typeof pending.requestSubmit === "function") { pending.requestSubmit(); } else { pending.submit(); }
      }
      pending = null;
    });
  }

  // Panels with data-refresh reload themselves from their partial (status every few seconds).
  function refresh(section) {
    var url = section.dataset.refresh + window.location.search;
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (response.ok) { return response.text().then(function (html) { section.innerHTML = html; }); }
    }).catch(function () { /* connector restarting: keep the last view */ });
  }
  document.querySelectorAll("[data-refresh][data-every]").forEach(function (section) {
    var seconds = parseFloat(section.dataset.every) || 5;
    window.setInterval(function () {
      // A refresh while the confirm dialog is open would replace the form it is about to submit.
      var asking = dialog && dialog.open;
      if (!document.hidden && !asking && !section.contains(document.activeElement)) { refresh(section); }
    }, seconds * 1000);
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-refresh-all]");
    if (!link) { return; }
    event.preventDefault();
    document.querySelectorAll("[data-refresh]").forEach(refresh);
  });

  // A refused Save / Verify / Upload: the banner at the top says what happened; the field it names gets the focus
  // (without scrolling the banner away).
  var focusId = document.body.dataset.focus;
  var field = focusId && document.getElementById(focusId);
  if (field) {
    try { field.focus({ preventScroll: true }); } catch (e) { field.focus(); }
  }

  // Live Log: append each streamed line; keep the newest 1000; follow the bottom (newest visible) unless the user
  // scrolled up to read — then the view stays put until they scroll back to the bottom.
  var log = document.getElementById("live-log");
  if (log) {
    log.scrollTop = log.scrollHeight;
    log.addEventListener("scroll", function () {
      log.dataset.locked = log.scrollTop + log.clientHeight < log.scrollHeight - 4 ? "1" : "";
    });
  }
  if (log && window.EventSource) {
    var source = new EventSource(log.dataset.stream + "?after=" + encodeURIComponent(log.dataset.after || "0"));
    source.addEventListener("log", function (message) {
      var entry = JSON.parse(message.data);
      var follow = log.dataset.locked !== "1";
      var span = document.createElement("span");
      span.className = "lvl-" + entry.level;
      span.textContent = entry.line;
      log.appendChild(span);
      log.appendChild(document.createTextNode("\n"));
      while (log.childNodes.length > 2000) { log.removeChild(log.firstChild); }
      if (follow) { log.scrollTop = log.scrollHeight; }
    });
  }
})();
