// Redaction: drag rectangles on a photo to cover faces, number plates or anything personal.
// The rectangles, in the photo's own pixels, fill the form's `boxes` field as
// "x,y,width,height; ..."; the server paints them over in a public copy and keeps the
// original for staff. Without JavaScript the field can be typed by hand.
(function () {
  Array.prototype.forEach.call(document.querySelectorAll(".redact"), function (box) {
    var img = box.querySelector(".redact-image"), field = box.querySelector(".redact-boxes");
    if (!img || !field) return;
    var wrap = document.createElement("div"); wrap.className = "redact-wrap";
    img.parentNode.insertBefore(wrap, img); wrap.appendChild(img);
    var canvas = document.createElement("canvas"); canvas.className = "redact-canvas";
    wrap.appendChild(canvas);
    var rects = [], start = null;
    function scale() { return img.naturalWidth / img.clientWidth; }
    function draw(extra) {
      canvas.width = img.clientWidth; canvas.height = img.clientHeight;
      var c = canvas.getContext("2d"), k = scale();
      c.fillStyle = "rgba(0,0,0,0.7)"; c.strokeStyle = "#b3261e";
      rects.concat(extra ? [extra] : []).forEach(function (r) {
        c.fillRect(r.x / k, r.y / k, r.w / k, r.h / k); c.strokeRect(r.x / k, r.y / k, r.w / k, r.h / k);
      });
    }
    function at(e) {
      var b = canvas.getBoundingClientRect(), k = scale();
      var x = Math.min(Math.max(e.clientX - b.left, 0), b.width), y = Math.min(Math.max(e.clientY - b.top, 0), b.height);
      return { x: Math.round(x * k), y: Math.round(y * k) };
    }
    function rect(a, b) {
      return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), w: Math.abs(a.x - b.x), h: Math.abs(a.y - b.y) };
    }
    function sync() { field.value = rects.map(function (r) { return [r.x, r.y, r.w, r.h].join(","); }).join("; "); }
    canvas.addEventListener("pointerdown", function (e) { start = at(e); canvas.setPointerCapture(e.pointerId); });
    canvas.addEventListener("pointermove", function (e) { if (start) draw(rect(start, at(e))); });
    canvas.addEventListener("pointerup", function (e) {
      if (!start) return;
      var r = rect(start, at(e)); start = null;
      if (r.w > 2 && r.h > 2) { rects.push(r); sync(); }
      draw();
    });
    field.addEventListener("change", function () {
      rects = field.value.split(";").map(function (p) { return p.split(",").map(Number); })
        .filter(function (n) { return n.length === 4 && n.every(isFinite); })
        .map(function (n) { return { x: n[0], y: n[1], w: n[2], h: n[3] }; });
      draw();
    });
    if (img.complete) draw(); else img.addEventListener("load", function () { draw(); });
    window.addEventListener("resize", function () { draw(); });
  });
})();
