// The inbox without reloads: polls a small JSON stamp and redraws the list, the thread and the panel when it
// changed (what is typed in the reply box stays); saved replies go into the reply box where the cursor is.
(function () {
  "use strict";
  var root = document.getElementById("inbox");
  if (!root) { return; }
  var EVERY = 4000;

  function insert(text) {
    var box = document.getElementById("reply-text");
    if (!box || box.disabled) { return; }
    var start = box.selectionStart || 0, end = box.selectionEnd || 0;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus();
    box.selectionStart = box.selectionEnd = start + text.length;
  }

  document.addEventListener("click", function (event) {
    var chip = event.target.closest && event.target.closest("[data-insert]");
    if (chip) {
      event.preventDefault();
      insert(chip.getAttribute("data-insert"));
    }
  });

  function atBottom(el) { return el && el.scrollHeight - el.scrollTop - el.clientHeight < 40; }

  function swap(doc, id) {
    var now = document.getElementById(id), fresh = doc.getElementById(id);
    if (now && fresh) { now.innerHTML = fresh.innerHTML; }
    else if (now && !fresh && id === "alerts") { now.remove(); }
    else if (!now && fresh && id === "alerts") {
      var thread = document.getElementById("thread");
      if (thread) { thread.parentNode.insertBefore(fresh, thread); }
    }
  }

  function redraw() {
    return fetch(window.location.href, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var thread = document.getElementById("thread"), follow = atBottom(thread);
      ["inbox-list", "thread", "alerts", "panel", "push-count", "reply-hint"].forEach(function (id) { swap(doc, id); });
      var fresh = doc.getElementById("inbox");
      if (fresh) { root.setAttribute("data-stamp", fresh.getAttribute("data-stamp")); }
      if (thread && follow) { thread.scrollTop = thread.scrollHeight; }
      var live = document.getElementById("live");
      if (live) {
        live.textContent = live.getAttribute("data-new") || "";
        window.setTimeout(function () { live.textContent = ""; }, 5000);
      }
    });
  }

  function poll() {
    fetch(root.getAttribute("data-stamp-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && data.stamp !== root.getAttribute("data-stamp")) { return redraw(); }
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .then(function () { window.setTimeout(poll, EVERY); });
  }

  var thread = document.getElementById("thread");
  if (thread) { thread.scrollTop = thread.scrollHeight; }
  window.setTimeout(poll, EVERY);
}());
