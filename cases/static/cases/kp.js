// The site's own behaviour, loaded as a file on every page: the Content Security Policy lets no
// inline script or inline event handler run.
(function () {
  if (window.kpBehaviour) { return; }
  window.kpBehaviour = true;

  // A long import shows its progress and cannot be sent twice.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest(".kp-import-form");
    if (!form) { return; }
    form.querySelector("button[type=submit]").disabled = true;
    form.querySelector(".kp-progress").hidden = false;
  });

  // A button that asks first: <button data-confirm="Issue the bulletin?">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // "Back" buttons: <a data-kp-back href="...">, the link being where to go without history.
  document.addEventListener("click", function (event) {
    var back = event.target.closest("[data-kp-back]");
    if (!back || window.history.length < 2) { return; }
    event.preventDefault();
    window.history.back();
  });
})();
