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

  // The company's name is one word too, when it fits on a line (phrase breaking cut "そよか/ぜベーカリー").
  const company = log.dataset.company || "";
  const KEEP = company && company.length <= 16
    ? new RegExp(company.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "|" + KEEP_RE.source, "g") : KEEP_RE;

  // Plain text as a fragment, each date, time and phone number in a span that does not wrap.
  function kept(text) {
    const frag = document.createDocumentFragment();
    let at = 0;
    text.replace(KEEP, function (found, offset) {
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
  let opened = false;

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

  function row(msg, className) {
    const el = document.createElement("div");
    el.className = "msg " + (msg.direction === "in" ? "me" : "them") + (className ? " " + className : "");
    el.dataset.id = msg.id;
    return el;
  }

  function textBubble(text) {
    const b = document.createElement("div");
    b.className = "bubble";
    b.appendChild(linkified(text));
    return b;
  }

  // The videos and articles as cards: the thumbnail (https only, as LINE shows them) above the title, which
  // names the link, so the image itself says nothing more (alt="").
  function cards(links) {
    const list = document.createElement("ul");
    list.className = "cards";
    list.setAttribute("aria-label", log.dataset.contents || "");
    links.forEach(function (l) {
      if (!/^https?:\/\//.test(l.url || "")) return;
      const item = document.createElement("li");
      const a = document.createElement("a");
      a.className = "card-link";
      a.href = l.url; a.target = "_blank"; a.rel = "noopener";
      // Without a picture (or when it does not load) the card keeps its height, its kind written in its place.
      const blank = document.createElement("span");
      blank.className = "card-blank";
      blank.setAttribute("aria-hidden", "true");
      blank.textContent = log.dataset[l.kind] || log.dataset.article || "";
      if (/^https:\/\//.test(l.thumbnail || "")) {
        const img = document.createElement("img");
        img.alt = ""; img.width = 168; img.height = 95;
        img.addEventListener("error", function () { img.replaceWith(blank); });
        img.src = l.thumbnail;
        a.appendChild(img);
      } else {
        a.appendChild(blank);
      }
      const title = document.createElement("span");
      title.className = "card-title";
      title.textContent = l.title;
      const kind = document.createElement("span");
      kind.className = "card-kind";
      kind.textContent = log.dataset[l.kind] || log.dataset.article || "";
      a.appendChild(title); a.appendChild(kind);
      item.appendChild(a);
      list.appendChild(item);
    });
    return list;
  }

  function quickBar(buttons) {
    const bar = document.createElement("div");
    bar.className = "quick";
    buttons.forEach(function (btn) {
      const el = document.createElement("button");
      el.type = "button";
      el.className = "quick-reply";
      el.textContent = btn.label;
      el.addEventListener("click", function () { tap(bar, el, btn); });
      bar.appendChild(el);
    });
    return bar;
  }

  // A text without the lines that only repeat a card's address (an older greeting wrote its links out).
  function withoutLinkLines(text, links) {
    const urls = links.map(function (l) { return l.url; });
    return text.split("\n").filter(function (line) {
      return !urls.some(function (u) { return u && line.indexOf(u) !== -1; });
    }).join("\n").replace(/\n{3,}/g, "\n\n").trim();
  }

  // One message as rows of bubbles: a greeting told in parts is a few short bubbles, its cards and its buttons.
  function bubbles(msg) {
    if (msg.direction === "in") {  // a tap stored as its label: the button stays marked after a reload
      log.querySelectorAll(".quick:not(.used) .quick-reply").forEach(function (el) {
        if (el.textContent === msg.text) el.classList.add("chosen");
      });
    }
    retireQuickReplies();
    let parts = msg.parts;
    if (!parts || !parts.length) {
      const links = msg.links || [];
      parts = [{ text: links.length ? withoutLinkLines(msg.text, links) : msg.text, links: links,
                 buttons: msg.buttons || [] }];
    }
    const rows = [];
    parts.forEach(function (part) {
      if (part.text) {
        const r = row(msg);
        r.appendChild(textBubble(part.text));
        rows.push(r);
      }
      if (part.links && part.links.length) {
        const r = row(msg, "content");
        r.appendChild(cards(part.links));
        rows.push(r);
      }
      if (part.buttons && part.buttons.length) {
        if (!rows.length) rows.push(row(msg));
        rows[rows.length - 1].appendChild(quickBar(part.buttons));  // under the bubble that asks
      }
    });
    if (!rows.length) {  // an empty message still takes its place in the conversation
      rows.push(row(msg));
      rows[0].appendChild(textBubble(msg.text || ""));
    }
    rows.forEach(function (r) { log.appendChild(r); });
    return rows;
  }

  // Show the newest message: on opening always (a reopened chat continues where it ended, and the times to tap
  // are at the bottom); later, the start of the new messages when together they are taller than the screen.
  function reveal(first, opening) {
    const bottom = log.scrollHeight - log.clientHeight;
    log.scrollTop = opening ? bottom : Math.min(first.offsetTop - 8, bottom);
  }

  async function poll() {
    try {
      const res = await fetch(base + "/messages?after=" + last);
      if (res.ok) {
        const data = await res.json();
        let first = null;
        const opening = !opened;
        data.messages.forEach(function (m) {
          if (m.id <= last) return;  // a slow answer arriving after a newer one
          const rows = bubbles(m);
          first = first || rows[0];
          last = m.id;
        });
        if (first) reveal(first, opening);
        document.body.setAttribute("data-state", data.state);
        opened = opened || first !== null;  // an empty first answer: the greeting still opens at its buttons
        log.setAttribute("aria-busy", "false");  // the history is drawn: from now on new messages are read out
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
