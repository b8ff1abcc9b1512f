// Forms marked data-confirm="question" ask before they are sent (the Content-Security-Policy
// allows no inline onsubmit handlers).
document.addEventListener("submit", function (e) {
  var form = e.target, question = form && form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) e.preventDefault();
}, true);
