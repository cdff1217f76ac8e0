// qbsf dashboard: every same-origin fetch that changes something carries the page's CSRF token (X-CSRF-Token).
// POST forms carry it as a hidden field; see qbsf/app/dashboard/security.py.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (!meta || !window.fetch) { return; }
  var token = meta.getAttribute("content");
  var plainFetch = window.fetch;
  window.fetch = function (input, init) {
    var request = (typeof Request !== "undefined" && input instanceof Request) ? input : null;
    var options = init ? Object.assign({}, init) : {};
    var method = (options.method || (request ? request.method : "GET")).toUpperCase();
    var url = new URL(request ? request.url : String(input), window.location.href);
    if (method !== "GET" && method !== "HEAD" && method !== "OPTIONS" && url.origin === window.location.origin) {
      var headers = new Headers(options.headers || (request ? request.headers : undefined));
      headers.set("X-CSRF-Token", token);
      options.headers = headers;
    }
    return plainFetch.call(this, input, options);
  };
})();
