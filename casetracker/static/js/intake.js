/* Progressive enhancement for the public complaint form. Everything works without it:
   - agency suggestions while typing (fills the <datalist>; the server matches on submit),
   - a character counter under long text boxes,
   - the third-party questions shown only when someone else was affected,
   - the error summary receives focus when the form comes back with errors. */
(function () {
  "use strict";
  var lang = document.documentElement.getAttribute("lang") || "en";
  var words = {
    en: { left: " characters left", over: " characters too many" },
    es: { left: " caracteres disponibles", over: " caracteres de más" }
  }[lang] || { left: " characters left", over: " characters too many" };

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
  function refresh() {
    if (thirdParty) {
      var chosen = form.querySelector("input[name=complainant_role]:checked");
      thirdParty.hidden = !(chosen && chosen.value === "third_party");
    }
  }
  form.addEventListener("change", refresh);
  refresh();
})();
