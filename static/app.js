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
})();
