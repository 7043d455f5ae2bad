// Start GOV.UK Frontend components, and keep them and CSRF working with htmx.
import { initAll } from "/static/vendor/govuk-frontend/govuk-frontend.min.js";

initAll();

const csrf = document.querySelector('meta[name="csrf-token"]');
document.body.addEventListener("htmx:configRequest", (event) => {
  if (csrf) event.detail.headers["X-CSRF-Token"] = csrf.content;
});
document.body.addEventListener("htmx:afterSwap", (event) => {
  initAll({ scope: event.detail.target });
});

// The audit form answers a stale save (409) or an invalid answer (422) with a message to show in its save
// status; htmx 2 does not swap 4xx responses unless told to.
document.body.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if ((status === 409 || status === 422) && event.detail.elt.closest("[data-app-swap-errors]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
// While an answer is being saved, say so; the response replaces this with "Saved" or the problem.
document.body.addEventListener("htmx:beforeRequest", (event) => {
  const form = event.detail.elt;
  if (form.matches && form.matches("[data-app-swap-errors]")) {
    const status = form.querySelector("#save-status");
    if (status) status.textContent = "Saving…";
  }
});
document.body.addEventListener("htmx:sendError", (event) => {
  const status = event.detail.elt.querySelector && event.detail.elt.querySelector("#save-status");
  if (status) status.textContent = "Your answer could not be saved: check your connection, then change it again or press the button.";
});
