/* The caseworker page's only script (no inline scripts: the CSP forbids them).
 * - sends the API token (asked once, kept in sessionStorage) as the bearer header of
 *   every htmx request, and asks again after a 401;
 * - reads a chosen facts file in the browser and posts its text to /ui/form;
 * - when the assessment date changes and a fact has dated values, draws the form anew
 *   (/ui/form) so each such field shows its value on the new date;
 * - the print button of the print view. */
(function () {
  "use strict";
  var KEY = "eligibility.token";
  function token() { try { return sessionStorage.getItem(KEY) || ""; } catch (e) { return ""; } }
  function panel() { return document.getElementById("token-panel"); }
  function askToken(wrong) {
    var p = panel();
    if (!p) { return; }
    p.hidden = false;
    document.getElementById("token-error").hidden = !wrong;
    document.getElementById("token-input").focus();
  }
  function upload() {
    var file = document.getElementById("upload-file");
    var chosen = file.files && file.files[0];
    if (!chosen) { return; }
    chosen.text().then(function (text) {
      document.getElementById("upload-text").value = text;
      document.getElementById("upload-name").value = chosen.name;
      htmx.ajax("POST", "/ui/form", {source: "#household", target: "#household-fields",
                                     swap: "innerHTML"})
        .then(function () {
          document.getElementById("upload-text").value = "";
          document.getElementById("upload-name").value = "";
        });
    });
  }
  /* capture phase on the document: the date input is swapped in anew after an upload */
  document.addEventListener("change", function (evt) {
    if (!evt.target || evt.target.id !== "as_of") { return; }
    if (!document.querySelector("#household-fields [data-dated]")) { return; }
    evt.stopPropagation();  /* /ui/form also returns the decision */
    htmx.ajax("POST", "/ui/form", {source: "#household", target: "#household-fields",
                                   swap: "innerHTML"});
  }, true);
  document.addEventListener("htmx:configRequest", function (evt) {
    var t = token();
    if (t) { evt.detail.headers["Authorization"] = "Bearer " + t; }
  });
  document.addEventListener("htmx:responseError", function (evt) {
    if (evt.detail.xhr && evt.detail.xhr.status === 401) { askToken(true); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var p = panel();
    if (p && p.dataset.required === "true" && !token()) { askToken(false); }
    var tokenForm = document.getElementById("token-form");
    if (tokenForm) {
      tokenForm.addEventListener("submit", function (evt) {
        evt.preventDefault();
        var value = document.getElementById("token-input").value.trim();
        try { sessionStorage.setItem(KEY, value); } catch (e) { /* private mode */ }
        panel().hidden = true;
        var chosen = document.getElementById("upload-file");
        chosen.focus();
        /* resend what the refused request was for: the chosen file, else the form */
        if (chosen.files && chosen.files.length && !document.getElementById("previous").value) {
          upload();
        } else {
          htmx.trigger("#household", "submit");
        }
      });
    }
    var file = document.getElementById("upload-file");
    if (file) { file.addEventListener("change", upload); }

  });
  document.addEventListener("click", function (evt) {
    var target = evt.target;
    if (target && target.id === "print-button") { window.print(); }
  });
  document.addEventListener("htmx:afterSwap", function (evt) {
    var view = document.getElementById("print-view");
    if (view && evt.detail.target && evt.detail.target.id === "print-result") { view.focus(); }
  });
})();
