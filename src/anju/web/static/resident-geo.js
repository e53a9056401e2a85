// "Nearest safe house from my position" on /safe-houses: progressive enhancement. Without JavaScript (or without
// permission) the page works as before (from a plate, or the full list). The button is shown only when the browser
// offers geolocation; the position goes to the server as ?lon=&lat= (GET, not stored) and the page is re-rendered
// nearest first. Served from our own origin: CSP script-src 'self', Permissions-Policy geolocation=(self) on this
// page only.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var btn = document.getElementById("use-location");
    var status = document.getElementById("locate-status");
    if (!btn || !("geolocation" in navigator)) { return; }
    btn.hidden = false;
    btn.addEventListener("click", function () {
      btn.disabled = true;
      if (status) { status.textContent = btn.getAttribute("data-wait") || ""; }
      navigator.geolocation.getCurrentPosition(function (pos) {
        var lon = pos.coords.longitude.toFixed(6), lat = pos.coords.latitude.toFixed(6);
        window.location.assign("/safe-houses?lon=" + encodeURIComponent(lon) + "&lat=" + encodeURIComponent(lat));
      }, function () {
        btn.disabled = false;
        if (status) { status.textContent = btn.getAttribute("data-denied") || ""; }
      }, {enableHighAccuracy: false, timeout: 10000, maximumAge: 300000});
    });
  });
})();
