// The fields' extra questions: show only the chosen field's, and disable the others so they
// are not sent. Without JavaScript every field's questions show, and the server reads only
// the chosen field's answers. `phananhAnswers(form)` gives the answers as the JSON API
// takes them ({question: [values]}), for the citizens' form sent by script.
(function () {
  function chosen(form) {
    var radio = form.querySelector('input[name="field"]:checked');
    if (radio) return radio.value;
    var select = form.querySelector('select[name="field"]');
    return select ? select.value : "";
  }
  function update(form) {
    var field = chosen(form);
    Array.prototype.forEach.call(form.querySelectorAll(".questions[data-field]"), function (g) {
      var on = g.dataset.field === field;
      g.hidden = !on;
      Array.prototype.forEach.call(g.querySelectorAll("input, select, textarea"), function (i) { i.disabled = !on; });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
    if (!form.querySelector(".questions[data-field]")) return;
    update(form);
    form.addEventListener("change", function (e) { if (e.target.name === "field") update(form); });
  });
  window.phananhAnswers = function (form) {
    var out = {}, g = form.querySelector('.questions[data-field="' + chosen(form) + '"]');
    if (!g) return out;
    Array.prototype.forEach.call(g.querySelectorAll("[data-code]"), function (i) {
      if ((i.type === "checkbox" && !i.checked) || !i.value.trim()) return;
      var v = i.value.trim();
      if (i.type === "datetime-local" && v.length === 16) v += ":00+07:00";
      (out[i.dataset.code] = out[i.dataset.code] || []).push(v);
    });
    return out;
  };
})();
