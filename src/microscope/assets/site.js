(function () {
  "use strict";
  // Big layer grids: thumbnails after the first rows carry data-src and load as their cell
  // nears the viewport (Chrome's loading="lazy" margin would fetch ~200 at once).
  var deferred = document.querySelectorAll("img[data-src]");
  var show = function (img) { img.src = img.getAttribute("data-src"); img.removeAttribute("data-src"); };
  if (deferred.length && !("IntersectionObserver" in window)) Array.prototype.forEach.call(deferred, show);
  else if (deferred.length) {
    var watcher = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (!e.isIntersecting) return;
        watcher.unobserve(e.target);
        var img = e.target.querySelector("img[data-src]");
        if (img) show(img);
      });
    }, { rootMargin: "200px 0px" });
    Array.prototype.forEach.call(deferred, function (img) { watcher.observe(img.parentNode); });
  }
  var body = document.body;
  var modelRoot = body.getAttribute("data-model-root");
  function go(href) { if (href) window.location.href = href; }
  function findLayer(text) {
    var layers = window.FEATVIS_LAYERS || [];
    var pick = function (f) { var m = layers.filter(f); return m.length === 1 ? m[0] : null; };
    return pick(function (l) { return l.name === text || l.slug === text; }) ||
           pick(function (l) { return l.name.slice(-(text.length + 1)) === "/" + text; }) ||
           pick(function (l) { return l.name.indexOf(text) >= 0; });
  }
  // "layer:unit" or "layer"; layer names may themselves contain ':'.
  function jump(text) {
    var error = document.getElementById("jump-error");
    error.textContent = "";
    text = text.trim();
    var name = text, unit = null, colon = text.lastIndexOf(":");
    if (colon >= 0 && /^\d+$/.test(text.slice(colon + 1))) { name = text.slice(0, colon); unit = parseInt(text.slice(colon + 1), 10); }
    var layer = findLayer(name);
    if (!layer) { error.textContent = "no single layer matches '" + name + "'"; return; }
    if (unit === null) { go(modelRoot + layer.slug + "/"); return; }
    if (layer.units.indexOf(unit) < 0) {
      error.textContent = "unit " + unit + " of " + layer.name + " is not in this site"; return;
    }
    go(modelRoot + layer.slug + "/" + unit + "/");
  }
  var form = document.getElementById("jump");
  if (form) form.addEventListener("submit", function (e) { e.preventDefault(); jump(document.getElementById("jump-input").value); });
  var keys = { ArrowLeft: "prev", ArrowRight: "next", ArrowUp: "up", u: "up", "[": "prevLayer", "]": "nextLayer" };
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.altKey || e.ctrlKey || e.metaKey || (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA"))) return;
    if (e.key === "/" && form) { e.preventDefault(); document.getElementById("jump-input").focus(); return; }
    var target = keys[e.key] && body.dataset[keys[e.key]];
    if (target) { e.preventDefault(); go(target); }
  });
})();
