// The apply form, loaded on every visit (a module: runs after the page is parsed). Without it the form still works:
// every address field shows and the server reads only the chosen channel's.

// The proof of work: the vendored ALTCHA widget (static/vendor/altcha, loaded just before this module when the
// settings ask for it) solves the challenge in a web worker when the form is sent; here it gets that worker and the
// page's own words.
const widget = document.querySelector("altcha-widget");
if (widget && globalThis.$altcha) {
  const worker = widget.dataset.worker;
  globalThis.$altcha.algorithms.set("SHA-256", () => new Worker(worker));
  globalThis.$altcha.i18n.set(widget.getAttribute("language"), JSON.parse(widget.dataset.strings));
}

const form = document.querySelector("main form");
if (form) {
  form.classList.add("js");

  // Only the chosen channel's address: SMS asks for the phone, e-mail for the address, LINE for nothing.
  const addresses = [...form.querySelectorAll(".address[data-channels]")];
  const none = form.querySelector(".no-address");
  const showAddress = () => {
    const chosen = form.querySelector("input[name=channel]:checked");
    let shown = 0;
    for (const box of addresses) {
      const wanted = !chosen || box.dataset.channels.split(" ").includes(chosen.value);
      box.hidden = !wanted;
      shown += wanted ? 1 : 0;
    }
    if (none) none.hidden = !chosen || shown > 0;
  };
  // The chosen job's pay, place and hours under the list of jobs.
  const showJob = (id) => {
    for (const box of form.querySelectorAll(".job-summary[data-job]")) box.hidden = box.dataset.job !== id;
  };
  const jobs = form.querySelector("select#job");
  if (jobs) showJob(jobs.value);

  form.addEventListener("change", (event) => {
    if (event.target.name === "channel") showAddress();
    if (event.target.name === "job") showJob(event.target.value);
  });
  showAddress();

  // A page that came back with mistakes: the first field to correct gets the focus (its error is read with it).
  const first = form.querySelector("[aria-invalid=true]");
  if (first) first.focus();
}
