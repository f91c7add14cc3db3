// The apply form's proof of work: the vendored ALTCHA widget (static/vendor/altcha, loaded just before this module)
// solves the challenge in a web worker when the form is sent; here it gets that worker and the page's own words.
const widget = document.querySelector("altcha-widget");
if (widget && globalThis.$altcha) {
  const worker = widget.dataset.worker;
  globalThis.$altcha.algorithms.set("SHA-256", () => new Worker(worker));
  globalThis.$altcha.i18n.set(widget.getAttribute("language"), JSON.parse(widget.dataset.strings));
}
