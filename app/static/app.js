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
