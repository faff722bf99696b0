// Keyboard shortcuts of the work queues (shown on the page): j/k move between cases,
// t takes the selected case, Enter opens it (native link), / goes to the filters.
// After htmx refreshes the list, the focus returns to the same case.
(function () {
  "use strict";
  var selectedRef = null;

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue-list tbody tr"));
  }

  function focusRow(row) {
    if (!row) return;
    selectedRef = row.getAttribute("data-ref");
    rows().forEach(function (r) { r.classList.toggle("selected", r === row); });
    var link = row.querySelector("a.case-link");
    if (link) link.focus();
  }

  function currentRow() {
    var active = document.activeElement;
    return active && active.closest ? active.closest("#queue-list tbody tr") : null;
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.tagName === "INPUT" || target.tagName === "SELECT" ||
      target.tagName === "TEXTAREA" || target.isContentEditable);
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    var all = rows();
    var row = currentRow();
    var index = row ? all.indexOf(row) : -1;
    if (event.key === "j") {
      focusRow(all[Math.min(all.length - 1, index + 1)]);
      event.preventDefault();
    } else if (event.key === "k") {
      focusRow(all[Math.max(0, index - 1)]);
      event.preventDefault();
    } else if (event.key === "t" && row) {
      var take = row.querySelector("button.take");
      if (take) { take.click(); event.preventDefault(); }
    } else if (event.key === "/") {
      var filter = document.getElementById("f-channel");
      if (filter) { filter.focus(); event.preventDefault(); }
    }
  });

  document.addEventListener("focusin", function () {
    var row = currentRow();
    if (row) selectedRef = row.getAttribute("data-ref");
  });

  document.body.addEventListener("htmx:afterSwap", function () {
    if (!selectedRef) return;
    var again = document.querySelector('#queue-list tr[data-ref="' + selectedRef + '"]');
    if (again && document.activeElement === document.body) focusRow(again);
  });
})();
