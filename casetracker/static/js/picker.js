/* Pickers: choose an agency, an agreement or an officer by typing (registry/pickers.py).
   Without this script the "Find" button submits the form and the page comes back with the
   matches as radio buttons; with it, suggestions appear under the box while typing and
   choosing one fills the hidden id. Suggestions are written with textContent (never HTML). */
(function () {
  "use strict";
  var counter = 0;

  function setup(box) {
    var input = box.querySelector("input[type=text], input[type=search]");
    var url = box.getAttribute("data-picker-url");
    var field = box.getAttribute("data-picker-field");
    if (!input || !url || !field) { return; }
    var form = input.form;
    var hidden = box.querySelector("input[data-picker-id]");
    var list = document.createElement("ul");
    var status = document.createElement("p");
    var listId = "picker-list-" + (++counter);
    var timer = null;
    var active = -1;
    var rows = [];
    list.id = listId;
    list.className = "picker-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    status.className = "visually-hidden";
    status.setAttribute("aria-live", "polite");
    input.parentNode.insertBefore(list, input.nextSibling);
    box.appendChild(status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("autocomplete", "off");

    function ensureHidden() {
      if (!hidden) {
        hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = field;
        hidden.setAttribute("data-picker-id", "");
        box.appendChild(hidden);
      }
      return hidden;
    }
    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function choose(row) {
      // The no-JavaScript matches (radio buttons) give way to the one chosen here.
      box.querySelectorAll(".picker-results").forEach(function (el) { el.remove(); });
      ensureHidden().value = String(row.id);
      input.value = row.label;
      box.setAttribute("data-picked", "1");
      close();
      status.textContent = row.label;
      box.dispatchEvent(new CustomEvent("picker:chosen", { bubbles: true, detail: row }));
    }
    function highlight(index) {
      var items = list.querySelectorAll("li");
      items.forEach(function (li, i) { li.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0 && items[index]) { input.setAttribute("aria-activedescendant", items[index].id); }
    }
    function show(found) {
      rows = found;
      while (list.firstChild) { list.removeChild(list.firstChild); }
      found.forEach(function (row, i) {
        var li = document.createElement("li");
        li.id = listId + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("data-id", String(row.id));
        li.textContent = row.label;
        if (row.hint) {
          var hint = document.createElement("span");
          hint.className = "hint";
          hint.textContent = " " + row.hint;
          li.appendChild(hint);
        }
        li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(row); });
        list.appendChild(li);
      });
      list.hidden = found.length === 0;
      input.setAttribute("aria-expanded", found.length ? "true" : "false");
      status.textContent = found.length ? found.length + " " + (box.getAttribute("data-picker-count") || "suggestions") : (box.getAttribute("data-picker-none") || "");
      active = -1;
    }
    function fetchRows() {
      var q = input.value.trim();
      var agency = box.getAttribute("data-picker-agency") || "";
      if (q.length < 2 && !agency) { show([]); return; }
      var address = url + "?q=" + encodeURIComponent(q) + (agency ? "&agency_id=" + encodeURIComponent(agency) : "");
      fetch(address, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (found) { if (input.value.trim() === q) { show(found); } })
        .catch(function () { /* the Find button still works */ });
    }
    input.addEventListener("input", function () {
      var radio = document.querySelector("[data-picker-select-for=\"" + input.id.replace(/-q$/, "") + "\"]");
      if (radio) { radio.checked = true; }
      if (hidden) { hidden.value = ""; }
      box.removeAttribute("data-picked");
      clearTimeout(timer);
      timer = setTimeout(fetchRows, 200);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && rows.length) {
        event.preventDefault(); list.hidden = false; highlight(Math.min(active + 1, rows.length - 1));
      } else if (event.key === "ArrowUp" && rows.length) {
        event.preventDefault(); highlight(Math.max(active - 1, 0));
      } else if (event.key === "Enter" && !list.hidden && rows.length) {
        event.preventDefault(); choose(rows[active >= 0 ? active : 0]);
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    if (form) { form.setAttribute("data-picker-form", "1"); }
  }

  document.querySelectorAll("[data-picker-url]").forEach(setup);
})();
