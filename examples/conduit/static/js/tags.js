// The editor's tag field, one tag at a time: Enter (or a comma) adds the typed tag as a chip, the
// chip's × removes it. The form still posts one comma-separated "tags" field, which is what the
// page reads without JavaScript too. Tag text is only ever set with textContent (never as HTML).
(function () {
  "use strict";
  var box = document.querySelector("[data-tag-editor]");
  if (!box) { return; }
  var input = box.querySelector("input[data-tags]");
  var list = box.querySelector("[data-tag-list]");
  var hidden = document.createElement("input");
  hidden.type = "hidden";
  hidden.name = input.name;
  input.removeAttribute("name");
  input.parentNode.insertBefore(hidden, input);
  var tags = input.value.split(",").map(function (t) { return t.trim(); }).filter(Boolean);
  input.value = "";

  function draw() {
    hidden.value = tags.join(", ");
    list.textContent = "";
    tags.forEach(function (tag, index) {
      var item = document.createElement("li");
      var chip = document.createElement("span");
      chip.className = "tag";
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "tag__remove";
      remove.setAttribute("aria-label", "Remove tag " + tag);
      remove.textContent = "×";
      remove.addEventListener("click", function () { tags.splice(index, 1); draw(); });
      chip.appendChild(remove);
      chip.appendChild(document.createTextNode(" " + tag));
      item.appendChild(chip);
      list.appendChild(item);
    });
  }

  function add() {
    input.value.split(",").forEach(function (raw) {
      var tag = raw.trim();
      if (tag && tags.indexOf(tag) === -1) { tags.push(tag); }
    });
    input.value = "";
    draw();
  }

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" || event.key === ",") { event.preventDefault(); add(); }
  });
  input.form.addEventListener("submit", add);
  draw();
})();
