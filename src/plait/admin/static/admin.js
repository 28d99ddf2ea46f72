// Plait admin: small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // "Select all" in the list, and a live count of the picked rows.
  function selection() {
    var all = document.querySelector("[data-select-all]");
    var count = document.querySelector("[data-selected-count]");
    var boxes = Array.prototype.slice.call(document.querySelectorAll('input[name="selected"]'));
    function update() {
      var picked = boxes.filter(function (b) { return b.checked; }).length;
      if (count) { count.textContent = picked ? picked + " of " + boxes.length + " selected" : ""; }
      if (all) { all.checked = picked > 0 && picked === boxes.length; all.indeterminate = picked > 0 && picked < boxes.length; }
    }
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (b) { b.checked = all.checked; });
        update();
      });
    }
    boxes.forEach(function (b) { b.addEventListener("change", update); });
  }

  // prepopulated_fields: a slug follows its source fields until someone types into it.
  function slugify(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 50);
  }
  function prepopulate() {
    document.querySelectorAll("[data-prepopulate]").forEach(function (target) {
      var touched = target.value !== "";
      var sources = target.getAttribute("data-prepopulate").split(" ").map(function (name) {
        return document.getElementById("id_" + name);
      }).filter(Boolean);
      target.addEventListener("input", function () { touched = target.value !== ""; });
      sources.forEach(function (source) {
        source.addEventListener("input", function () {
          if (touched) { return; }
          target.value = slugify(sources.map(function (s) { return s.value; }).join(" "));
        });
      });
    });
  }

  // autocomplete_fields: suggestions from the admin as the user types an id or a name.
  function autocomplete() {
    document.querySelectorAll("[data-autocomplete]").forEach(function (input, index) {
      var list = document.createElement("datalist");
      list.id = "autocomplete-" + index;
      input.setAttribute("list", list.id);
      input.after(list);
      var form = input.closest("[data-admin-list]");
      if (!form) { return; }
      var url = form.getAttribute("data-admin-list") + "/autocomplete";
      var timer = null;
      input.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          var query = new URLSearchParams({ field: input.getAttribute("data-autocomplete"), q: input.value });
          fetch(url + "?" + query, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : []; })
            .then(function (rows) {
              list.replaceChildren.apply(list, rows.map(function (row) {
                var option = document.createElement("option");
                option.value = String(row.id);
                option.label = row.label;
                return option;
              }));
            });
        }, 200);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { selection(); prepopulate(); autocomplete(); });
})();
