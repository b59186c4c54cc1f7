/* Progressive enhancement for the public complaint form. Everything works without it:
   - agency suggestions while typing (fills the <datalist>; the server matches on submit),
   - a character counter under long text boxes,
   - the third-party questions shown only when someone else was affected,
   - "File anonymously" hides (and leaves out) the name and contact fields,
   - Enter in an agency box looks the agency up instead of going on,
   - a send button is pressed once (the server files once anyway),
   - the error summary receives focus when the form comes back with errors. */
(function () {
  "use strict";
  var lang = document.documentElement.getAttribute("lang") || "en";
  var words = {
    en: { left: " characters left", over: " characters too many",
          discard: "Remove everything you entered and your files, and start again?" },
    es: { left: " caracteres disponibles", over: " caracteres de más",
          discard: "¿Borrar todo lo que escribió y sus archivos, y empezar de nuevo?" }
  }[lang] || { left: " characters left", over: " characters too many",
               discard: "Remove everything you entered and your files, and start again?" };

  // A send button is pressed once: a second click while the page loads does nothing.
  document.querySelectorAll("[data-send-once]").forEach(function (button) {
    var form = button.form;
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sending")) { event.preventDefault(); return; }
      form.setAttribute("data-sending", "1");
      button.setAttribute("aria-disabled", "true");
    });
  });
  document.querySelectorAll("button[value=discard]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(words.discard)) { event.preventDefault(); }
    });
  });

  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }

  // Agency suggestions
  var list = document.getElementById("agency-list");
  var timer = null;
  function suggest(input) {
    var q = input.value.trim();
    if (!list || q.length < 2) { return; }
    fetch("/complaint/agencies?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (rows) {
        while (list.firstChild) { list.removeChild(list.firstChild); }
        rows.forEach(function (row) {
          var option = document.createElement("option");
          option.value = row.label;
          list.appendChild(option);
        });
      })
      .catch(function () { /* suggestions are a convenience only */ });
  }
  document.querySelectorAll("[data-agency-input]").forEach(function (input) {
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { suggest(input); }, 250);
    });
    // Enter here means "find this agency", not "continue".
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      var find = document.querySelector("[data-find-agency='" + input.getAttribute("data-agency-input") + "']");
      if (find) { event.preventDefault(); find.click(); }
    });
  });

  // Character counters
  document.querySelectorAll("textarea[data-counter]").forEach(function (area) {
    var max = parseInt(area.getAttribute("maxlength"), 10);
    if (!max || max < 1000) { return; }
    var out = document.createElement("p");
    out.className = "char-count";
    out.id = area.id + "-count";
    out.setAttribute("aria-live", "polite");
    area.parentNode.insertBefore(out, area.nextSibling);
    function update() {
      var left = max - area.value.length;
      out.textContent = left >= 0 ? left.toLocaleString() + words.left : (-left).toLocaleString() + words.over;
    }
    area.addEventListener("input", update);
    update();
  });

  // Sections that depend on a choice
  var form = document.getElementById("complaint-form");
  if (!form) { return; }
  var thirdParty = form.querySelector("[data-show-when]");
  var anonymous = form.querySelector("[data-hides]");
  var contact = anonymous ? document.getElementById(anonymous.getAttribute("data-hides")) : null;
  function refresh() {
    if (thirdParty) {
      var chosen = form.querySelector("input[name=complainant_role]:checked");
      thirdParty.hidden = !(chosen && chosen.value === "third_party");
    }
    if (contact) {
      // Hidden fields are also left out of what is sent (disabled), so what was typed in them
      // comes back if "anonymously" is unticked, and is never sent with an anonymous complaint.
      contact.hidden = anonymous.checked;
      contact.querySelectorAll("input, textarea, select").forEach(function (el) {
        el.disabled = anonymous.checked;
      });
    }
  }
  form.addEventListener("change", refresh);
  refresh();
})();
