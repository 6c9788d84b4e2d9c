/* Kios Perlinsos: the little JS the screens need. Local only; works without it too. */
(function () {
  "use strict";
  var body = document.body;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function post(url, form) {
    var opts = { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
    if (form) { opts.body = new URLSearchParams(form); }
    return fetch(url, opts).then(function (r) { return r.json(); });
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (r) { return r.json(); });
  }
  function play(audio) {
    if (!audio) { return; }
    try { audio.currentTime = 0; var p = audio.play(); if (p && p.catch) { p.catch(function () {}); } } catch (e) { /* no audio */ }
  }

  /* listening is activity: every prompt that starts playing is reported by its key; the
     server knows the clip's length and holds the time-out until it has finished */
  var listeningUrl = body.getAttribute("data-listening-url");
  var voices = [];
  function watch(audio) {
    if (!audio || audio.id === "timeout-audio") { return; }
    voices.push(audio);
    audio.addEventListener("playing", function () {
      var m = /\/speech\/([0-9a-f]+)\.wav/.exec(audio.currentSrc || audio.src || "");
      if (m && listeningUrl && body.getAttribute("data-session")) {
        post(listeningUrl, { key: m[1] }).catch(function () {});
      }
    });
  }
  function anyPlaying() {
    return voices.some(function (a) { return !a.paused && !a.ended; });
  }
  document.querySelectorAll("audio").forEach(watch);

  /* spoken prompt: play on load, "listen again" replays; a clip with data-next hands on to the
     next one when it ends (the language screen speaks each language in itself, in turn) */
  document.querySelectorAll("audio[data-next]").forEach(function (a) {
    a.addEventListener("ended", function () { play(document.getElementById(a.getAttribute("data-next"))); });
  });
  play(document.querySelector("audio.autoplay"));
  /* a spoken note stops itself at its limit: press Stop for the person (arecord stopped already) */
  document.querySelectorAll("[data-autostop]").forEach(function (b) {
    var s = parseInt(b.getAttribute("data-autostop"), 10);
    if (s >= 0) { setTimeout(function () { b.click(); }, (s + 1) * 1000); }
  });
  document.querySelectorAll("[data-play]").forEach(function (b) {
    b.addEventListener("click", function () { play(document.getElementById(b.getAttribute("data-play"))); });
  });

  /* number keypad (NIK: 16 digits, receipt code: 12), shown grouped by 4 as on the card */
  document.querySelectorAll(".keypad").forEach(function (pad) {
    var input = document.getElementById(pad.getAttribute("data-target"));
    var count = document.getElementById("nik-count");
    var max = parseInt(pad.getAttribute("data-max") || "16", 10);
    var group = parseInt(pad.getAttribute("data-group") || "0", 10);
    function digits() { return input.value.replace(/\D/g, "").slice(0, max); }
    function grouped(d) { return group ? (d.match(new RegExp(".{1," + group + "}", "g")) || []).join(" ") : d; }
    function show() {
      var d = digits();
      if (input.value !== grouped(d)) { input.value = grouped(d); }
      if (count) { count.textContent = (count.getAttribute("data-template") || "{n}").replace("{n}", String(d.length)); }
    }
    pad.addEventListener("click", function (ev) {
      var key = ev.target.closest("[data-key]");
      if (!key) { return; }
      var k = key.getAttribute("data-key"), d = digits();
      if (k === "back") { d = d.slice(0, -1); } else if (k === "clear") { d = ""; } else if (d.length < max) { d += k; }
      input.value = d;
      show();
    });
    input.addEventListener("input", show);
    show();
  });

  /* on-screen keyboard (technician password): no physical keyboard needed */
  document.querySelectorAll(".osk").forEach(function (kb) {
    var target = kb.getAttribute("data-target");
    var input = target === "@focus" ? null : document.getElementById(target);
    var caps = false;
    if (target === "@focus") {  /* types into the text field last touched in its form */
      (kb.closest("form") || document).addEventListener("focusin", function (ev) {
        var f = ev.target;
        if (f.matches && f.matches("textarea, input[type=text], input:not([type])")) {
          input = f; kb.hidden = false; document.body.classList.add("osk-open");
          f.scrollIntoView({ block: "start" });  /* above the keyboard, which covers the bottom */
        }
      });
    }
    kb.addEventListener("click", function (ev) {
      var key = ev.target.closest("[data-osk]");
      if (!key || !input) { return; }
      var k = key.getAttribute("data-osk");
      if (k === "done") { kb.hidden = true; document.body.classList.remove("osk-open"); return; }
      if (k === "shift") {
        caps = !caps; key.setAttribute("aria-pressed", caps ? "true" : "false");
        kb.querySelectorAll("[data-osk]").forEach(function (b) {
          var c = b.getAttribute("data-osk");
          if (c.length === 1 && c !== " ") { b.textContent = caps ? c.toUpperCase() : c; }
        });
        return;
      }
      if (k === "back") { input.value = input.value.slice(0, -1); } else { input.value += caps ? k.toUpperCase() : k; }
    });
  });

  /* IKD QR code shown to the camera: fills the NIK (a claim; the face check still decides) */
  var qr = document.querySelector("[data-qr-url]");
  if (qr) {
    var qrError = document.getElementById("qr-error");
    var qrAudio = document.getElementById("qr-audio");
    var qrSaid = 0;
    var qrTimer = setInterval(function () {
      getJSON(qr.getAttribute("data-qr-url")).then(function (j) {
        if (j.refused) {  /* a QR code that is not a NIK: shown and said why (once in 10 s) */
          if (qrError) { qrError.querySelector("span").textContent = j.message; qrError.hidden = false; qr.hidden = true; }
          if (j.speech && qrAudio && Date.now() - qrSaid > 10000 && !anyPlaying()) {
            qrSaid = Date.now(); qrAudio.src = j.speech; play(qrAudio);
          }
          return;
        }
        if (!j.nik) { return; }
        clearInterval(qrTimer);
        var nik = document.querySelector("input[name=nik]");
        nik.value = j.nik;
        nik.form.submit();
      }).catch(function () {});
    }, 700);
  }

  /* number stepper */
  document.querySelectorAll(".stepper").forEach(function (st) {
    var input = st.querySelector("input");
    var unit = st.querySelector(".unit");
    if (unit) {  /* "1 person", "2 people": the unit follows the number */
      input.addEventListener("input", function () {
        unit.textContent = unit.getAttribute(input.value.trim() === "1" ? "data-unit-one" : "data-unit");
      });
    }
    var lo = parseInt(st.getAttribute("data-min"), 10), hi = parseInt(st.getAttribute("data-max"), 10);
    st.querySelectorAll("[data-step]").forEach(function (b) {
      b.addEventListener("click", function () {
        var step = parseInt(b.getAttribute("data-step"), 10), v = parseInt(input.value, 10);
        /* an empty counter counts from 0: "+" gives 1 (or the minimum), "-" gives 0 only when
           0 is allowed and otherwise leaves it empty; never a number below the minimum */
        v = (isNaN(v) ? 0 : v) + step;
        if (isNaN(parseInt(input.value, 10)) && step < 0 && lo > 0) { return; }
        input.value = String(Math.max(lo, Math.min(hi, v)));
        input.dispatchEvent(new Event("input", { bubbles: true }));
      });
    });
  });

  /* scroll areas say that they scroll: a visible bar, a fade and a "more below" line */
  var cueText = body.getAttribute("data-scroll-cue") || "";
  document.querySelectorAll(".scroll-area, .consent-text, .review, .question .options").forEach(function (area) {
    var cue = document.createElement("p");
    cue.className = "scroll-cue"; cue.setAttribute("aria-hidden", "true"); cue.hidden = true;
    cue.textContent = "\u25BC " + cueText;
    area.parentNode.insertBefore(cue, area.nextSibling);
    function update() {
      var more = area.scrollHeight > area.clientHeight + 2;
      var atEnd = area.scrollTop + area.clientHeight >= area.scrollHeight - 2;
      area.classList.toggle("scrollable", more);
      area.classList.toggle("at-end", !more || atEnd);
      cue.hidden = !more || atEnd;
    }
    area.addEventListener("scroll", update, { passive: true });
    window.addEventListener("resize", update);
    update();
  });

  /* long actions: show "please wait" and stop double submits */
  document.querySelectorAll("form[data-busy-text]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      var btn = ev.submitter || form.querySelector("button[type=submit]");
      if (form.getAttribute("data-busy") === "1") { ev.preventDefault(); return; }
      if (btn && btn.getAttribute("data-no-busy")) { return; }
      form.setAttribute("data-busy", "1");
      if (btn && btn.name) {
        var keep = document.createElement("input");
        keep.type = "hidden"; keep.name = btn.name; keep.value = btn.value; form.appendChild(keep);
      }
      var msg = form.querySelector("[role=status]") || document.getElementById("coaching");
      if (msg) { msg.textContent = form.getAttribute("data-busy-text"); }
      var say = form.getAttribute("data-busy-say");
      if (say) { voices.forEach(function (a) { a.pause(); }); play(document.getElementById(say)); }
      if (btn) { btn.disabled = true; }
    });
  });

  /* attract: wake on presence */
  var wake = document.querySelector("[data-presence-url]");
  if (wake) {
    setInterval(function () {
      getJSON(wake.getAttribute("data-presence-url")).then(function (j) { if (j.present) { wake.submit(); } }).catch(function () {});
    }, 1000);
  }

  /* capture: live preview and coaching */
  var cam = document.querySelector("[data-live-url]");
  if (cam) {
    var img = document.getElementById("preview"), coach = document.getElementById("coaching");
    var lastCode = null, n = 0, voice = new Audio();
    watch(voice);
    var loading = false;
    img.addEventListener("load", function () { loading = false; });
    img.addEventListener("error", function () { loading = false; });
    setInterval(function () {
      if (!loading) { loading = true; n += 1; img.src = cam.getAttribute("data-preview-url") + "?n=" + n; }
      if (cam.hasAttribute("data-preview-only")) { return; } /* e.g. the e-KTP: no face coaching */
      getJSON(cam.getAttribute("data-live-url")).then(function (j) {
        if (j.text && coach && !document.querySelector("form[data-busy='1']")) { coach.textContent = j.text; }
        if (j.code && j.code !== lastCode && j.speech) { voice.src = j.speech; play(voice); }
        lastCode = j.code;
      }).catch(function () {});
    }, 300);
  }

  /* screens without personal data go back to the attract screen when left alone */
  var home = body.getAttribute("data-idle-home");
  if (home) {
    var idleSince = Date.now();
    document.addEventListener("pointerdown", function () { idleSince = Date.now(); });
    setInterval(function () { if (Date.now() - idleSince > 90000) { window.location.href = home; } }, 5000);
  }

  /* the receipt says where the record really is: saved on the kiosk, or sent to the office */
  var delivery = document.querySelector("[data-delivery-url]");
  if (delivery) {
    var lastDelivery = delivery.getAttribute("data-delivery");
    setInterval(function () {
      getJSON(delivery.getAttribute("data-delivery-url")).then(function (j) {
        if (!j.delivery || j.delivery === lastDelivery) { return; }
        lastDelivery = j.delivery;
        delivery.setAttribute("data-delivery", j.delivery);
        delivery.textContent = delivery.getAttribute("data-text-" + j.delivery) || delivery.textContent;
      }).catch(function () {});
    }, 2000);
  }

  /* inactivity: the server's clock decides. "Are you still there?" is shown and spoken only
     once no other prompt is playing; the page reports it when it has been said, and only then
     does the grace period run. A touch anywhere (or the big button) is "yes". */
  if (body.getAttribute("data-session")) {
    var dialog = document.getElementById("timeout-dialog");
    var secs = document.getElementById("timeout-seconds");
    var warnAudio = document.getElementById("timeout-audio");
    var lastTouch = 0, reported = false;
    var report = function () {
      if (reported) { return; }
      reported = true;
      post(body.getAttribute("data-warning-shown-url")).then(apply).catch(function () {});
    };
    var showWarning = function () {
      dialog.hidden = false;
      reported = false;
      document.getElementById("more-time").focus();
      if (!warnAudio) { report(); return; }
      warnAudio.addEventListener("ended", report, { once: true });
      warnAudio.addEventListener("error", report, { once: true });
      setTimeout(report, 20000);  /* the clip never ended (no sound device): still report */
      try {
        warnAudio.currentTime = 0;
        var p = warnAudio.play();
        if (p && p.catch) { p.catch(report); }
      } catch (e) { report(); }
    };
    var apply = function (j) {
      if (!j.active) { window.location.href = body.getAttribute("data-ended-url"); return; }
      if (secs) { secs.textContent = String(j.seconds_left); }
      if (!dialog) { return; }
      if (j.warned && dialog.hidden && !anyPlaying()) { showWarning(); }
      if (!j.warned && !dialog.hidden) {
        dialog.hidden = true;
        if (warnAudio) { warnAudio.pause(); }
      }
    };
    var touch = function () {
      lastTouch = Date.now();
      post(body.getAttribute("data-touch-url")).then(apply).catch(function () {});
    };
    var moreTime = document.getElementById("more-time");
    if (moreTime) { moreTime.addEventListener("click", touch); }
    var anyTouch = function () {
      if ((dialog && !dialog.hidden) || Date.now() - lastTouch > 5000) { touch(); }
    };
    document.addEventListener("pointerdown", anyTouch, true);
    document.addEventListener("keydown", anyTouch, true);
    setInterval(function () {
      getJSON(body.getAttribute("data-session-url")).then(apply).catch(function () {});
    }, 1000);
  }
}());
