// Sandbox chat: poll the message log, draw LINE-like bubbles, send text and button taps.
(function () {
  const log = document.getElementById("log");
  const token = log.dataset.token;
  const base = "/chat/" + encodeURIComponent(token);
  let last = 0;

  function bubble(msg) {
    const row = document.createElement("div");
    row.className = "msg " + (msg.direction === "in" ? "me" : "them");
    row.dataset.id = msg.id;
    const b = document.createElement("div");
    b.className = "bubble";
    b.textContent = msg.text;
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
        el.addEventListener("click", function () { send({ postback: btn.data, label: btn.label }); });
        bar.appendChild(el);
      });
      row.appendChild(bar);
    }
    log.appendChild(row);
    log.scrollTop = log.scrollHeight;
  }

  async function poll() {
    try {
      const res = await fetch(base + "/messages?after=" + last);
      if (res.ok) {
        const data = await res.json();
        data.messages.forEach(function (m) { bubble(m); last = Math.max(last, m.id); });
        document.body.dataset.state = data.state;
      }
    } catch (e) { /* offline for a moment: try again on the next tick */ }
    setTimeout(poll, 700);
  }

  async function send(body) {
    body.id = (self.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now() + Math.random());
    await fetch(base + "/say", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
    });
  }

  document.getElementById("say").addEventListener("submit", function (ev) {
    ev.preventDefault();
    const input = document.getElementById("text");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ text: text });
  });
  poll();
})();
