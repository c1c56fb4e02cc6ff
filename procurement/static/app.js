// Site-wide behaviour, kept out of the pages so the CSP can forbid inline scripts.
document.addEventListener("submit", function (event) {
  const button = event.submitter;
  const text = button && button.dataset.confirm;
  if (text && !window.confirm(text)) {
    event.preventDefault();
    return;
  }
  // One click, one submission: a double click must not post twice.
  const form = event.target;
  if (form.method.toLowerCase() === "post") {
    if (form.dataset.submitted) {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "1";
  }
});
document.addEventListener("click", function (event) {
  const target = event.target.closest("[data-print]");
  if (target) {
    event.preventDefault();
    window.print();
  }
});
