// The live view: refreshes the callers' table every 3 seconds without reloading,
// and sends the control forms in the background. Without this script the page
// still works: every control is a form that posts and comes back.
(function () {
  "use strict";
  var table = document.getElementById("live");
  if (!table) { return; }
  var url = table.getAttribute("data-refresh");
  var stamp = document.getElementById("refreshed");

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (res) { return res.ok ? res.text() : Promise.reject(res.status); })
      .then(function (html) {
        var body = document.getElementById("callers");
        var holder = document.createElement("table");
        holder.innerHTML = html;
        var fresh = holder.querySelector("tbody");
        if (body && fresh) { body.replaceWith(fresh); }
        if (stamp) { stamp.textContent = new Date().toLocaleTimeString(document.documentElement.lang); }
      })
      .catch(function () { /* the next tick tries again */ });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("control")) { return; }
    event.preventDefault();
    var data = new URLSearchParams(new FormData(form));
    data.append("js", "1");
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin" })
      .then(refresh);
  });

  setInterval(refresh, 3000);
})();
