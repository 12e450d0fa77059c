/* Live queue screens: follow the branch's server-sent events and refresh the parts of the page
   marked data-live by fetching the page again (the server renders it in the viewer's language).
   No libraries, no external assets. */
(function () {
  "use strict";
  var config = document.querySelector("[data-events]");
  if (!config || !window.EventSource || !window.fetch || !window.DOMParser) { return; }
  var events = config.getAttribute("data-events");
  var src = config.getAttribute("data-live-src") || window.location.pathname;
  var timer = null;
  var busy = false;
  var again = false;
  var cueWanted = false;

  function cueKey() {
    var cue = document.querySelector("[data-cue]");
    return cue ? cue.getAttribute("data-cue") : "";
  }

  function speak() {
    var cue = document.querySelector("[data-cue]");
    if (!cue) { return; }
    var now = document.getElementById("display-now");
    if (now) {
      now.classList.remove("flash");
      void now.offsetWidth;
      now.classList.add("flash");
    }
    if (window.speechSynthesis && window.SpeechSynthesisUtterance) {
      try {
        var words = new window.SpeechSynthesisUtterance(cue.textContent.trim());
        words.lang = document.documentElement.lang || "en";
        window.speechSynthesis.speak(words);
      } catch (ignored) { /* no voice on this device: the cue text stays on screen */ }
    }
  }

  function alertCount() { return document.querySelectorAll("[data-alert]").length; }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var active = document.activeElement;
    var alertsBefore = alertCount();
    var cueBefore = cueKey();
    document.querySelectorAll("[data-live]").forEach(function (old) {
      var replacement = old.id ? fresh.getElementById(old.id) : null;
      if (!replacement) { return; }
      if (active && active !== document.body && old.contains(active)) { return; } // typing
      old.innerHTML = replacement.innerHTML;
    });
    if (cueWanted && cueKey() && cueKey() !== cueBefore) { speak(); }
    cueWanted = false;
    if (alertCount() > alertsBefore && navigator.vibrate) { navigator.vibrate([200, 100, 200]); }
    document.body.setAttribute("data-refreshed", String(Date.now()));
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html) { swap(html); } })
      .catch(function () { /* the next event or reconnect tries again */ })
      .then(function () {
        busy = false;
        if (again) { again = false; schedule(); }
      });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 200);
  }

  var source = new EventSource(events);
  source.addEventListener("queue", function (message) {
    try {
      var data = JSON.parse(message.data);
      if (data.type === "called" || data.type === "recalled") { cueWanted = true; }
    } catch (ignored) { /* refresh anyway */ }
    schedule();
  });
  // After a (re)connect, catch up on anything that changed while not listening.
  source.addEventListener("open", schedule);
  document.body.setAttribute("data-live-ready", "1");
})();
