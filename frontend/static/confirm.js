// Forms with data-confirm ask before they submit (instead of an inline onsubmit, which the CSP forbids).
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});
