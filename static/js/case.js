// Keyboard shortcuts of the case view (listed on the page): r writes a reply, n a note,
// a goes to the actions, g goes back to the work queues. Never while typing in a field.
(function () {
  "use strict";
  var targets = {
    r: "#reply-body",
    n: "form[action$='/note/'] textarea",
    a: "details.action > summary"
  };
  document.addEventListener("keydown", function (event) {
    var t = event.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA" ||
        t.isContentEditable)) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "g") {
      var back = document.getElementById("back-to-queue");
      if (back) { window.location.href = back.href; event.preventDefault(); }
      return;
    }
    var selector = targets[event.key];
    if (!selector) return;
    var element = document.querySelector(selector);
    if (element) { element.focus(); event.preventDefault(); }
  });
})();
