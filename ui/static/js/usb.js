/* USB progress screen: poll the job, move the bar, show the result when it is done. */
(function () {
  "use strict";
  var box = document.getElementById("usb-job");
  if (!box) { return; }
  var bar = document.getElementById("usb-progress");
  var count = document.getElementById("usb-count");
  function poll() {
    fetch(box.getAttribute("data-job-url"), {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (j) {
        if (j.state !== "running") { window.location.reload(); return; }
        if (j.total) {
          bar.value = Math.floor(100 * j.done / j.total);
          bar.textContent = bar.value + "%";
          count.textContent = count.textContent.replace(/\d+(\D+)\d+/, j.done + "$1" + j.total);
        }
        window.setTimeout(poll, 500);
      })
      .catch(function () { window.setTimeout(poll, 1000); });
  }
  window.setTimeout(poll, 300);
}());
