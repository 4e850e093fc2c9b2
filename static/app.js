// Small behaviours that htmx does not cover. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  function flash(text) {
    var box = document.getElementById("flash");
    if (!box) return;
    var div = document.createElement("div");
    div.className = "alert alert-error";
    div.textContent = text;
    box.replaceChildren(div);
  }
  document.addEventListener("htmx:sendError", function () {
    flash("网络连接中断，操作未送达服务器。请检查网络后重试。");
  });
  document.addEventListener("htmx:responseError", function (evt) {
    // Our error handler already answers htmx with a fragment for #flash; this covers the rest.
    var xhr = evt.detail.xhr;
    if (!xhr || !xhr.getResponseHeader("HX-Retarget")) {
      flash("服务器暂时无法处理该请求（" + (xhr ? xhr.status : "?") + "），请稍后重试。");
    }
  });

  // Forms posted with htmx that start something new (a vote, a decision) clear themselves
  // once the server accepted them; a refused one keeps what the user typed.
  document.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.detail.elt;
    if (form && form.tagName === "FORM" && form.hasAttribute("data-reset-on-success") &&
        evt.detail.successful) {
      form.reset();
    }
  });

  // Speaking timers: elements with data-timer-since show the time elapsed since then.
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-timer-since]").forEach(function (el) {
      var since = Date.parse(el.getAttribute("data-timer-since"));
      if (isNaN(since)) return;
      var s = Math.max(0, Math.floor((now - since) / 1000));
      el.textContent = String(Math.floor(s / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSettle", tick);

  // ---- Live updates -------------------------------------------------------------------
  // The page's cursor: the seq of the last change it reflects. The socket URL carries it,
  // and every reconnect (htmx-ext-ws retries with backoff) sends the latest one, so the
  // server replays exactly what was missed.
  var live = document.getElementById("live");
  var seq = live ? parseInt(live.getAttribute("data-seq") || "0", 10) : 0;
  window.gongjianLive = { seq: function () { return seq; }, messages: 0 };

  if (window.htmx) {
    var create = htmx.createWebSocket;
    htmx.createWebSocket = function (url) {
      var u = new URL(url, location.href);
      u.searchParams.set("seq", String(seq));
      return create ? create(u.toString()) : new WebSocket(u.toString());
    };
  }

  var statusText = { live: "实时", connecting: "连接中", reconnecting: "重连中…", offline: "离线" };
  var failures = 0;
  function setStatus(state) {
    var el = document.getElementById("live-status");
    if (!el) return;
    el.setAttribute("data-state", state);
    el.textContent = statusText[state];
  }
  document.addEventListener("htmx:wsConnecting", function () {
    setStatus(failures ? "reconnecting" : "connecting");
  });
  document.addEventListener("htmx:wsOpen", function () {
    failures = 0;
    setStatus("live");
  });
  document.addEventListener("htmx:wsClose", function (evt) {
    var code = evt.detail.event && evt.detail.event.code;
    failures += 1;
    // 1008: not allowed (logged out, no permission) — htmx will not retry.
    setStatus(code === 1008 || !navigator.onLine ? "offline" : "reconnecting");
  });
  window.addEventListener("offline", function () { setStatus("offline"); });

  // Regions re-fetch themselves from the current URL (with its filters), unless the
  // user is typing in them: a half-typed form is never thrown away.
  function busy(region) {
    var active = document.activeElement;
    // Focus on a text field means the user is typing there; a focused button does not count.
    if (active && region.contains(active) &&
        (active.tagName === "TEXTAREA" || active.tagName === "SELECT" || active.isContentEditable ||
         (active.tagName === "INPUT" && !/^(button|submit|reset|checkbox|radio|hidden)$/.test(active.type)))) {
      return true;
    }
    var fields = region.querySelectorAll("input, textarea, select");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.type === "hidden") continue;
      if ((f.type === "checkbox" || f.type === "radio") ? f.checked !== f.defaultChecked
          : f.tagName === "SELECT" ? selectChanged(f)
          : f.value !== f.defaultValue) {
        return true;
      }
    }
    return false;
  }
  // A select with no `selected` option shows its first one (single) or none (multiple).
  function selectChanged(f) {
    var opts = f.options, anyDefault = false, i;
    for (i = 0; i < opts.length; i++) if (opts[i].defaultSelected) anyDefault = true;
    for (i = 0; i < opts.length; i++) {
      var byDefault = opts[i].defaultSelected || (!anyDefault && !f.multiple && i === 0);
      if (opts[i].selected !== byDefault) return true;
    }
    return false;
  }
  var timers = {};
  function refresh(id) {
    clearTimeout(timers[id]);
    timers[id] = setTimeout(function () {
      var region = document.getElementById(id);
      if (!region) return;
      if (busy(region)) {
        region.setAttribute("data-stale", "true");
        return;
      }
      // The region is the request's source: htmx queues requests per source element and
      // keeps only the last one waiting, so with the default source (the body) a change that
      // names several regions would refresh only the first and the last of them.
      htmx.ajax("GET", location.pathname + location.search, {
        source: region, target: "#" + id, select: "#" + id, swap: "outerHTML"
      });
    }, 120); // several changes in a burst: one fetch
  }
  document.addEventListener("htmx:wsAfterMessage", function () {
    var c = document.getElementById("live-cursor");
    if (!c) return;
    var n = parseInt(c.getAttribute("data-seq") || "0", 10);
    if (n > seq) seq = n;
    window.gongjianLive.messages += 1;
    var wanted = (c.getAttribute("data-refresh") || "").split(/\s+/).filter(Boolean);
    if (wanted.indexOf("*") >= 0) {
      wanted = Array.prototype.map.call(document.querySelectorAll("[data-live-region]"), function (e) { return e.id; });
    }
    wanted.forEach(function (id) {
      var el = document.getElementById(id);
      if (el && el.hasAttribute("data-live-region")) refresh(id);
    });
  });
})();
