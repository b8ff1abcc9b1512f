// Staff console: choosing a response template in an action's form fills its text box.
// Without this script the select does nothing and the texts are listed below, to copy.
(function () {
  var picks = document.querySelectorAll("select.template-pick");
  for (var i = 0; i < picks.length; i++) {
    picks[i].addEventListener("change", function (ev) {
      var sel = ev.target;
      var box = document.getElementById(sel.getAttribute("data-target"));
      if (!box || !sel.value) return;
      box.value = sel.value;
      box.focus();
    });
  }
})();
