// Sandbox chat: poll the message log, draw LINE-like bubbles, send text and button taps.
(function () {
  const log = document.getElementById("log");
  const token = log.dataset.token;
  const base = "/chat/" + encodeURIComponent(token);
  const URL_RE = /https?:\/\/[^\s<>"'）」、。]+/g;
  // Dates, times and phone numbers stay on one line (bot/unbroken.py has the same pattern).
  const KEEP_RE = new RegExp("\\d{1,2}月\\d{1,2}日(?:\\([月火水木金土日]\\))?(?:[ \u00a0]?\\d{1,2}:\\d{2}(?:[〜–~-]\u2060?\\d{1,2}:\\d{2})?)?" +
    "|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[ \u00a0]\\d{1,2}[ \u00a0][A-Z][a-z]{2}(?:,[ \u00a0]\\d{1,2}:\\d{2}(?:[〜–~-]\u2060?\\d{1,2}:\\d{2})?)?" +
    "|\\d{1,2}:\\d{2}(?:[〜–~-]\u2060?\\d{1,2}:\\d{2})?|\\+?\\d[\\d\\- ]{6,}\\d", "g");

  // Plain text as a fragment, each date, time and phone number in a span that does not wrap.
  function kept(text) {
    const frag = document.createDocumentFragment();
    let at = 0;
    text.replace(KEEP_RE, function (found, offset) {
      frag.appendChild(document.createTextNode(text.slice(at, offset)));
      const span = document.createElement("span");
      span.className = "nowrap";
      span.textContent = found;
      frag.appendChild(span);
      at = offset + found.length;
      return found;
    });
    frag.appendChild(document.createTextNode(text.slice(at)));
    return frag;
  }
  let last = 0;

  // The text as a fragment whose web addresses are links (built from text nodes: no HTML injection).
  function linkified(text) {
    const frag = document.createDocumentFragment();
    let at = 0;
    text.replace(URL_RE, function (found, offset) {
      // Not what follows the link in the sentence: a bracket it did not open ("Online (https://…)"), a full stop.
      let url = found;
      while (/[.,;:!?]$/.test(url) || (/\)$/.test(url) && url.split("(").length < url.split(")").length)) {
        url = url.slice(0, -1);
      }
      frag.appendChild(kept(text.slice(at, offset)));
      const a = document.createElement("a");
      a.href = url; a.target = "_blank"; a.rel = "noopener";
      a.textContent = url;
      frag.appendChild(a);
      at = offset + url.length;
      return url;
    });
    frag.appendChild(kept(text.slice(at)));
    return frag;
  }

  // Like LINE: once the conversation moves on, earlier quick replies can no longer be tapped.
  function retireQuickReplies() {
    log.querySelectorAll(".quick:not(.used) .quick-reply").forEach(function (el) { el.disabled = true; });
    log.querySelectorAll(".quick:not(.used)").forEach(function (bar) { bar.classList.add("used"); });
  }

  function bubble(msg) {
    retireQuickReplies();
    const row = document.createElement("div");
    row.className = "msg " + (msg.direction === "in" ? "me" : "them");
    row.dataset.id = msg.id;
    const b = document.createElement("div");
    b.className = "bubble";
    b.appendChild(linkified(msg.text));
    row.appendChild(b);
    if (msg.links && msg.links.length) {
      const cards = document.createElement("div");
      cards.className = "cards";
      msg.links.forEach(function (l) {
        const a = document.createElement("a");
        a.className = "card-link";
        a.href = l.url; a.target = "_blank"; a.rel = "noopener";
        a.textContent = l.title;
        cards.appendChild(a);
      });
      row.appendChild(cards);
    }
    if (msg.buttons && msg.buttons.length) {
      const bar = document.createElement("div");
      bar.className = "quick";
      msg.buttons.forEach(function (btn) {
        const el = document.createElement("button");
        el.type = "button";
        el.className = "quick-reply";
        el.textContent = btn.label;
        el.addEventListener("click", function () { tap(bar, el, btn); });
        bar.appendChild(el);
      });
      row.appendChild(bar);
    }
    log.appendChild(row);
    return row;
  }

  // Show the start of the first new message (a long greeting is read from its top), else the bottom.
  function reveal(first) {
    const top = first.offsetTop - 8;
    log.scrollTop = Math.min(top, log.scrollHeight - log.clientHeight);
  }

  async function poll() {
    try {
      const res = await fetch(base + "/messages?after=" + last);
      if (res.ok) {
        const data = await res.json();
        let first = null;
        data.messages.forEach(function (m) {
          if (m.id <= last) return;  // a slow answer arriving after a newer one
          const row = bubble(m);
          first = first || row;
          last = m.id;
        });
        if (first) reveal(first);
        document.body.setAttribute("data-state", data.state);
      }
    } catch (e) { /* offline for a moment: try again on the next tick */ }
    setTimeout(poll, 700);
  }

  async function send(body) {
    body.id = (self.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now() + Math.random());
    try {
      const res = await fetch(base + "/say", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
      });
      return res.ok;
    } catch (e) {
      return false;
    }
  }

  async function tap(bar, el, btn) {
    const buttons = bar.querySelectorAll(".quick-reply");
    buttons.forEach(function (b) { b.disabled = true; });  // one tap books once
    el.classList.add("chosen");
    if (!(await send({ postback: btn.data, label: btn.label })) && !bar.classList.contains("used")) {
      buttons.forEach(function (b) { b.disabled = false; });  // not sent: let the person tap again
      el.classList.remove("chosen");
    }
  }

  document.getElementById("say").addEventListener("submit", async function (ev) {
    ev.preventDefault();
    const input = document.getElementById("text");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    if (!(await send({ text: text })) && !input.value) input.value = text;  // not sent: keep what they typed
  });
  poll();
})();
